package dev.regen;

import java.time.Duration;

/**
 * Told about what the engine does, for metrics and logs. Called on the engine's and the edges'
 * threads, often on the hot path: implementations must be fast, thread-safe and must not throw.
 */
public interface EngineListener {

    /** How a render ended. */
    enum RenderOutcome {
        /** Stored. */
        OK,
        /** The origin answered, but with something not to store (Set-Cookie, private, 3xx…). */
        UNCACHEABLE,
        /** 404 or 410: the page is gone. */
        NOT_FOUND,
        /** 5xx or unreachable origin. */
        ERROR,
        /** No answer within the render timeout. */
        TIMEOUT
    }

    /** One client request answered from the engine's decision. */
    default void served(CacheStatus status) {}

    /** One origin render finished. */
    default void rendered(RenderOutcome outcome, Duration took) {}

    /** On-demand revalidation affected {@code entries} entries; {@code kind} is "path", "tag" or "path+tag". */
    default void invalidated(String kind, int entries) {}

    /** The store refused a page's write: the page is kept in memory only (full disk, Redis maxmemory…). */
    default void storeWriteFailed() {}

    EngineListener NONE = new EngineListener() {};
}
