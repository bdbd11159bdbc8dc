package dev.regen;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The engine's settings as finished, validated values. Files, flags and environment are parsed by the
 * edges (server, servlet); every constructor check names the field it rejects.
 *
 * @param host               public host: part of every cache key, sent to the origin as X-Forwarded-Host
 * @param scheme             public scheme, sent to the origin as X-Forwarded-Proto
 * @param revalidate         default revalidate time for pages without an origin header or route rule
 * @param expire             how long after turning stale a page may still be served; null = forever
 * @param cacheableStatuses  origin statuses that may be stored
 * @param maxBodyBytes       larger bodies are passed through but never stored
 * @param query              which query parameters identify a page
 * @param routes             first match wins
 * @param renderTimeout      a render taking longer fails (504 on a miss, stale kept otherwise)
 * @param backgroundRenders  how many background renders run at once
 * @param backgroundQueue    how many more may wait; beyond it a stale hit does not queue a render
 * @param bypassToken        preview token (header X-Regen-Bypass or cookie regen_bypass), or null
 */
public record RegenConfig(
        String host,
        String scheme,
        Duration revalidate,
        Duration expire,
        Set<Integer> cacheableStatuses,
        long maxBodyBytes,
        QueryPolicy query,
        List<RouteRule> routes,
        Duration renderTimeout,
        int backgroundRenders,
        int backgroundQueue,
        String bypassToken) {

    public RegenConfig {
        requireText(host, "host");
        if (host.contains("/") || host.contains(" ")) {
            throw new IllegalArgumentException("host must be a bare host name (and port): " + host);
        }
        if (!"http".equals(scheme) && !"https".equals(scheme)) {
            throw new IllegalArgumentException("scheme must be http or https: " + scheme);
        }
        requirePositive(revalidate, "revalidate");
        if (expire != null) {
            requirePositive(expire, "expire");
        }
        cacheableStatuses = Set.copyOf(Objects.requireNonNull(cacheableStatuses, "cacheableStatuses"));
        for (int s : cacheableStatuses) {
            if (s < 200 || s > 599) {
                throw new IllegalArgumentException("cacheable status must be 200..599: " + s);
            }
        }
        if (maxBodyBytes <= 0) {
            throw new IllegalArgumentException("maxBodyBytes must be positive: " + maxBodyBytes);
        }
        Objects.requireNonNull(query, "query");
        routes = List.copyOf(Objects.requireNonNull(routes, "routes"));
        requirePositive(renderTimeout, "timeouts.render");
        if (backgroundRenders < 1) {
            throw new IllegalArgumentException("backgroundRenders must be at least 1: " + backgroundRenders);
        }
        if (backgroundQueue < 0) {
            throw new IllegalArgumentException("backgroundQueue must not be negative: " + backgroundQueue);
        }
        if (bypassToken != null && bypassToken.isBlank()) {
            bypassToken = null;
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /** The first route rule whose glob matches {@code path}, or null. */
    public RouteRule routeFor(String path) {
        for (RouteRule r : routes) {
            if (r.matches(path)) {
                return r;
            }
        }
        return null;
    }

    private static void requireText(String s, String field) {
        if (s == null || s.isBlank()) {
            throw new IllegalArgumentException(field + " must not be empty");
        }
    }

    private static void requirePositive(Duration d, String field) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(field + " must be positive: " + (d == null ? "null" : d.toMillis() + " ms"));
        }
    }

    /** Defaults as documented in DESIGN.md. */
    public static final class Builder {
        private String host = "localhost";
        private String scheme = "http";
        private Duration revalidate = Duration.ofSeconds(60);
        private Duration expire;
        private Set<Integer> cacheableStatuses = Set.of(200);
        private long maxBodyBytes = 8L * 1024 * 1024;
        private QueryPolicy query = QueryPolicy.IGNORE_TRACKING;
        private List<RouteRule> routes = List.of();
        private Duration renderTimeout = Duration.ofSeconds(30);
        private int backgroundRenders = 8;
        private int backgroundQueue = 1000;
        private String bypassToken;

        Builder() {
        }

        Builder(RegenConfig c) {
            host = c.host;
            scheme = c.scheme;
            revalidate = c.revalidate;
            expire = c.expire;
            cacheableStatuses = c.cacheableStatuses;
            maxBodyBytes = c.maxBodyBytes;
            query = c.query;
            routes = c.routes;
            renderTimeout = c.renderTimeout;
            backgroundRenders = c.backgroundRenders;
            backgroundQueue = c.backgroundQueue;
            bypassToken = c.bypassToken;
        }

        public Builder host(String v) { host = v; return this; }
        public Builder scheme(String v) { scheme = v; return this; }
        public Builder revalidate(Duration v) { revalidate = v; return this; }
        public Builder expire(Duration v) { expire = v; return this; }
        public Builder cacheableStatuses(Set<Integer> v) { cacheableStatuses = v; return this; }
        public Builder maxBodyBytes(long v) { maxBodyBytes = v; return this; }
        public Builder query(QueryPolicy v) { query = v; return this; }
        public Builder routes(List<RouteRule> v) { routes = v; return this; }
        public Builder renderTimeout(Duration v) { renderTimeout = v; return this; }
        public Builder backgroundRenders(int v) { backgroundRenders = v; return this; }
        public Builder backgroundQueue(int v) { backgroundQueue = v; return this; }
        public Builder bypassToken(String v) { bypassToken = v; return this; }

        public RegenConfig build() {
            return new RegenConfig(host, scheme, revalidate, expire, cacheableStatuses, maxBodyBytes, query,
                    routes, renderTimeout, backgroundRenders, backgroundQueue, bypassToken);
        }
    }
}
