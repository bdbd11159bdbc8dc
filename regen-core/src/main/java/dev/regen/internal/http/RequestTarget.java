package dev.regen.internal.http;

import dev.regen.QueryPolicy;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The canonical form of a request target: what identifies a page in the cache and what is sent to the
 * origin when rendering it, so that two spellings of one page are one entry and one entry is never two
 * pages.
 *
 * <p>Rules: the scheme and authority of an absolute-form target are ignored (the key's host comes from
 * config, never from the client); percent-encodings of unreserved characters are decoded and all
 * others use upper-case hex (RFC 3986 §6.2.2); other characters outside the path/query alphabet are
 * percent-encoded; runs of {@code /} collapse; dot segments are removed (RFC 3986 §5.2.4, clamped at
 * the root). Path case is kept: {@code /A} and {@code /a} are different pages, as on most origins.
 * An encoded slash, backslash or NUL, a malformed escape or a control character is refused.
 *
 * @param path    the canonical path, starting with {@code /}
 * @param query   the canonical query without {@code ?}, or empty
 * @param unkeyed parameters sent to the origin but not part of the key (e.g. a framework's
 *                cache-busting parameter), in the order received, or empty
 */
public record RequestTarget(String path, String query, String unkeyed) {

    public RequestTarget(String path, String query) {
        this(path, query, "");
    }

    /**
     * Parses a request target as received on the wire (origin-form or absolute-form). Characters up
     * to U+00FF stand for the raw bytes of the request line, as Netty decodes it; others are UTF-8 encoded.
     */
    public static RequestTarget parse(String raw, QueryPolicy policy) {
        return parse(raw, policy, java.util.Set.of());
    }

    /**
     * As {@link #parse(String, QueryPolicy)}, with {@code unkeyedParams} (decoded names) kept apart:
     * forwarded to the origin, never part of the key.
     */
    public static RequestTarget parse(String raw, QueryPolicy policy, java.util.Set<String> unkeyedParams) {
        if (raw == null || raw.isEmpty()) {
            throw new InvalidTargetException("empty request target");
        }
        String target = raw;
        if (!target.startsWith("/")) {
            int scheme = target.indexOf("://");
            if (scheme <= 0) {
                throw new InvalidTargetException("request target must start with /");
            }
            int slash = target.indexOf('/', scheme + 3);
            int question = target.indexOf('?', scheme + 3);
            int cut = slash < 0 ? question : (question < 0 ? slash : Math.min(slash, question));
            target = cut < 0 ? "/" : (target.charAt(cut) == '?' ? "/" + target.substring(cut) : target.substring(cut));
        }
        int hash = target.indexOf('#');
        if (hash >= 0) {
            target = target.substring(0, hash);
        }
        int q = target.indexOf('?');
        String rawPath = q < 0 ? target : target.substring(0, q);
        String rawQuery = q < 0 ? "" : target.substring(q + 1);
        if (unkeyedParams.isEmpty() || rawQuery.isEmpty()) {
            return new RequestTarget(canonicalPath(rawPath), canonicalQuery(rawQuery, policy), "");
        }
        StringBuilder keyed = new StringBuilder(rawQuery.length());
        StringBuilder unkeyed = new StringBuilder();
        for (String part : rawQuery.split("&", -1)) {
            if (part.isEmpty()) {
                continue;
            }
            String text = normaliseEncoding(part, false);
            int eq = text.indexOf('=');
            StringBuilder to =
                    unkeyedParams.contains(decodeForMatch(eq < 0 ? text : text.substring(0, eq))) ? unkeyed : keyed;
            if (to.length() > 0) {
                to.append('&');
            }
            to.append(text);
        }
        return new RequestTarget(canonicalPath(rawPath), canonicalQuery(keyed.toString(), policy), unkeyed.toString());
    }

    /** The origin-form of a raw target (RFC 9112 §3.2): an absolute-form target loses its scheme and authority. */
    public static String originForm(String raw) {
        if (raw.startsWith("/") || raw.equals("*")) {
            return raw;
        }
        int scheme = raw.indexOf("://");
        if (scheme <= 0) {
            return raw;
        }
        int slash = raw.indexOf('/', scheme + 3);
        int question = raw.indexOf('?', scheme + 3);
        int cut = slash < 0 ? question : (question < 0 ? slash : Math.min(slash, question));
        if (cut < 0) {
            return "/";
        }
        return raw.charAt(cut) == '?' ? "/" + raw.substring(cut) : raw.substring(cut);
    }

    /** Path and query as sent to the origin: the key's, plus the unkeyed parameters. */
    public String forwardTarget() {
        if (unkeyed.isEmpty()) {
            return pathAndQuery();
        }
        return path + "?" + (query.isEmpty() ? unkeyed : query + "&" + unkeyed);
    }

    /** Path and query as sent to the origin and used in cache keys. */
    public String pathAndQuery() {
        return query.isEmpty() ? path : path + "?" + query;
    }

    @Override
    public String toString() {
        return pathAndQuery();
    }

