package dev.regen;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import dev.regen.internal.Cached;
import dev.regen.internal.CachedPage;
import dev.regen.internal.VaryMarker;
import dev.regen.store.KvEntry;
import dev.regen.store.KvStore;
import dev.regen.store.ListPage;
import dev.regen.store.ListedKey;
import dev.regen.store.PutOptions;
import dev.regen.store.StoreException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pages in two layers: L1, decoded pages in memory bounded by bytes, in front of L2, the configured
 * {@link KvStore}. A fault of L2 degrades to a miss (reads) or an L1-only page (writes) and is logged
 * once per change of state, not once per request.
 *
 * <p>The tag index lives in L2 beside the pages, one empty entry per (tag, page) named
 * {@code tag:<tag> <key>} (tags never contain spaces), so it survives restarts and is shared by every
 * node on one store. It may hold entries for pages that lost the tag or are gone; readers check the
 * page itself and drop such entries.
 */
final class PageStore {
    private static final Logger log = LoggerFactory.getLogger(PageStore.class);
    static final String PAGE_PREFIX = "page:";
    static final String TAG_PREFIX = "tag:";
    private static final int LIST_BATCH = 500;

    private final Cache<String, Cached> l1;
    private final KvStore l2;
    private final AtomicBoolean l2ReadsFailing = new AtomicBoolean();
    private final AtomicBoolean l2WritesFailing = new AtomicBoolean();
    /** What the store said when its writes last failed, while they do; null while they work. */
    private volatile String writeFault;

    /**
     * Bumped by every eviction of a key in the stripe: an L2 read that overlapped one does not put what
     * it read into L1 (it may be the copy another node's change just replaced).
     */
    private final AtomicLongArray evictions = new AtomicLongArray(256);

    private final AtomicLong allEvictions = new AtomicLong();

    PageStore(KvStore l2, long l1Bytes, InstantSource clock) {
        this.l2 = l2;
        this.l1 = Caffeine.newBuilder()
                .maximumWeight(l1Bytes)
                .weigher((String k, Cached c) -> (int) Math.min(Integer.MAX_VALUE, weight(c) + 2L * k.length()))
                .expireAfter(LAST_READ)
                .ticker(() -> clock.millis() * 1_000_000L)
                .executor(Runnable::run)
                .build();
    }

    /**
     * Nothing in L1 expires in practice; reads restart the clock and writes don't, so the time left
     * tells how long ago a request last read the page (renders and revalidations store pages nobody may
     * be reading).
     */
    private static final long NEVER = TimeUnit.DAYS.toNanos(3650);

    private static final Expiry<String, Cached> LAST_READ = new Expiry<>() {
        @Override
        public long expireAfterCreate(String key, Cached value, long now) {
            return NEVER / 2; // stored, not yet read: no recent traffic
        }

        @Override
        public long expireAfterUpdate(String key, Cached value, long now, long left) {
            return left;
        }

        @Override
        public long expireAfterRead(String key, Cached value, long now, long left) {
            return NEVER;
        }
    };

    private long evictionMark(String key) {
        return allEvictions.get() + evictions.get(key.hashCode() & (evictions.length() - 1));
    }

    private static long weight(Cached c) {
        return c instanceof CachedPage p ? p.weight() : ((VaryMarker) c).weight();
    }

    /** From L1 only; never blocks. */
    Cached getLocal(String key) {
        return l1.getIfPresent(key);
    }

    /** Into L1 only: readers on this node see it before the store write completes. */
    void putLocal(String key, CachedPage page) {
        l1.put(key, page);
    }

    /** Drops the L1 copy: another node changed the page. Returns whether there was one. */
    boolean evictLocal(String key) {
        evictions.incrementAndGet(key.hashCode() & (evictions.length() - 1));
        return l1.asMap().remove(key) != null;
    }

    void evictAllLocal() {
        allEvictions.incrementAndGet();
        l1.invalidateAll();
    }

    /** From L1 without counting as traffic (revalidation, bookkeeping). */
    Cached peekLocal(String key) {
        return l1.policy().getIfPresentQuietly(key);
    }

    /** Whether a request read the L1 copy of {@code key} (or it was first stored) within {@code window}. */
    boolean usedWithin(String key, Duration window) {
        return l1.policy()
                .expireVariably()
                .flatMap(p -> p.getExpiresAfter(key))
                .map(left -> NEVER - left.toNanos() < window.toNanos())
                .orElse(false);
    }

