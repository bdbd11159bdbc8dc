package dev.regen;

import dev.regen.internal.CachedPage;
import dev.regen.internal.Header;
import dev.regen.internal.Replay;
import dev.regen.internal.http.CacheControl;
import dev.regen.internal.http.ContentCoding;
import dev.regen.internal.http.HttpDates;
import dev.regen.internal.http.HttpFields;
import dev.regen.internal.http.Vary;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Whether and how a response becomes a cached page (RFC 9111 §3 and §4.2): a pure function of the
 * config, the request path, whether the request carried credentials, the response head and the time.
 * It is asked once the head has arrived, before the body streams to the client, so that the client's
 * {@code Cache-Status} can say whether the page is being stored.
 */
final class StoragePolicy {
    private final RegenConfig config;

    StoragePolicy(RegenConfig config) {
        this.config = config;
    }

    /** The outcome for one response head. */
    sealed interface Verdict {
        /**
         * Store it (if the body fits).
         *
         * @param renderedAt  the response's time of generation: now, less the {@code Age} it arrived with
         * @param shared      the origin said explicitly that any client may have it
         */
        record Store(
                Instant renderedAt,
                Duration revalidate,
                Duration staleWindow,
                Set<String> tags,
                boolean shared,
                boolean immutable)
                implements Verdict {}

        /**
         * Don't store it.
         *
         * @param reason      for logs, {@code Cache-Status} and stats
         * @param keepOld     the origin failed (5xx): a previous page stays (stale-if-error)
         * @param shareable   the same response may be given to other waiting clients (no cookie, not
         *                    private, not an answer to credentials)
         */
        record Skip(String reason, boolean keepOld, boolean shareable) implements Verdict {}
    }

    /** Statuses cacheable by default without explicit freshness (RFC 9110 §15.1), minus 206 and 405/414/501. */
    static final Set<Integer> HEURISTICALLY_CACHEABLE = Set.of(200, 203, 204, 300, 301, 308, 404, 410);

    Verdict evaluate(String path, int status, List<Header> headers, boolean credentialed, Instant now) {
        CacheControl cc = effectiveCacheControl(headers);
        boolean setsCookie = HttpFields.has(headers, "set-cookie") || HttpFields.has(headers, "set-cookie2");
        boolean shareable = !setsCookie && !cc.isPrivate() && !credentialed;
        if (status >= 500) {
            return new Verdict.Skip("origin status " + status, true, shareable);
        }
        if (status < 200 || status == 206 || status == 304) {
            return new Verdict.Skip("status " + status + " is not a whole response", false, shareable);
        }
        if (setsCookie) {
            return new Verdict.Skip("response sets a cookie", false, false);
        }
        if (cc.forbidsSharedStorage()) {
            return new Verdict.Skip("origin cache-control forbids storing", false, shareable);
        }
        if (Vary.names(HttpFields.all(headers, "vary")).contains("*")) {
            return new Verdict.Skip("Vary: *", false, shareable);
        }
        String type = HttpFields.first(headers, "content-type");
        if (type != null && type.regionMatches(true, 0, "text/event-stream", 0, 17)) {
            return new Verdict.Skip("an event stream", false, false);
        }
        if (!ContentCoding.decodable(ContentCoding.of(HttpFields.first(headers, "content-encoding")))) {
            return new Verdict.Skip(
                    "content coding " + HttpFields.first(headers, "content-encoding") + " cannot be decoded",
                    false,
                    shareable);
        }
        boolean explicitlyShared = cc.isPublic()
                || cc.sMaxAge() != null
                || cc.mustRevalidate()
                || HttpFields.has(headers, "cdn-cache-control");
        if (credentialed && !explicitlyShared) {
            // RFC 9111 §3.5: an answer to credentials is stored only with the origin's explicit permission
            return new Verdict.Skip(
                    "credentialed request, and the origin did not mark the response public", false, false);
        }
        long declared = contentLength(headers);
        if (declared > config.maxBodyBytes()) {
            return new Verdict.Skip("body of " + declared + " bytes is over the limit", false, shareable);
        }
        Duration age = age(headers);
        Duration explicit = explicitLifetime(cc, headers, now);
        if (explicit != null && explicit.compareTo(age) <= 0) {
            return new Verdict.Skip("already stale when received (" + describe(cc, headers) + ")", false, shareable);
        }
        boolean error = status >= 400;
        if (explicit == null && !config.cacheableStatuses().contains(status)) {
            return new Verdict.Skip(
                    "status " + status + " is not cacheable without explicit freshness", false, shareable);
        }
        RouteRule route = config.routeFor(path);
        Duration revalidate;
        if (explicit != null) {
            revalidate = explicit.minus(age);
        } else if (error) {
            revalidate = config.errorRevalidate();
        } else if (route != null && route.revalidate() != null) {
            revalidate = route.revalidate();
        } else {
            revalidate = config.revalidate();
        }
        // must-revalidate: once stale it may not be served without a successful render (RFC 9111 §5.2.2.2)
        Duration staleWindow = cc.mustRevalidate()
                ? Duration.ZERO
                : cc.staleWhileRevalidate() != null ? cc.staleWhileRevalidate() : config.expire();
        Set<String> tags = new LinkedHashSet<>(HttpFields.tags(headers));
        if (route != null) {
            tags.addAll(route.tags());
        }
        return new Verdict.Store(now.minus(age), revalidate, staleWindow, tags, explicitlyShared, cc.immutable());
    }

