package dev.regen;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A rendered page as the cache keeps it. Immutable; the body array is shared and never mutated.
 *
 * @param status       origin status (one of the cacheable statuses)
 * @param headers      the origin headers worth replaying (hop-by-hop and per-message fields removed)
 * @param body         the exact bytes the origin sent
 * @param etag         the origin's ETag, or one derived from the body
 * @param renderedAt   when the origin produced it
 * @param revalidate   fresh while {@code age < revalidate}
 * @param staleWindow  how long after turning stale it may still be served; null = forever
 * @param tags         from Cache-Tag / Surrogate-Key and route rules
 * @param invalidated  marked stale on demand (soft revalidation) before its time
 * @param gzipBody     the body gzip-compressed, made once when the page is rendered or loaded; null when
 *                     not worth it (small, incompressible, or already encoded by the origin)
 */
public record CachedPage(
        int status,
        List<Header> headers,
        byte[] body,
        String etag,
        Instant renderedAt,
        Duration revalidate,
        Duration staleWindow,
        Set<String> tags,
        boolean invalidated,
        byte[] gzipBody) {

    public CachedPage {
        headers = List.copyOf(headers);
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(etag, "etag");
        Objects.requireNonNull(renderedAt, "renderedAt");
        Objects.requireNonNull(revalidate, "revalidate");
        tags = Set.copyOf(tags);
    }

    /** A page with its gzip variant made from {@code body} when that is worth it. */
    public CachedPage(int status, List<Header> headers, byte[] body, String etag, Instant renderedAt,
                      Duration revalidate, Duration staleWindow, Set<String> tags, boolean invalidated) {
        this(status, headers, body, etag, renderedAt, revalidate, staleWindow, tags, invalidated,
                dev.regen.http.Compression.gzipIfUseful(headers, body));
    }

    /** When the page turns stale. */
    public Instant staleAt() {
        return renderedAt.plus(revalidate);
    }

    /** When the page may no longer be served even as stale, or null for never. */
    public Instant expiresAt() {
        return staleWindow == null ? null : staleAt().plus(staleWindow);
    }

    /** The freshness rule of DESIGN.md; a pure function of {@code now}. */
    public Freshness freshness(Instant now) {
        Instant expires = expiresAt();
        if (expires != null && !now.isBefore(expires)) {
            return Freshness.EXPIRED;
        }
        if (invalidated || !now.isBefore(staleAt())) {
            return Freshness.STALE;
        }
        return Freshness.FRESH;
    }

    /** Whole seconds since render (the {@code Age} field, RFC 9111 §5.1); never negative. */
    public long ageSeconds(Instant now) {
        return Math.max(0, Duration.between(renderedAt, now).toSeconds());
    }

    /** Whole seconds until the page turns stale; 0 once stale. */
    public long ttlSeconds(Instant now) {
        if (invalidated) {
            return 0;
        }
        return Math.max(0, Duration.between(now, staleAt()).toSeconds());
    }

    public CachedPage markInvalidated() {
        return new CachedPage(status, headers, body, etag, renderedAt, revalidate, staleWindow, tags, true, gzipBody);
    }

    /** Rough heap cost, for byte-bounded caches. */
    public long weight() {
        long w = 256L + body.length + (gzipBody == null ? 0 : 16 + gzipBody.length) + etag.length() * 2L;
        for (Header h : headers) {
            w += 48 + 2L * (h.name().length() + h.value().length());
        }
        for (String t : tags) {
            w += 48 + 2L * t.length();
        }
        return w;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CachedPage p && status == p.status && invalidated == p.invalidated
                && headers.equals(p.headers) && java.util.Arrays.equals(body, p.body) && etag.equals(p.etag)
                && renderedAt.equals(p.renderedAt) && revalidate.equals(p.revalidate)
                && Objects.equals(staleWindow, p.staleWindow) && tags.equals(p.tags);
    }

    @Override
    public int hashCode() {
        return Objects.hash(status, etag, renderedAt, revalidate);
    }

    @Override
    public String toString() {
        return "CachedPage[status=" + status + ", etag=" + etag + ", bytes=" + body.length + ", renderedAt="
                + renderedAt + ", revalidate=" + revalidate + ", tags=" + tags + ", invalidated=" + invalidated + "]";
    }
}
