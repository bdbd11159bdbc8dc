package dev.regen;

import dev.regen.internal.CachedPage;
import dev.regen.internal.OriginException;
import dev.regen.internal.OriginResponse;

/** How one render ended; shared by every request that waited on it. */
sealed interface RenderResult {
    /** Stored and ready to serve. */
    record Stored(CachedPage page) implements RenderResult {}

    /**
     * The origin answered, but the answer was not stored.
     *
     * @param response  the whole response, or null when it was not kept (too big, or meant for one client)
     * @param shareable it may be given to other clients whose request selects the same variant
     * @param variant   the variant id of the request that got it, for the response's Vary names
     */
    record Uncached(OriginResponse response, boolean shareable, String variant) implements RenderResult {}

    /** No usable answer (unreachable, timeout). */
    record Failed(OriginException.Kind kind, String message) implements RenderResult {}

    /** The render was given up before it told anything (its client left): waiters start again. */
    record Abandoned() implements RenderResult {}

    /** A waiter's own limit passed before the render ended (a long body, a stream): it goes on its own. */
    record Late() implements RenderResult {}

    /** A background render that was not started because the pool and its queue were full. */
    record Skipped() implements RenderResult {}
}