    /** The page for a stored verdict, once the whole (decoded) body is there. */
    CachedPage page(
            Verdict.Store store, int status, List<Header> headers, byte[] body, byte[] gzipBody, Replay replay) {
        return page(store, status, headers, body, gzipBody, gzipBody != null, replay);
    }

    /**
     * The page for a stored verdict; with {@code gzipKnown}, {@code gzipBody} is final even when null (the
     * body of a page already stored, whose variant was judged then).
     */
    CachedPage page(
            Verdict.Store store,
            int status,
            List<Header> headers,
            byte[] body,
            byte[] gzipBody,
            boolean gzipKnown,
            Replay replay) {
        String etag = HttpFields.first(headers, "etag");
        if (etag == null || etag.isBlank()) {
            etag = strongEtag(body);
        }
        List<Header> replayable = HttpFields.replayable(headers);
        CachedPage page = gzipKnown
                ? new CachedPage(
                        status,
                        replayable,
                        body,
                        etag.trim(),
                        store.renderedAt(),
                        store.revalidate(),
                        store.staleWindow(),
                        store.tags(),
                        false,
                        gzipBody,
                        replay,
                        store.shared(),
                        store.immutable())
                : new CachedPage(
                        status,
                        replayable,
                        body,
                        etag.trim(),
                        store.renderedAt(),
                        store.revalidate(),
                        store.staleWindow(),
                        store.tags(),
                        false,
                        replay,
                        store.shared(),
                        store.immutable());
        return page;
    }

    /**
     * The freshness lifetime the origin gave (RFC 9111 §4.2.1): {@code s-maxage}, else {@code max-age},
     * else {@code Expires} minus {@code Date}; null when it gave none. An invalid {@code Expires} means
     * already expired (§5.3).
     */
    static Duration explicitLifetime(CacheControl cc, List<Header> headers, Instant now) {
        Duration maxAge = cc.sharedMaxAge();
        if (maxAge != null) {
            return maxAge;
        }
        String expires = HttpFields.first(headers, "expires");
        if (expires == null) {
            return null;
        }
        Instant at = HttpDates.parse(expires);
        if (at == null) {
            return Duration.ZERO;
        }
        Instant date = HttpDates.parse(HttpFields.first(headers, "date"));
        return Duration.between(date != null ? date : now, at);
    }

    /** The {@code Age} the response arrived with (RFC 9111 §5.1), zero when absent or invalid. */
    private static Duration age(List<Header> headers) {
        String age = HttpFields.first(headers, "age");
        if (age == null) {
            return Duration.ZERO;
        }
        try {
            return Duration.ofSeconds(Math.max(0, Long.parseLong(age.trim())));
        } catch (NumberFormatException e) {
            return Duration.ZERO;
        }
    }

    private static long contentLength(List<Header> headers) {
        String v = HttpFields.first(headers, "content-length");
        if (v == null) {
            return -1;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static String describe(CacheControl cc, List<Header> headers) {
        if (cc.sharedMaxAge() != null) {
            return (cc.sMaxAge() != null ? "s-maxage=" : "max-age=")
                    + cc.sharedMaxAge().toSeconds();
        }
        return "Expires: " + HttpFields.first(headers, "expires");
    }

    /**
     * A {@code CDN-Cache-Control} field is aimed at us and, when present, replaces Cache-Control for
     * storage decisions (RFC 9213 §2.1); its max-age is our s-maxage.
     */
    static CacheControl effectiveCacheControl(List<Header> headers) {
        String targeted = HttpFields.first(headers, "cdn-cache-control");
        if (targeted != null) {
            CacheControl cdn = CacheControl.parse(targeted);
            Duration age = cdn.sMaxAge() != null ? cdn.sMaxAge() : cdn.maxAge();
            return new CacheControl(
                    age,
                    cdn.maxAge(),
                    cdn.staleWhileRevalidate(),
                    cdn.noStore(),
                    cdn.noCache(),
                    cdn.isPrivate(),
                    cdn.isPublic(),
                    cdn.mustRevalidate(),
                    cdn.immutable());
        }
        return CacheControl.parse(String.join(",", HttpFields.all(headers, "cache-control")));
    }

    static String strongEtag(byte[] body) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(body);
            StringBuilder sb = new StringBuilder(34).append('"');
            for (int i = 0; i < 12; i++) {
                sb.append(Character.forDigit((digest[i] >> 4) & 0xf, 16))
                        .append(Character.forDigit(digest[i] & 0xf, 16));
            }
            return sb.append('"').toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }
}
