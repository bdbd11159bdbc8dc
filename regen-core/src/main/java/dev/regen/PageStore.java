package dev.regen;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.regen.store.KvEntry;
import dev.regen.store.KvStore;
import dev.regen.store.StoreException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pages in two layers: L1, decoded pages in memory bounded by bytes, in front of L2, the configured
 * {@link KvStore}. A fault of L2 degrades to a miss (reads) or an L1-only page (writes) and is logged
 * once per change of state, not once per request.
 */
final class PageStore {
    private static final Logger log = LoggerFactory.getLogger(PageStore.class);
    static final String PAGE_PREFIX = "page:";

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

    /** From L1, else L2 (blocking), promoting what L2 had into L1. */
    CachedPage get(String key) {
        CachedPage page = l1.getIfPresent(key);
        if (page != null) {
            return page;
        }
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
        page = PageCodec.decode(entry);
        if (page == null) {
            log.warn("store entry {} is not a readable page; treating it as missing", key);
            return null;
        }
        l1.put(key, page);
        return page;
    }

    void put(String key, CachedPage page) {
        l1.put(key, page);
        try {
            l2.put(PAGE_PREFIX + key, page.body(), PageCodec.options(page));
            recovered();
        } catch (StoreException e) {
            failed("write", e);
        }
    }

    void delete(String key) {
        l1.invalidate(key);
        try {
            l2.delete(PAGE_PREFIX + key);
            recovered();
        } catch (StoreException e) {
            failed("delete", e);
        }
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
