package dev.regen.cluster;

import java.time.Duration;
import java.util.Collection;

/**
 * What the engine needs from other nodes sharing one store: a render lock per key, so a page is
 * rendered once per cluster, and a change feed, so every node drops its in-memory (L1) copy of a page
 * another node re-rendered or invalidated.
 *
 * <p>Implementations never throw on the serving path: when the coordinating service is unreachable,
 * {@link #tryLock} grants a local lock (renders go on, once per node) and {@link #publish} drops the
 * message; they log one line per change of state and, on reconnecting, tell listeners
 * {@link Listener#missedChanges()} so nodes drop all of L1.
 */
public interface Cluster extends AutoCloseable {

    /**
     * Tries to take the render lock of {@code key} for at most {@code ttl} (it expires by itself if
     * this node dies). Returns the lock, or null when another node holds it.
     */
    RenderLock tryLock(String key, Duration ttl);

    /** Releases {@code lock} if this node still holds it; a lock that expired or was taken over is left alone. */
    void unlock(RenderLock lock);

    /**
     * {@code key} was just invalidated: if another node is rendering it now, that render may have read
     * the content from before the change, so its result must be stored stale. Default: nothing (one node
     * tracks that itself).
     */
    default void markInvalidated(String key) {
    }

    /** Whether {@code key} was invalidated by another node while this node held {@code lock}; clears the mark. */
    default boolean takeInvalidated(RenderLock lock) {
        return false;
    }

    /** Tells the other nodes that the pages under {@code keys} changed (stored, marked stale or deleted). */
    void publish(Collection<String> keys);

    /** Receives changes published by other nodes (never this node's own). One listener per engine. */
    void subscribe(Listener listener);

    @Override
    void close();

    /** A held render lock. {@code token} identifies the holder so only it can release the lock. */
    record RenderLock(String key, String token) { }

    /** Changes made by other nodes. Called on the implementation's threads; must not block. */
    interface Listener {
        void changed(Collection<String> keys);

        /** Messages may have been lost (disconnection): every L1 copy may be out of date. */
        void missedChanges();
    }

    /** One node on its own: every lock is granted, nothing is published. */
    Cluster LOCAL = new Cluster() {
        @Override
        public RenderLock tryLock(String key, Duration ttl) {
            return new RenderLock(key, "local");
        }

        @Override
        public void unlock(RenderLock lock) {
        }

        @Override
        public void publish(Collection<String> keys) {
        }

        @Override
        public void subscribe(Listener listener) {
        }

        @Override
        public void close() {
        }
    };
}
