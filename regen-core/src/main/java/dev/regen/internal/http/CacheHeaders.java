package dev.regen.internal.http;

import dev.regen.CacheStatus;
import dev.regen.internal.CachedPage;
import java.time.Instant;
import java.util.Locale;
import java.util.Set;

/**
 * The cache's own response fields, as DESIGN.md fixes them for every edge, and the conditional
 * request rule for cached pages. Same values as the proxy's.
 */
public final class CacheHeaders {
    private CacheHeaders() {}

    public static final String X_CACHE_STATUS = "X-Cache-Status";
    public static final String CACHE_STATUS = "Cache-Status";
    public static final String UNSTORED_MISS = "regen; fwd=uri-miss; stored=false";

    /** Fields a 304 carries over from the 200 it stands for (RFC 9110 §15.4.5). */
    private static final Set<String> ON_304 = Set.of("cache-control", "content-location", "expires", "vary");

    /** {@code Cache-Status} (RFC 9211) of a cached page served with {@code status}. */
    public static String forPage(CachedPage page, CacheStatus status, Instant now) {
        return forPage(page, status, now, false);
    }

    /** As {@link #forPage(CachedPage, CacheStatus, Instant)}; {@code collapsed}: it waited on another request's render. */
    public static String forPage(CachedPage page, CacheStatus status, Instant now, boolean collapsed) {
        return switch (status) {
            case HIT -> "regen; hit; ttl=" + page.ttlSeconds(now);
            case STALE -> "regen; hit; fwd=stale";
            default -> collapsed ? "regen; fwd=uri-miss; stored=true; collapsed" : "regen; fwd=uri-miss; stored=true";
        };
    }

    /**
     * {@code Cache-Status} of a forwarded request (RFC 9211 §2.2–2.7).
     *
     * @param fwd    why it went to the origin: {@code uri-miss}, {@code vary-miss}, {@code bypass}, {@code method}
     * @param stored whether the response is being stored, or null when storing was never possible
     * @param detail a short reason, or null
     */
    public static String forForward(String fwd, Boolean stored, String detail) {
        StringBuilder b = new StringBuilder(64).append("regen; fwd=").append(fwd);
        if (stored != null) {
            b.append("; stored=").append(stored);
        }
        if (detail != null) {
            b.append("; detail=\"");
            for (int i = 0; i < detail.length(); i++) {
                char c = detail.charAt(i);
                if (c == '"' || c == '\\') {
                    b.append('\\');
                }
                // an sf-string holds printable ASCII only
                b.append(c >= 0x20 && c < 0x7f ? c : '?');
            }
            b.append('"');
        }
        return b.toString();
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
        for (String candidate : ifNoneMatch.split(",", -1)) {
            // empty list elements are ignored (RFC 9110 §5.6.1), so "" never matches an empty ETag
            if (!candidate.isBlank() && opaque(candidate.trim()).equals(ours)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether a conditional GET is answered 304 (RFC 9110 §13.1.2, §13.1.3, §13.2.2): {@code If-None-Match}
     * when present, else {@code If-Modified-Since} against the page's {@code Last-Modified}.
     */
    public static boolean notModified(String ifNoneMatch, String ifModifiedSince, String etag, String lastModified) {
        if (ifNoneMatch != null) {
            return noneMatch(ifNoneMatch, etag);
        }
        if (ifModifiedSince == null || lastModified == null) {
            return false;
        }
        java.time.Instant since = HttpDates.parse(ifModifiedSince);
        java.time.Instant modified = HttpDates.parse(lastModified);
        return since != null && modified != null && !modified.isAfter(since);
    }

    /** The {@code Vary} value of a page that has a gzip variant: the origin's, plus Accept-Encoding. */
    public static String varyWithAcceptEncoding(String vary) {
        if (vary == null || vary.isBlank()) {
            return "Accept-Encoding";
        }
        for (String token : vary.split(",", -1)) {
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
