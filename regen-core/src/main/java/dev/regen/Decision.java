package dev.regen;

import dev.regen.internal.CachedPage;
import dev.regen.internal.Freshness;
import java.time.Instant;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * What to do with a cacheable GET once its cached page (if any) is known: the whole cache decision,
 * as one pure function of its inputs, in the manner of OkHttp's {@code CacheStrategy}. The engine
 * reads the clock once, looks the page up, asks {@link #of} and carries the answer out; everything
 * that varies between two requests is an argument here.
 */
sealed interface Decision {

    /** A fresh page (RFC 9111 §4.2): served as a HIT; {@code refreshAhead} also re-renders it in the background. */
    record Fresh(CachedPage page, boolean refreshAhead) implements Decision {}

    /** A stale page within its stale window (RFC 5861 stale-while-revalidate): served, one background render. */
    record Stale(CachedPage page) implements Decision {}

    /**
     * The request goes to the origin as a render whose answer only this client gets (and is stored only
     * if the origin says it may be, RFC 9111 §3.5): {@code why} is "credentials" or the hit-for-pass reason.
     */
    record Alone(String why) implements Decision {}

    /** A part of an uncached representation (RFC 9110 §14.2): the origin answers the range, untouched. */
    record Range(String fwd) implements Decision {}

    /** A miss: one render per key, every other request for it waits on that one (single flight). */
    record Render(String fwd) implements Decision {}

    /**
     * The decision.
     *
     * @param now          the request's time, read once
     * @param page         the cached page for the request's variant, or null
     * @param varies       the URL's pages vary: a miss is a {@code vary-miss}
     * @param credentialed the request carries credentials (RFC 9111 §3.5)
     * @param range        whether the request asks for a range (asked on a miss only)
     * @param hitForPass   why the URL's last answer could not be stored, while that is remembered, else
     *                     null (asked on a miss only)
     * @param refreshAhead the last part of the fresh window in which a request re-renders the page
     */
    static Decision of(
            Instant now,
            CachedPage page,
            boolean varies,
            boolean credentialed,
            BooleanSupplier range,
            Supplier<String> hitForPass,
            double refreshAhead) {
        Freshness freshness = page == null ? Freshness.EXPIRED : page.freshness(now);
        // a credentialed request gets only a page the origin stored for anyone (RFC 9111 §3.5)
        if (freshness != Freshness.EXPIRED && (!credentialed || page.shared())) {
            return freshness == Freshness.FRESH
                    ? new Fresh(page, refreshAheadDue(page, now, refreshAhead))
                    : new Stale(page);
        }
        if (credentialed) {
            return new Alone("credentials");
        }
        String fwd = varies ? "vary-miss" : "uri-miss";
        if (range.getAsBoolean()) {
            return new Range(fwd);
        }
        if (hitForPass.get() != null) {
            return new Alone("hit-for-pass");
        }
        return new Render(fwd);
    }

    /**
     * Whether a fresh page is in the last {@code fraction} of its fresh window: a request now re-renders it
     * in the background, so a page with steady traffic never turns stale. Immutable pages never do.
     */
    static boolean refreshAheadDue(CachedPage page, Instant now, double fraction) {
        if (fraction == 0 || page.immutable()) {
            return false;
        }
        long revalidate = page.revalidate().toMillis();
        long due = page.renderedAt().toEpochMilli() + revalidate - (long) (revalidate * fraction);
        return now.toEpochMilli() >= due;
    }
}