    /**
     * From L2 only (blocking): what another node may just have stored. Found, it replaces the L1 copy;
     * missing or unreadable, L1 keeps what it has (with L2 down, that copy is what serves stale).
     */
    Cached getShared(String key) {
        try {
            return readShared(key);
        } catch (StoreException e) {
            failed(l2ReadsFailing, "reads", e);
            return null;
        }
    }

    /** {@link #getShared}, telling a store fault apart from a missing page. */
    Cached readShared(String key) {
        // a change message for the key during the read may mean the read got the replaced page: read
        // again; a key that keeps changing is answered from the last read and not kept
        for (int attempt = 1; ; attempt++) {
            long mark = evictionMark(key);
            KvEntry entry = l2.get(PAGE_PREFIX + key);
            recovered(l2ReadsFailing, "reads");
            if (entry == null) {
                return null;
            }
            Cached cached = PageCodec.decode(key, entry);
            if (cached == null) {
                log.warn("store entry {} is not a readable page; treating it as missing", key);
                return null;
            }
            if (evictionMark(key) == mark) {
                l1.put(key, cached);
                return cached;
            }
            if (attempt == 3) {
                return cached;
            }
        }
    }

    /** From L1, else L2 (blocking), promoting what L2 had into L1. */
    Cached get(String key) {
        Cached cached = l1.getIfPresent(key);
        return cached != null ? cached : getShared(key);
    }

    /**
     * Stores {@code page}; {@code previous} is the page it replaces as far as the caller knows (null
     * if unknown), used to keep the tag index in step without rewriting unchanged tags.
     */
    boolean put(String key, CachedPage page, CachedPage previous) {
        try {
            putShared(key, page, previous);
            return true;
        } catch (StoreException e) {
            failed(l2WritesFailing, "writes", e);
            return false;
        }
    }

    /** {@link #put}, throwing what the store said when it failed. */
    void putShared(String key, CachedPage page, CachedPage previous) {
        l1.put(key, page);
        l2.put(PAGE_PREFIX + key, PageCodec.value(page), PageCodec.options(page));
        index(key, page, previous);
        recovered(l2WritesFailing, "writes");
    }

    /**
     * Stores {@code page}, whose body is byte for byte that of the stored {@code previous}: only its
     * metadata is written (a full write when the store lost the entry). False when the store failed.
     */
    boolean putUnchanged(String key, CachedPage page, CachedPage previous) {
        try {
            putMetadataShared(key, page, previous);
            return true;
        } catch (StoreException e) {
            failed(l2WritesFailing, "writes", e);
            return false;
        }
    }

    /** {@link #putUnchanged}, throwing what the store said when it failed. */
    void putMetadataShared(String key, CachedPage page, CachedPage previous) {
        l1.put(key, page);
        if (!l2.replaceMetadata(PAGE_PREFIX + key, PageCodec.options(page))) {
            l2.put(PAGE_PREFIX + key, PageCodec.value(page), PageCodec.options(page));
        }
        index(key, page, previous);
        recovered(l2WritesFailing, "writes");
    }

    private void index(String key, CachedPage page, CachedPage previous) {
        Set<String> before = previous == null ? Set.of() : previous.tags();
        // owned by the page: a store that evicts the page drops its index entries with it
        PutOptions indexEntry = new PutOptions(page.expiresAt(), java.util.Map.of(), PAGE_PREFIX + key);
        boolean same = previous != null
                && before.equals(page.tags())
                && java.util.Objects.equals(previous.expiresAt(), page.expiresAt());
        // a new render with unchanged tags reads its index entries, and writes only those missing: an
        // index lost or flushed heals with the next render, without a write per render; a mark of the
        // same render (revalidation) does neither
        boolean heal = same && !previous.renderedAt().equals(page.renderedAt());
        for (String tag : page.tags()) {
            if (!same || (heal && l2.get(tagEntry(tag, key)) == null)) {
                l2.put(tagEntry(tag, key), EMPTY, indexEntry);
            }
        }
        for (String tag : before) {
            if (!page.tags().contains(tag)) {
                l2.delete(tagEntry(tag, key));
            }
        }
    }

