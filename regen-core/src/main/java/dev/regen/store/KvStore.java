package dev.regen.store;

/**
 * The storage SPI: a key-value namespace shaped like a Workers KV namespace. Bytes in, bytes out,
 * with a small string metadata map stored atomically beside each value and an optional expiration.
 *
 * <p>Contract every implementation meets (checked by {@code regen-store-tck}):
 * <ul>
 *   <li>{@link #put} replaces value, metadata and expiration of a key in one atomic step: a reader
 *       sees the old triple or the new one, never a mix, and a crash never leaves a half-written one.
 *   <li>An entry whose expiration has passed is never returned by {@link #get} or {@link #list}.
 *   <li>{@link #list} returns keys in ascending lexicographic (UTF-8 byte) order; the cursor is opaque.
 *   <li>Implementations are thread-safe. Methods block; callers keep them off event loops.
 *   <li>A {@link #put} that returns has stored the entry: a write the engine refused or could not
 *       finish (disk full, over a memory limit, I/O error) throws, it never passes for stored.
 *   <li>A store that drops entries on its own (a size budget) drops an entry's
 *       {@linkplain PutOptions#owner owned} entries with it, never before it.
 * </ul>
 * Faults of the backing engine surface as {@link StoreException}; bad arguments (a key that is not
 * well-formed Unicode, a non-positive limit) as {@link IllegalArgumentException}.
 */
public interface KvStore extends AutoCloseable {

    /** The entry under {@code key}, or {@code null} if there is none or it has expired. */
    KvEntry get(String key);

    /** Stores {@code value} under {@code key}. The store may keep the array: callers must not mutate it. */
    void put(String key, byte[] value, PutOptions options);

    /**
     * Replaces the metadata, expiration and owner of the unexpired entry under {@code key}, keeping its
     * value, in one atomic step like {@link #put}; returns false, writing nothing, when there is no
     * unexpired entry. A page re-rendered with the same bytes only moves its freshness: no value write.
     * Default: a get and a put, not atomic against a concurrent put; stores override it.
     */
    default boolean replaceMetadata(String key, PutOptions options) {
        KvEntry entry = get(key);
        if (entry == null) {
            return false;
        }
        put(key, entry.value(), options);
        return true;
    }

    /** Removes {@code key}; returns whether an unexpired entry was there. */
    boolean delete(String key);

    /**
     * Up to {@code limit} keys starting with {@code prefix}, after {@code cursor} (null for the first
     * page). Values are not read: each listed key carries its metadata and expiration only.
     */
    ListPage list(String prefix, String cursor, int limit);

    /**
     * The store's own view of its state, from what its last operations met; never blocks, never
     * throws. A store that is {@link StoreHealth.State#DEGRADED} still answers, but some operations
     * fail (say why in the reason); it turns {@link StoreHealth.State#UP} again by itself when the
     * cause goes. Default: always up.
     */
    default StoreHealth health() {
        return StoreHealth.UP;
    }

    /** Releases files, connections and threads. Idempotent. */
    @Override
    void close();
}
