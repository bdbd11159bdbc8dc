package dev.regen;

import dev.regen.store.KvEntry;
import dev.regen.store.KvStore;
import dev.regen.store.ListPage;
import dev.regen.store.PutOptions;
import dev.regen.store.StoreException;

/** Passes reads through; fails writes while {@link #failing}, as a full disk would. */
final class WriteFailingStore implements KvStore {
    private final KvStore store;
    volatile boolean failing;

    WriteFailingStore(KvStore store) {
        this.store = store;
    }

    @Override
    public KvEntry get(String key) {
        return store.get(key);
    }

    @Override
    public void put(String key, byte[] value, PutOptions options) {
        if (failing) {
            throw new StoreException("disk full");
        }
        store.put(key, value, options);
    }

    @Override
    public boolean replaceMetadata(String key, PutOptions options) {
        if (failing) {
            throw new StoreException("disk full");
        }
        return store.replaceMetadata(key, options);
    }

    @Override
    public boolean delete(String key) {
        if (failing) {
            throw new StoreException("disk full");
        }
        return store.delete(key);
    }

    @Override
    public ListPage list(String prefix, String cursor, int limit) {
        return store.list(prefix, cursor, limit);
    }

    @Override
    public void close() {
        store.close();
    }
}