    /** Stores the marker of a URL whose pages vary, replacing whatever stood under its key. */
    boolean putMarker(String urlKey, VaryMarker marker) {
        l1.put(urlKey, marker);
        try {
            l2.put(PAGE_PREFIX + urlKey, PageCodec.value(marker), PageCodec.options(marker));
            recovered(l2WritesFailing, "writes");
            return true;
        } catch (StoreException e) {
            failed(l2WritesFailing, "writes", e);
            return false;
        }
    }

    /** How many variants of a URL the store holds, counting up to {@code limit}. */
    int variants(String urlKey, int limit) {
        try {
            return l2.list(PAGE_PREFIX + Keys.variantsOf(urlKey), null, limit)
                    .keys()
                    .size();
        } catch (StoreException e) {
            failed(l2ReadsFailing, "reads", e);
            return 0;
        }
    }

    void delete(String key, Cached cached) {
        try {
            deleteShared(key, cached);
        } catch (StoreException e) {
            failed(l2WritesFailing, "writes", e);
        }
    }

    /** {@link #delete}, throwing what the store said when it failed. */
    void deleteShared(String key, Cached cached) {
        CachedPage page = cached instanceof CachedPage p ? p : null;
        l1.invalidate(key);
        l2.delete(PAGE_PREFIX + key);
        if (page != null) {
            for (String tag : page.tags()) {
                l2.delete(tagEntry(tag, key));
            }
        }
        recovered(l2WritesFailing, "writes");
    }

    /** The keys held in memory (L1) that {@code matches} accepts. */
    List<String> localKeys(java.util.function.BiPredicate<String, Cached> matches) {
        List<String> keys = new ArrayList<>();
        l1.asMap().forEach((key, cached) -> {
            if (matches.test(key, cached)) {
                keys.add(key);
            }
        });
        return keys;
    }

    /** Drops an index entry that no longer matches its page. */
    void unindex(String tag, String key) {
        try {
            l2.delete(tagEntry(tag, key));
        } catch (StoreException e) {
            failed(l2WritesFailing, "writes", e);
        }
    }

    /** Every page key whose path starts with {@code keyPrefix}, streamed in key order. */
    void forEachPage(String keyPrefix, Consumer<ListedKey> action) {
        forEach(
                PAGE_PREFIX + keyPrefix,
                k -> action.accept(new ListedKey(
                        k.name().substring(PAGE_PREFIX.length()), k.metadata(), k.expiration(), k.size())));
    }

    /** The page keys the index lists under {@code tag}. */
    List<String> keysTagged(String tag) {
        String prefix = TAG_PREFIX + tag + " ";
        List<String> keys = new ArrayList<>();
        forEach(prefix, k -> keys.add(k.name().substring(prefix.length())));
        return keys;
    }

    /** One page of the page listing (admin API). */
    ListPage listPages(String keyPrefix, String cursor, int limit) {
        return l2.list(PAGE_PREFIX + keyPrefix, cursor, limit);
    }

    private void forEach(String prefix, Consumer<ListedKey> action) {
        String cursor = null;
        do {
            ListPage page = l2.list(prefix, cursor, LIST_BATCH);
            page.keys().forEach(action);
            cursor = page.cursor();
        } while (cursor != null);
    }

    private static String tagEntry(String tag, String key) {
        return TAG_PREFIX + tag + " " + key;
    }

    private static final byte[] EMPTY = new byte[0];

    /** Why the store's writes fail, while they do (pages are then kept in memory only); else null. */
    String writeFault() {
        return writeFault;
    }

    long localBytes() {
        return l1.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
    }

    long localEntries() {
        return l1.estimatedSize();
    }

    KvStore backing() {
        return l2;
    }

    // Reads and writes apart: with a full disk reads go on while writes fail, and one flag for both
    // would log a failure and a recovery for every request.
    private void failed(AtomicBoolean failing, String what, StoreException e) {
        if (failing == l2WritesFailing) {
            writeFault = e.getMessage();
        }
        if (failing.compareAndSet(false, true)) {
            log.error(
                    "store {} fail, pages are served from memory and renders until they work again: {}",
                    what,
                    e.getMessage());
        }
    }

    private void recovered(AtomicBoolean failing, String what) {
        if (failing.get() && failing.compareAndSet(true, false)) {
            if (failing == l2WritesFailing) {
                writeFault = null;
            }
            log.info("store {} work again", what);
        }
    }
}
