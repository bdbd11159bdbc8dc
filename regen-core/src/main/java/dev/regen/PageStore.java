package dev.regen;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.regen.store.KvEntry;
import dev.regen.store.KvStore;
import dev.regen.store.ListPage;
import dev.regen.store.ListedKey;
import dev.regen.store.PutOptions;
import dev.regen.store.StoreException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
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

    private final Cache<String, CachedPage> l1;
    private final KvStore l2;
    private final AtomicBoolean l2Failing = new AtomicBoolean();

    PageStore(KvStore l2, long l1Bytes) {
        this.l2 = l2;
        this.l1 = Caffeine.newBuilder()
                .maximumWeight(l1Bytes)
                .weigher((String k, CachedPage p) -> (int) Math.min(Integer.MAX_VALUE, p.weight() + 2L * k.length()))
                .executor(Runnable::run)
                .build();
    }

    /** From L1 only; never blocks. */
    CachedPage getLocal(String key) {
        return l1.getIfPresent(key);
    }

    /** Drops the L1 copy: another node changed the page. */
    void evictLocal(String key) {
        l1.invalidate(key);
    }

    void evictAllLocal() {
        l1.invalidateAll();
    }

    /**
     * From L2 only (blocking): what another node may just have stored. Found, it replaces the L1 copy;
     * missing or unreadable, L1 keeps what it has (with L2 down, that copy is what serves stale).
     */
    CachedPage getShared(String key) {
        KvEntry entry;
        try {
            entry = l2.get(PAGE_PREFIX + key);
            recovered();
        } catch (StoreException e) {
            failed("read", e);
            return null;
        }
        if (entry == null) {
            return null;
        }
        CachedPage page = PageCodec.decode(entry);
        if (page == null) {
            log.warn("store entry {} is not a readable page; treating it as missing", key);
            return null;
        }
        l1.put(key, page);
        return page;
    }

    /** From L1, else L2 (blocking), promoting what L2 had into L1. */
    CachedPage get(String key) {
        CachedPage page = l1.getIfPresent(key);
        return page != null ? page : getShared(key);
    }

    /**
     * Stores {@code page}; {@code previous} is the page it replaces as far as the caller knows (null
     * if unknown), used to keep the tag index in step without rewriting unchanged tags.
     */
    void put(String key, CachedPage page, CachedPage previous) {
        l1.put(key, page);
        try {
            l2.put(PAGE_PREFIX + key, page.body(), PageCodec.options(page));
            Set<String> before = previous == null ? Set.of() : previous.tags();
            if (previous == null || !before.equals(page.tags()) || !java.util.Objects.equals(previous.expiresAt(), page.expiresAt())) {
                PutOptions indexEntry = new PutOptions(page.expiresAt(), java.util.Map.of());
                for (String tag : page.tags()) {
                    l2.put(tagEntry(tag, key), EMPTY, indexEntry);
                }
            }
            for (String tag : before) {
                if (!page.tags().contains(tag)) {
                    l2.delete(tagEntry(tag, key));
                }
            }
            recovered();
        } catch (StoreException e) {
            failed("write", e);
        }
    }

    void delete(String key, CachedPage page) {
        l1.invalidate(key);
        try {
            l2.delete(PAGE_PREFIX + key);
            if (page != null) {
                for (String tag : page.tags()) {
                    l2.delete(tagEntry(tag, key));
                }
            }
            recovered();
        } catch (StoreException e) {
            failed("delete", e);
        }
    }

    /** Drops an index entry that no longer matches its page. */
    void unindex(String tag, String key) {
        try {
            l2.delete(tagEntry(tag, key));
        } catch (StoreException e) {
            failed("delete", e);
        }
    }

    /** Every page key whose path starts with {@code keyPrefix}, streamed in key order. */
    void forEachPage(String keyPrefix, Consumer<ListedKey> action) {
        forEach(PAGE_PREFIX + keyPrefix, k -> action.accept(
                new ListedKey(k.name().substring(PAGE_PREFIX.length()), k.metadata(), k.expiration(), k.size())));
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

    long localBytes() {
        return l1.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
    }

    long localEntries() {
        return l1.estimatedSize();
    }

    KvStore backing() {
        return l2;
    }

    private void failed(String op, StoreException e) {
        if (l2Failing.compareAndSet(false, true)) {
            log.error("store {} failed, serving from memory until it recovers: {}", op, e.getMessage());
        }
    }

    private void recovered() {
        if (l2Failing.get() && l2Failing.compareAndSet(true, false)) {
            log.info("store recovered");
        }
    }
}