    static String canonicalPath(String raw) {
        String encoded = normaliseEncoding(raw, true);
        List<String> segments = new ArrayList<>();
        for (String segment : encoded.split("/", -1)) {
            switch (segment) {
                case "", "." -> {}
                case ".." -> {
                    if (!segments.isEmpty()) {
                        segments.remove(segments.size() - 1);
                    }
                }
                default -> segments.add(segment);
            }
        }
        StringBuilder out = new StringBuilder(encoded.length() + 1);
        for (String s : segments) {
            out.append('/').append(s);
        }
        // a trailing slash is significant to most origins (/blog/ vs /blog); keep it, once
        boolean trailing = encoded.endsWith("/") || encoded.endsWith("/.") || encoded.endsWith("/..");
        if (out.length() == 0 || trailing) {
            out.append('/');
        }
        return out.toString();
    }

    static String canonicalQuery(String raw, QueryPolicy policy) {
        if (raw.isEmpty() || policy.mode() == QueryPolicy.Mode.NONE) {
            return "";
        }
        record Param(String name, String text) {}
        List<Param> params = new ArrayList<>();
        for (String part : raw.split("&", -1)) {
            if (part.isEmpty()) {
                continue;
            }
            String text = normaliseEncoding(part, false);
            int eq = text.indexOf('=');
            String name = eq < 0 ? text : text.substring(0, eq);
            if (policy.keeps(decodeForMatch(name))) {
                params.add(new Param(name, text));
            }
        }
        // stable: repeated parameters keep their relative order, which may carry meaning
        params.sort(Comparator.comparing(Param::name));
        StringBuilder out = new StringBuilder(raw.length());
        for (Param p : params) {
            if (out.length() > 0) {
                out.append('&');
            }
            out.append(p.text());
        }
        return out.toString();
    }

    private static String normaliseEncoding(String raw, boolean inPath) {
        StringBuilder out = new StringBuilder(raw.length() + 8);
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                if (i + 2 >= raw.length()) {
                    throw new InvalidTargetException("malformed percent-encoding in " + describe(raw));
                }
                int hi = Character.digit(raw.charAt(i + 1), 16);
                int lo = Character.digit(raw.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    throw new InvalidTargetException("malformed percent-encoding in " + describe(raw));
                }
                int b = hi * 16 + lo;
                if (inPath && (b == '/' || b == '\\')) {
                    throw new InvalidTargetException("encoded slash in path " + describe(raw));
                }
                if (b == 0) {
                    throw new InvalidTargetException("encoded NUL in " + describe(raw), true);
                }
                if (isUnreserved(b)) {
                    out.append((char) b);
                } else {
                    appendEscape(out, b);
                }
                i += 2;
            } else if (c < 0x20 || c == 0x7f) {
                throw new InvalidTargetException("control character in request target", true);
            } else if (c == '\\') {
                throw new InvalidTargetException("backslash in request target");
            } else if (c < 0x80 && isAllowed(c, inPath)) {
                out.append(c);
            } else if (c < 0x100) {
                // Netty hands raw bytes over as ISO-8859-1 chars: encode the byte itself
                appendEscape(out, c);
            } else {
                for (byte b : String.valueOf(c).getBytes(StandardCharsets.UTF_8)) {
                    appendEscape(out, b & 0xff);
                }
            }
        }
        return out.toString();
    }

    private static String decodeForMatch(String name) {
        if (name.indexOf('%') < 0 && name.indexOf('+') < 0) {
            return name;
        }
        try {
            return java.net.URLDecoder.decode(name, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return name;
        }
    }

    private static boolean isUnreserved(int c) {
        return (c >= 'a' && c <= 'z')
                || (c >= 'A' && c <= 'Z')
                || (c >= '0' && c <= '9')
                || c == '-'
                || c == '.'
                || c == '_'
                || c == '~';
    }

    private static boolean isAllowed(char c, boolean inPath) {
        if (isUnreserved(c)) {
            return true;
        }
        // sub-delims, ':' and '@' (RFC 3986 pchar), '/' in paths, '/' and '?' in queries
        return "!$&'()*+,;=:@/".indexOf(c) >= 0 || (!inPath && c == '?');
    }

    private static void appendEscape(StringBuilder out, int b) {
        out.append('%')
                .append(Character.toUpperCase(Character.forDigit(b >> 4, 16)))
                .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
    }

    private static String describe(String raw) {
        return raw.length() > 80 ? raw.substring(0, 80) + "…" : raw;
    }

    /**
     * A request target that cannot be mapped to exactly one page. Refused ones (control characters,
     * NUL) are answered 400; others may still be relayed to the origin uncached.
     */
    public static final class InvalidTargetException extends IllegalArgumentException {
        private final boolean refused;

        public InvalidTargetException(String message) {
            this(message, false);
        }

        public InvalidTargetException(String message, boolean refused) {
            super(message);
            this.refused = refused;
        }

        /** Whether no one should see this target, the origin included. */
        public boolean refused() {
            return refused;
        }
    }
}
