package dev.regen;

import dev.regen.http.CacheControl;
import dev.regen.http.HttpFields;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Whether and how a rendered response becomes a cached page: a pure function of the config, the
 * request path, the response and the render time.
 */
final class StoragePolicy {
    private final RegenConfig config;

    StoragePolicy(RegenConfig config) {
        this.config = config;
    }

    /** The outcome for one rendered response. */
    sealed interface Verdict {
        /** Store it. */
        record Store(CachedPage page) implements Verdict { }

        /**
         * Don't store it.
         *
         * @param reason      for logs and stats
         * @param keepOld     the origin failed (5xx): a previous page stays (stale-if-error)
         * @param shareable   the same response may be sent to every waiting client
         */
        record Skip(String reason, boolean keepOld, boolean shareable) implements Verdict { }
    }

    Verdict evaluate(String path, OriginResponse response, Instant renderedAt) {
        int status = response.status();
        CacheControl cc = effectiveCacheControl(response);
        boolean setsCookie = HttpFields.has(response.headers(), "set-cookie")
                || HttpFields.has(response.headers(), "set-cookie2");
        boolean shareable = !setsCookie && !cc.isPrivate();
        if (status >= 500) {
            return new Verdict.Skip("origin status " + status, true, shareable);
        }
        if (!config.cacheableStatuses().contains(status)) {
            return new Verdict.Skip("status " + status + " is not cacheable", false, shareable);
        }
        if (setsCookie) {
            return new Verdict.Skip("response sets a cookie", false, false);
        }
        if (cc.forbidsSharedStorage()) {
            return new Verdict.Skip("origin cache-control forbids storing", false, shareable);
        }
        String vary = response.header("vary");
        if (vary != null && vary.trim().equals("*")) {
            return new Verdict.Skip("Vary: *", false, shareable);
        }
        if (response.body().length > config.maxBodyBytes()) {
            return new Verdict.Skip("body of " + response.body().length + " bytes is over the limit", false, shareable);
        }
        RouteRule route = config.routeFor(path);
        Duration revalidate = revalidate(cc, route);
        if (revalidate.isZero() || revalidate.isNegative()) {
            return new Verdict.Skip("s-maxage=0", false, shareable);
        }
        Duration staleWindow = cc.staleWhileRevalidate() != null ? cc.staleWhileRevalidate() : config.expire();
        Set<String> tags = new LinkedHashSet<>(HttpFields.tags(response.headers()));
        if (route != null) {
            tags.addAll(route.tags());
        }
        String etag = response.header("etag");
        if (etag == null || etag.isBlank()) {
            etag = strongEtag(response.body());
        }
        return new Verdict.Store(new CachedPage(status, HttpFields.replayable(response.headers()), response.body(),
                etag.trim(), renderedAt, revalidate, staleWindow, tags, false));
    }

    /** DESIGN.md order: origin header, then route rule, then the default. */
    private Duration revalidate(CacheControl cc, RouteRule route) {
        if (cc.sMaxAge() != null) {
            return cc.sMaxAge();
        }
        if (route != null && route.revalidate() != null) {
            return route.revalidate();
        }
        return config.revalidate();
    }

    /**
     * A {@code CDN-Cache-Control} field is aimed at us and, when present, replaces Cache-Control for
     * storage decisions (RFC 9213 §2.1); its max-age is our s-maxage.
     */
    static CacheControl effectiveCacheControl(OriginResponse response) {
        String targeted = response.header("cdn-cache-control");
        if (targeted != null) {
            CacheControl cdn = CacheControl.parse(targeted);
            Duration age = cdn.sMaxAge() != null ? cdn.sMaxAge() : cdn.maxAge();
            return new CacheControl(age, cdn.maxAge(), cdn.staleWhileRevalidate(), cdn.noStore(), cdn.noCache(),
                    cdn.isPrivate());
        }
        return CacheControl.parse(String.join(",", values(response, "cache-control")));
    }

    private static java.util.List<String> values(OriginResponse response, String name) {
        java.util.List<String> out = new java.util.ArrayList<>();
        for (Header h : response.headers()) {
            if (h.is(name)) {
                out.add(h.value());
            }
        }
        return out;
    }

    static String strongEtag(byte[] body) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(body);
            StringBuilder sb = new StringBuilder(34).append('"');
            for (int i = 0; i < 12; i++) {
                sb.append(Character.forDigit((digest[i] >> 4) & 0xf, 16)).append(Character.forDigit(digest[i] & 0xf, 16));
            }
            return sb.append('"').toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }
}
