package dev.regen.internal.http;

import java.time.Duration;
import java.util.Locale;

/**
 * The directives of a {@code Cache-Control} (or {@code CDN-Cache-Control}) response field that a shared
 * cache acts on (RFC 9111 §5.2.2, RFC 5861, RFC 8246, RFC 9213). Unknown directives are ignored; a
 * malformed value of a known one is treated as absent.
 */
public record CacheControl(
        Duration sMaxAge,
        Duration maxAge,
        Duration staleWhileRevalidate,
        boolean noStore,
        boolean noCache,
        boolean isPrivate,
        boolean isPublic,
        boolean mustRevalidate,
        boolean immutable) {

    public static final CacheControl EMPTY =
            new CacheControl(null, null, null, false, false, false, false, false, false);

    /** Parses one field value; null or blank gives {@link #EMPTY}. */
    public static CacheControl parse(String value) {
        if (value == null || value.isBlank()) {
            return EMPTY;
        }
        Duration sMaxAge = null, maxAge = null, swr = null;
        boolean noStore = false, noCache = false, priv = false, pub = false, mustRevalidate = false, immutable = false;
        for (String part : splitDirectives(value)) {
            String directive = part.trim();
            if (directive.isEmpty()) {
                continue;
            }
            int eq = directive.indexOf('=');
            String name =
                    (eq < 0 ? directive : directive.substring(0, eq)).trim().toLowerCase(Locale.ROOT);
            String arg = eq < 0 ? null : unquote(directive.substring(eq + 1).trim());
            switch (name) {
                case "s-maxage" -> sMaxAge = seconds(arg);
                case "max-age" -> maxAge = seconds(arg);
                case "stale-while-revalidate" -> swr = seconds(arg);
                case "no-store" -> noStore = true;
                // no-cache with field names only restricts those fields (RFC 9111 §5.2.2.4)
                case "no-cache" -> noCache |= arg == null;
                // private with field names only restricts those fields (RFC 9111 §5.2.2.7)
                case "private" -> priv |= arg == null;
                case "public" -> pub = true;
                // proxy-revalidate is must-revalidate for shared caches (RFC 9111 §5.2.2.8)
                case "must-revalidate", "proxy-revalidate" -> mustRevalidate = true;
                case "immutable" -> immutable = true;
                default -> {}
            }
        }
        return new CacheControl(sMaxAge, maxAge, swr, noStore, noCache, priv, pub, mustRevalidate, immutable);
    }

    /**
     * The freshness lifetime a shared cache reads from this field (RFC 9111 §4.2.1): {@code s-maxage},
     * else {@code max-age}; null when neither is given.
     */
    public Duration sharedMaxAge() {
        return sMaxAge != null ? sMaxAge : maxAge;
    }

    /** True when a shared cache must not store the response. */
    public boolean forbidsSharedStorage() {
        return noStore || isPrivate || noCache;
    }

    private static Iterable<String> splitDirectives(String value) {
        // commas inside quoted strings (e.g. no-cache="a, b") don't separate directives
        java.util.List<String> parts = new java.util.ArrayList<>();
        boolean quoted = false;
        int start = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            } else if (c == ',' && !quoted) {
                parts.add(value.substring(start, i));
                start = i + 1;
            }
        }
        parts.add(value.substring(start));
        return parts;
    }

    private static String unquote(String s) {
        return s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"") ? s.substring(1, s.length() - 1) : s;
    }

    private static Duration seconds(String arg) {
        if (arg == null || arg.isEmpty()) {
            return null;
        }
        for (int i = 0; i < arg.length(); i++) {
            if (arg.charAt(i) < '0' || arg.charAt(i) > '9') {
                return null;
            }
        }
        // RFC 9111 §1.2.2: a delta-seconds too large to represent means "as large as can be"
        return arg.length() > 10 ? Duration.ofSeconds(Integer.MAX_VALUE) : Duration.ofSeconds(Long.parseLong(arg));
    }
}
