package dev.regen;

/** What an edge (proxy, servlet filter) should send for one client request. */
public sealed interface Reply {

    /** A cached page: HIT, STALE, or MISS after a render that stored it. */
    record Page(CachedPage page, CacheStatus status) implements Reply { }

    /** A freshly rendered response that was not stored (MISS, {@code stored=false}). */
    record Rendered(OriginResponse response) implements Reply { }

    /**
     * Forward the client's own request to the origin and stream the answer back. {@code status} is
     * BYPASS (not cacheable: {@code fwd} is "bypass" or "method") or MISS (the page turned out not to
     * be shareable, so each waiter fetches its own).
     */
    record PassThrough(CacheStatus status, String fwd) implements Reply { }

    /** An error produced by Regen itself: 400 bad target, 502 origin unreachable, 504 timeout. */
    record Failure(int status, String reason) implements Reply { }
}
