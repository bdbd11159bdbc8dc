package dev.regen;

/** How one render ended; shared by every request that waited on it. */
sealed interface RenderResult {
    /** Stored and ready to serve. */
    record Stored(CachedPage page) implements RenderResult { }

    /** The origin answered, but the answer was not stored. */
    record Uncached(OriginResponse response, boolean shareable) implements RenderResult { }

    /** No usable answer (unreachable, timeout). */
    record Failed(OriginException.Kind kind, String message) implements RenderResult { }

    /** A background render that was not started because the pool and its queue were full. */
    record Skipped() implements RenderResult { }
}
