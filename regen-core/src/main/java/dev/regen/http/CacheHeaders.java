package dev.regen.http;

import dev.regen.CacheStatus;
import dev.regen.CachedPage;
import java.time.Instant;
import java.util.Locale;
import java.util.Set;

/**
 * The cache's own response fields, as DESIGN.md fixes them for every edge, and the conditional
 * request rule for cached pages. Same values as the proxy's.
 */
public final class CacheHeaders {
    private CacheHeaders() {
    }

    public static final String X_CACHE_STATUS = "X-Cache-Status";
    public static final String CACHE_STATUS = "Cache-Status";
    public static final String UNSTORED_MISS = "regen; fwd=uri-miss; stored=false";

    /** Fields a 304 carries over from the 200 it stands for (RFC 9110 §15.4.5). */
    private static final Set<String> ON_304 = Set.of("cache-control", "content-location", "expires", "vary");

    /** {@code Cache-Status} (RFC 9211) of a cached page served with {@code status}. */
    public static String forPage(CachedPage page, CacheStatus status, Instant now) {
        return switch (status) {
            case HIT -> "regen; hit; ttl=" + page.ttlSeconds(now);
            case STALE -> "regen; hit; fwd=stale";
            default -> "regen; fwd=uri-miss; stored=true";
        };
    }

    /** {@code Cache-Status} of a response the app produced for this client and nothing stored. */
    public static String forPassThrough(CacheStatus status, String fwd) {
        return status == CacheStatus.BYPASS ? "regen; fwd=" + fwd : UNSTORED_MISS;
    }

    public static boolean keptOn304(String name) {
        return ON_304.contains(name.toLowerCase(Locale.ROOT));
    }

    /** Whether {@code If-None-Match} matches {@code etag}, using the weak comparison it calls for (RFC 9110 §13.1.2). */
    public static boolean noneMatch(String ifNoneMatch, String etag) {
        if (ifNoneMatch == null) {
            return false;
        }
        if (ifNoneMatch.trim().equals("*")) {
            return true;
        }
        String ours = opaque(etag);
        for (String candidate : ifNoneMatch.split(",")) {
            if (opaque(candidate.trim()).equals(ours)) {
                return true;
            }
        }
        return false;
    }

    /** The {@code Vary} value of a page that has a gzip variant: the origin's, plus Accept-Encoding. */
    public static String varyWithAcceptEncoding(String vary) {
        if (vary == null || vary.isBlank()) {
            return "Accept-Encoding";
        }
        for (String token : vary.split(",")) {
            String t = token.trim();
            if (t.equalsIgnoreCase("accept-encoding") || t.equals("*")) {
                return vary;
            }
        }
        return vary + ", Accept-Encoding";
    }

    private static String opaque(String tag) {
        return tag.startsWith("W/") ? tag.substring(2) : tag;
    }
}
