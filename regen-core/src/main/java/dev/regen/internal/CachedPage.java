package dev.regen.internal;

import dev.regen.internal.http.HttpFields;
import dev.regen.internal.http.Vary;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A rendered page as the cache keeps it. Immutable; the body array is shared and never mutated.
 *
 * @param status       origin status (a cacheable one)
 * @param headers      the origin headers worth replaying (hop-by-hop and per-message fields removed)
 * @param body         the representation, decoded from whatever content coding the origin used
 * @param etag         the origin's ETag, or one derived from the body
 * @param renderedAt   when the origin produced it (less any {@code Age} it arrived with)
 * @param revalidate   fresh while {@code age < revalidate}
 * @param staleWindow  how long after turning stale it may still be served; null = forever
 * @param tags         from Cache-Tag / Surrogate-Key and route rules
 * @param invalidated  marked stale on demand (soft revalidation) before its time
 * @param gzipBody     the body gzip-compressed (the origin's own gzip, or made once when rendered or
 *                     loaded); null when not worth it
 * @param replay       the request background renders send again for this variant
 * @param shared       the origin marked it shareable explicitly ({@code public}, {@code s-maxage},
 *                     {@code CDN-Cache-Control}): it may be served to credentialed requests (RFC 9111 §3.5)
 * @param immutable    {@code Cache-Control: immutable} (RFC 8246): its URL names one version for ever, so
 *                     it never turns stale by age and soft revalidation leaves it alone
 */
// the arrays are shared, not copied, on the hit path; nothing compares pages by equals
@SuppressWarnings("ArrayRecordComponent")
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
        byte[] gzipBody,
        Replay replay,
        boolean shared,
        boolean immutable)
        implements Cached {

    public CachedPage {
        headers = List.copyOf(headers);
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(etag, "etag");
        Objects.requireNonNull(renderedAt, "renderedAt");
        Objects.requireNonNull(revalidate, "revalidate");
        Objects.requireNonNull(replay, "replay");
        tags = Set.copyOf(tags);
    }

    /** A page with its gzip variant made from {@code body} when that is worth it. */
    public CachedPage(
            int status,
            List<Header> headers,
            byte[] body,
            String etag,
            Instant renderedAt,
            Duration revalidate,
            Duration staleWindow,
            Set<String> tags,
            boolean invalidated,
            Replay replay,
            boolean shared,
            boolean immutable) {
        this(
                status,
                headers,
                body,
                etag,
                renderedAt,
                revalidate,
                staleWindow,
                tags,
                invalidated,
                dev.regen.internal.http.Compression.gzipIfUseful(headers, body),
                replay,
                shared,
                immutable);
    }

    /** When the page turns stale. */
    public Instant staleAt() {
        return renderedAt.plus(revalidate);
    }

    /** When the page may no longer be served even as stale, or null for never. */
    public Instant expiresAt() {
        return staleWindow == null || immutable ? null : staleAt().plus(staleWindow);
    }

    /** The freshness rule of DESIGN.md; a pure function of {@code now}. */
    public Freshness freshness(Instant now) {
        Instant expires = expiresAt();
        if (expires != null && !now.isBefore(expires)) {
            return Freshness.EXPIRED;
        }
        // An immutable URL names one version for ever (DESIGN.md): only an invalidation makes it stale.
        if (invalidated || (!immutable && !now.isBefore(staleAt()))) {
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

    /** The request fields this page varies on, lower-case and sorted (without Accept-Encoding). */
    public List<String> varyNames() {
        return Vary.names(HttpFields.all(headers, "vary"));
    }

    public CachedPage markInvalidated() {
        return new CachedPage(
                status,
                headers,
                body,
                etag,
                renderedAt,
                revalidate,
                staleWindow,
                tags,
                true,
                gzipBody,
                replay,
                shared,
                immutable);
    }

    /** This page rendered again, byte for byte, at {@code at}: fresh again, the same arrays. */
    public CachedPage renderedAgain(Instant at) {
        return new CachedPage(
                status,
                headers,
                body,
                etag,
                at,
                revalidate,
                staleWindow,
                tags,
                false,
                gzipBody,
                replay,
                shared,
                immutable);
    }

    /** Whether {@code other} is this page but for when it was rendered and whether it was marked stale. */
    public boolean sameRenderAs(CachedPage other) {
        return status == other.status
                && shared == other.shared
                && immutable == other.immutable
                && etag.equals(other.etag)
                && headers.equals(other.headers)
                && revalidate.equals(other.revalidate)
                && Objects.equals(staleWindow, other.staleWindow)
                && tags.equals(other.tags)
                && replay.equals(other.replay)
                && java.util.Arrays.equals(body, other.body);
    }

    /** Rough heap cost, for byte-bounded caches. */
    public long weight() {
        long w = 256L
                + body.length
                + (gzipBody == null ? 0 : 16 + gzipBody.length)
                + etag.length() * 2L
                + 2L * replay.target().length();
        for (Header h : headers) {
            w += 48 + 2L * (h.name().length() + h.value().length());
        }
        for (Header h : replay.headers()) {
            w += 48 + 2L * (h.name().length() + h.value().length());
        }
        for (String t : tags) {
            w += 48 + 2L * t.length();
        }
        return w;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CachedPage p
                && status == p.status
                && invalidated == p.invalidated
                && shared == p.shared
                && immutable == p.immutable
                && headers.equals(p.headers)
                && java.util.Arrays.equals(body, p.body)
                && etag.equals(p.etag)
                && renderedAt.equals(p.renderedAt)
                && revalidate.equals(p.revalidate)
                && Objects.equals(staleWindow, p.staleWindow)
                && tags.equals(p.tags)
                && replay.equals(p.replay);
    }

    @Override
    public int hashCode() {
        return Objects.hash(status, etag, renderedAt, revalidate);
    }

    @Override
    public String toString() {
        return "CachedPage[status=" + status + ", etag=" + etag + ", bytes=" + body.length + ", renderedAt="
                + renderedAt + ", revalidate=" + revalidate + ", tags=" + tags + ", invalidated=" + invalidated
                + ", shared=" + shared + ", immutable=" + immutable + "]";
    }
}
