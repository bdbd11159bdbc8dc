package dev.regen.internal;

import dev.regen.CacheStatus;
import dev.regen.internal.http.CacheHeaders;
import java.time.Instant;

/** What an edge (proxy, servlet filter) should send for one client request. */
public sealed interface Reply {

    /**
     * A cached page: HIT, STALE, or MISS after a render that stored it. {@code now} is when the engine
     * decided: the edge takes {@code Age} and {@code Cache-Status} from it rather than reading a clock.
     *
     * @param collapsed the request waited for a render started for another request (RFC 9211 §2.8)
     * @param loaded    read from the store for this request, not found in memory: not known to be hot,
     *                  so an edge need not prepare it for many writes
     */
    record Page(CachedPage page, CacheStatus status, Instant now, boolean collapsed, boolean loaded) implements Reply {
        /** A page from memory, or one just rendered. */
        public Page(CachedPage page, CacheStatus status, Instant now, boolean collapsed) {
            this(page, status, now, collapsed, false);
        }

        public long age() {
            return page.ageSeconds(now);
        }

        /** The {@code Cache-Status} field value. */
        public String cacheStatus() {
            return CacheHeaders.forPage(page, status, now, collapsed);
        }
    }

    /**
     * Send the request to the origin and relay the answer as it arrives: the edge does the I/O and
     * reports to {@link Forwarding} what happened, which decides whether the answer is stored.
     */
    record Forward(Forwarding forwarding) implements Reply {}

    /**
     * A response another request's render received and that may be given to this one too, though it
     * was not stored (e.g. the origin's 503 page to everyone waiting on one render).
     */
    record Rendered(OriginResponse response, String cacheStatus) implements Reply {}

    /** An error produced by Regen itself: 400 bad target, 502 origin unreachable, 504 timeout. */
    record Failure(int status, String reason) implements Reply {}
}
