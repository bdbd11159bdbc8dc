package dev.regen.cluster;

import java.time.Duration;
import java.util.Collection;
import java.util.concurrent.CompletableFuture;

/**
 * What the engine needs from other nodes sharing one store: a render lock per key, so a page is
 * rendered once per cluster, and a change feed, so every node drops its in-memory (L1) copy of a page
 * another node re-rendered or invalidated.
 *
 * <p>Implementations never throw on the serving path. When the coordinating service cannot take a
 * lock, {@link #tryLock} grants a local lock (that render goes on, uncoordinated). A message that
 * cannot be sent completes its future exceptionally and is sent again once the service answers. A
 * node that may have missed messages (its subscription dropped) tells its listener
 * {@link Listener#missedChanges()} once per outage, when it is back.
 */
public interface Cluster extends AutoCloseable {

    /**
     * Tries to take the render lock of {@code key}, held at most {@code ttl}. Returns the lock, or null
     * when another node holds it. An implementation shared between processes keeps it as a short lease
     * renewed while held, so the lock of a node that died lapses within seconds, not at {@code ttl}.
     */
    RenderLock tryLock(String key, Duration ttl);

    /** Releases {@code lock} if this node still holds it; a lock that expired or was taken over is left alone. */
    void unlock(RenderLock lock);

    /**
     * {@code key} was just invalidated: if another node is rendering it now, that render may have read
     * the content from before the change, so its result must be stored stale. Default: nothing (one node
     * tracks that itself).
     */
    default void markInvalidated(String key) {}

    /** Whether {@code key} was invalidated by another node while this node held {@code lock}; clears the mark. */
    default boolean takeInvalidated(RenderLock lock) {
        return false;
    }

    /**
     * Tells the other nodes that the pages under {@code keys} changed (stored, marked stale or deleted).
     * Completes once the message is sent to every node subscribed now; completes exceptionally when it
     * could not be sent (the implementation sends it again later, but a caller that promised the change
     * to someone must say it is not done yet).
     */
    CompletableFuture<Void> publish(Collection<String> keys);

    /**
     * Tells the other nodes that the pages under {@code paths} (revalidation paths, {@code /**} for a
     * subtree) and tagged with {@code tags} were revalidated: each drops the copies it holds in memory
     * that match, including pages the shared store no longer lists (lost, flushed). Completes like
     * {@link #publish}.
     */
    default CompletableFuture<Void> publishRevalidation(Collection<String> paths, Collection<String> tags) {
        return CompletableFuture.completedFuture(null);
    }

    /**
     * Tells the other nodes that the pages under these keys were rendered again with the same bytes:
     * a node holding the copy with that {@code etag} keeps it and takes the new render time; any other
     * copy is dropped. Completes like {@link #publish}. Default: published as plain changes.
     */
    default CompletableFuture<Void> publishRefreshed(Collection<Refresh> refreshes) {
        return publish(refreshes.stream().map(Refresh::key).toList());
    }

    /** A page re-rendered unchanged: its key, its ETag and its new render time. */
    record Refresh(String key, String etag, java.time.Instant renderedAt) {}

    /** Receives changes published by other nodes (never this node's own). One listener per engine. */
    void subscribe(Listener listener);

    @Override
    void close();

    /** A held render lock. {@code token} identifies the holder so only it can release the lock. */
    record RenderLock(String key, String token) {}

    /** Changes made by other nodes. Called on the implementation's threads; must not block. */
    interface Listener {
        void changed(Collection<String> keys);

        /** Messages may have been lost (disconnection): every L1 copy may be out of date. */
        void missedChanges();

        /** Another node re-rendered these pages with unchanged bytes. Default: handled as changes. */
        default void refreshed(Collection<Refresh> refreshes) {
            changed(refreshes.stream().map(Refresh::key).toList());
        }

        /** Another node revalidated {@code paths} and {@code tags}: drop the matching copies held in memory. */
        default void revalidated(Collection<String> paths, Collection<String> tags) {}
    }

    /** One node on its own: every lock is granted, nothing is published. */
    Cluster LOCAL = new Cluster() {
        @Override
        public RenderLock tryLock(String key, Duration ttl) {
            return new RenderLock(key, "local");
        }

        @Override
        public void unlock(RenderLock lock) {}

        @Override
        public CompletableFuture<Void> publish(Collection<String> keys) {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public void subscribe(Listener listener) {}

        @Override
        public void close() {}
    };
}
