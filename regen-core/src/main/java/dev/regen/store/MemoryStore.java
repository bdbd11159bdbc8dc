package dev.regen.store;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.RemovalCause;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * An in-memory {@link KvStore} bounded by an estimate of the bytes it holds: the L1 in front of a
 * persistent store, or the only store with {@code --store memory}.
 *
 * <p>Entries live in a Caffeine cache (size-bounded by a weigher, expiring at their own
 * expiration on a ticker read from the injected clock). A sorted index beside it answers
 * {@link #list} in key order without scanning the cache. When full, Caffeine's W-TinyLFU policy
 * decides what goes, so a freshly put entry may be the one evicted. Entries with an
 * {@linkplain PutOptions#owner owner} weigh nothing, so they are never evicted alone; they go when
 * their owner is evicted or expires (not when it is deleted: see {@link PutOptions#owner}), and one
 * put after its owner went is not stored.
 *
 * <p>Values are kept as given, not copied. Thread-safe.
 */
public final class MemoryStore implements KvStore {

    /**
     * Rough heap cost of one entry besides its value, key and metadata text: the Caffeine node,
     * the skip-list node, the {@link Stored} holder, the key's String header and the metadata map.
     */
    static final int ENTRY_OVERHEAD = 200;

    /** Rough heap cost of one metadata pair besides its characters (two String headers, a slot). */
    static final int METADATA_PAIR_OVERHEAD = 64;

    /** UTF-8 byte order, the order {@link KvStore#list} promises (String's own order is UTF-16). */
    static final Comparator<String> UTF8_ORDER = MemoryStore::compareUtf8;

    private final InstantSource clock;
    private final Cache<String, Stored> cache;
    // Kept consistent with the cache: puts write it under the cache's per-key lock, and removals
    // are mirrored by a synchronous removal listener.
    private final ConcurrentSkipListMap<String, Stored> index = new ConcurrentSkipListMap<>(UTF8_ORDER);
    /** Owner key -> keys of the entries it owns. */
    private final ConcurrentHashMap<String, Set<String>> owned = new ConcurrentHashMap<>();
    /**
     * Owners evicted or expired, whose entries are still to be dropped: the removal listener may run
     * inside Caffeine's maintenance, where it must not change the cache itself.
     */
    private final ConcurrentLinkedQueue<String> goneOwners = new ConcurrentLinkedQueue<>();

    /**
     * @param maxBytes upper bound of the estimated heap held by entries; must be positive
     * @param clock    wall time, compared with entry expirations
     * @throws IllegalArgumentException if {@code maxBytes} is not positive
     */
    public MemoryStore(long maxBytes, InstantSource clock) {
        if (maxBytes <= 0) {
            throw new IllegalArgumentException("maxBytes must be positive: " + maxBytes);
        }
        this.clock = Objects.requireNonNull(clock, "clock");
        this.cache = Caffeine.newBuilder()
                .maximumWeight(maxBytes)
                .weigher((String key, Stored stored) -> stored.weight)
                .expireAfter(new StoredExpiry())
                .ticker(() -> epochNanos(clock.instant()))
                // Runs maintenance and the removal listener on the calling thread, so the index is
                // up to date when put/delete return.
                .executor(Runnable::run)
                .removalListener(this::onRemoval)
                .build();
    }

    @Override
    public KvEntry get(String key) {
        Objects.requireNonNull(key, "key");
        dropOwnedOfGoneOwners();
        Stored stored = cache.getIfPresent(key);
        if (stored == null) {
            return null;
        }
        if (stored.isExpiredAt(clock.instant())) {
            // Caffeine may not have noticed yet (its ticker is read at maintenance time).
            cache.asMap().remove(key, stored);
            return null;
        }
        return new KvEntry(stored.value, stored.metadata, stored.expiration);
    }

    @Override
    public void put(String key, byte[] value, PutOptions options) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        PutOptions opts = options == null ? PutOptions.NONE : options;
        String owner = opts.owner();
        int weight = owner == null ? weigh(key, value, opts.metadata()) : 0;
        Stored stored = new Stored(value, opts.metadata(), opts.expiration(), owner, weight);
        if (owner != null) {
            owned.computeIfAbsent(owner, o -> ConcurrentHashMap.newKeySet()).add(key);
        }
        // compute holds the key's lock, so index and cache agree on the winner of racing puts.
        cache.asMap().compute(key, (k, old) -> {
            if (old != null && old.owner != null && !old.owner.equals(owner)) {
                forget(old.owner, k);
            }
            index.put(k, stored);
            return stored;
        });
        if (owner != null && !owner.equals(key) && cache.getIfPresent(owner) == null) {
            delete(key); // its owner went: the entry would have gone with it
        }
        dropOwnedOfGoneOwners();
    }

    /**
     * Swaps the entry's holder for one with the same value array under the key's lock, so a racing
     * put or reader sees one holder or the other. Owner bookkeeping and the weight follow the new
     * options, as after a put.
     */
    @Override
    public boolean replaceMetadata(String key, PutOptions options) {
        Objects.requireNonNull(key, "key");
        PutOptions opts = options == null ? PutOptions.NONE : options;
        String owner = opts.owner();
        Instant now = clock.instant();
        boolean[] replaced = {false};
        cache.asMap().computeIfPresent(key, (k, old) -> {
            if (old.isExpiredAt(now)) {
                return old; // gone for readers; get or Caffeine removes it
            }
            int weight = owner == null ? weigh(k, old.value, opts.metadata()) : 0;
            Stored stored = new Stored(old.value, opts.metadata(), opts.expiration(), owner, weight);
            if (old.owner != null && !old.owner.equals(owner)) {
                forget(old.owner, k);
            }
            if (owner != null) {
                owned.computeIfAbsent(owner, o -> ConcurrentHashMap.newKeySet()).add(k);
            }
            index.put(k, stored);
            replaced[0] = true;
            return stored;
        });
        if (replaced[0] && owner != null && !owner.equals(key) && cache.getIfPresent(owner) == null) {
            delete(key); // its owner went: the entry would have gone with it
        }
        dropOwnedOfGoneOwners();
        return replaced[0];
    }

    @Override
    public boolean delete(String key) {
        Objects.requireNonNull(key, "key");
        dropOwnedOfGoneOwners();
        Instant now = clock.instant();
        Stored removed = cache.asMap().remove(key);
        // The removal listener already cleaned the index; this covers an entry Caffeine dropped
        // as expired without returning it.
        if (removed != null) {
            index.remove(key, removed);
        }
        return removed != null && !removed.isExpiredAt(now);
    }

    @Override
    public ListPage list(String prefix, String cursor, int limit) {
        if (limit <= 0) {
            throw new IllegalArgumentException("limit must be positive: " + limit);
        }
        String p = prefix == null ? "" : prefix;
        dropOwnedOfGoneOwners();
        Instant now = clock.instant();
        NavigableMap<String, Stored> tail =
                cursor != null && compareUtf8(cursor, p) >= 0 ? index.tailMap(cursor, false) : index.tailMap(p, true);
        List<ListedKey> keys = new ArrayList<>(Math.min(limit, 256));
        String last = null;
        for (Map.Entry<String, Stored> e : tail.entrySet()) {
            String key = e.getKey();
            if (!key.startsWith(p)) {
                break; // keys with a prefix are contiguous in the sorted index
            }
            Stored stored = e.getValue();
            if (stored.isExpiredAt(now)) {
                continue;
            }
            if (keys.size() == limit) {
                return new ListPage(keys, last, false);
            }
            keys.add(new ListedKey(key, stored.metadata, stored.expiration, stored.value.length));
            last = key;
        }
        return new ListPage(keys, null, true);
    }

    /** The estimated heap held by entries, as weighed against {@code maxBytes}. */
    public long weightedBytes() {
        return cache.policy().eviction().map(e -> e.weightedSize().orElse(0L)).orElse(0L);
    }

    /** The approximate number of entries, expired ones not yet evicted included. */
    public long size() {
        return cache.estimatedSize();
    }

    /** Drops every entry. Idempotent; the store stays usable (there is nothing to release). */
    @Override
    public void close() {
        cache.invalidateAll();
        cache.cleanUp();
        owned.clear();
        goneOwners.clear();
    }

    /** Runs pending evictions now; for tests. */
    void cleanUp() {
        cache.cleanUp();
    }

    /** Keys in the list index; equals {@link #size()} after {@link #cleanUp()}; for tests. */
    int indexSize() {
        return index.size();
    }

    private void onRemoval(String key, Stored stored, RemovalCause cause) {
        // Conditional: a put that raced with this removal has already put its own holder there.
        if (key != null && stored != null) {
            index.remove(key, stored);
            if (cause != RemovalCause.REPLACED && stored.owner != null) {
                forget(stored.owner, key);
            }
        }
        if (key != null && (cause == RemovalCause.SIZE || cause == RemovalCause.EXPIRED) && owned.containsKey(key)) {
            goneOwners.add(key);
        }
    }

    private void forget(String owner, String key) {
        owned.computeIfPresent(owner, (o, keys) -> {
            keys.remove(key);
            return keys.isEmpty() ? null : keys;
        });
    }

    /** Drops the entries of owners the cache evicted or expired; outside Caffeine's own work. */
    private void dropOwnedOfGoneOwners() {
        String owner;
        while ((owner = goneOwners.poll()) != null) {
            if (cache.getIfPresent(owner) != null) {
                continue; // put again since
            }
            Set<String> keys = owned.remove(owner);
            if (keys != null) {
                keys.forEach(cache::invalidate);
            }
        }
    }

    private static int weigh(String key, byte[] value, Map<String, String> metadata) {
        long w = (long) value.length + key.length() + ENTRY_OVERHEAD;
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            w += e.getKey().length() + e.getValue().length() + METADATA_PAIR_OVERHEAD;
        }
        return (int) Math.min(Integer.MAX_VALUE, w);
    }

    static long epochNanos(Instant t) {
        try {
            return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000_000L), t.getNano());
        } catch (ArithmeticException e) {
            return t.getEpochSecond() < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }

    /** Compares by Unicode code point, which is the order of the strings' UTF-8 bytes. */
    static int compareUtf8(String a, String b) {
        int n = Math.min(a.length(), b.length());
        for (int i = 0; i < n; i++) {
            char ca = a.charAt(i);
            char cb = b.charAt(i);
            if (ca != cb) {
                // UTF-16 puts surrogates (code points above U+FFFF) below U+E000..U+FFFF; move them
                // above. Earlier chars are equal, so pairs are aligned at the first difference.
                if (ca >= 0xD800 && cb >= 0xD800) {
                    return Integer.compare(fixup(ca), fixup(cb));
                }
                return Character.compare(ca, cb);
            }
        }
        return Integer.compare(a.length(), b.length());
    }

    private static int fixup(char c) {
        return c >= 0xE000 ? c - 0x800 : c + 0x2000;
    }

    /**
     * One stored triple. Deliberately not a record: the index and cache compare holders by
     * identity, and a record's equals would make two puts of the same array look alike.
     */
    private static final class Stored {
        final byte[] value;
        final Map<String, String> metadata;
        final Instant expiration;
        final String owner;
        final int weight;

        Stored(byte[] value, Map<String, String> metadata, Instant expiration, String owner, int weight) {
            this.value = value;
            this.metadata = metadata;
            this.expiration = expiration;
            this.owner = owner;
            this.weight = weight;
        }

        boolean isExpiredAt(Instant now) {
            return expiration != null && !now.isBefore(expiration);
        }
    }

    private static final class StoredExpiry implements Expiry<String, Stored> {
        @Override
        public long expireAfterCreate(String key, Stored stored, long now) {
            return nanosToLive(stored, now);
        }

        @Override
        public long expireAfterUpdate(String key, Stored stored, long now, long currentDuration) {
            return nanosToLive(stored, now);
        }

        @Override
        public long expireAfterRead(String key, Stored stored, long now, long currentDuration) {
            return currentDuration;
        }

        private static long nanosToLive(Stored stored, long now) {
            if (stored.expiration == null) {
                return Long.MAX_VALUE; // Caffeine caps this to "never" (about 150 years)
            }
            long at = epochNanos(stored.expiration);
            if (at <= now) {
                return 0;
            }
            try {
                return Math.subtractExact(at, now);
            } catch (ArithmeticException e) {
                return Long.MAX_VALUE;
            }
        }
    }
}
