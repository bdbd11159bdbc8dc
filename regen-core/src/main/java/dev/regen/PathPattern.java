package dev.regen;

import dev.regen.internal.http.RequestTarget;

/**
 * Which cached pages an on-demand revalidation path names, matched against canonical path-and-query
 * strings, so {@code /blog//a} in a webhook finds the page cached for {@code /blog/a}.
 */
record PathPattern(String path, String query, boolean subtree) {

    static PathPattern parse(String raw, QueryPolicy policy) {
        if (raw == null || !raw.startsWith("/")) {
            throw new RequestTarget.InvalidTargetException("path must start with /: " + raw);
        }
        boolean subtree = raw.endsWith("/**");
        String base = subtree ? raw.substring(0, raw.length() - 3) : raw;
        RequestTarget t = RequestTarget.parse(base.isEmpty() ? "/" : base, policy);
        if (subtree && raw.contains("?")) {
            throw new RequestTarget.InvalidTargetException("a subtree path takes no query: " + raw);
        }
        return new PathPattern(t.path(), raw.contains("?") ? t.query() : null, subtree);
    }

    /** A prefix of every matching path-and-query, for a store listing. */
    String listPrefix() {
        return path;
    }

    /**
     * Prefixes of every matching key ({@code path-and-query @host...}), as narrow as the pattern
     * allows: an exact path names its own keys only, so a store that shards by path (Redis Cluster)
     * asks one shard, not every one.
     */
    java.util.List<String> keyPrefixes() {
        if (subtree) {
            return java.util.List.of(path);
        }
        if (query == null) {
            return java.util.List.of(path + " ", path + "?");
        }
        return java.util.List.of(query.isEmpty() ? path + " " : path + "?" + query + " ");
    }

    boolean matches(String pathAndQuery) {
        if (!pathAndQuery.startsWith(path)) {
            return false;
        }
        String rest = pathAndQuery.substring(path.length());
        if (subtree) {
            return rest.isEmpty() || rest.startsWith("?") || rest.startsWith("/") || path.endsWith("/");
        }
        if (query != null) {
            return query.isEmpty() ? rest.isEmpty() : rest.equals("?" + query);
        }
        return rest.isEmpty() || rest.startsWith("?");
    }
}
