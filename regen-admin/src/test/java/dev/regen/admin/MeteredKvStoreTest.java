package dev.regen.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.regen.store.KvEntry;
import dev.regen.store.KvStore;
import dev.regen.store.ListPage;
import dev.regen.store.MemoryStore;
import dev.regen.store.PutOptions;
import dev.regen.store.StoreException;
import dev.regen.testing.FakeClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MeteredKvStoreTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @Test
    void replaceMetadata_forwardsToTheWrappedStoreAndIsTimedUnderItsOwnOp() {
        RecordingStore inner = new RecordingStore();
        KvStore store = new MeteredKvStore(inner, registry);
        store.put("/k", new byte[] {1, 2}, PutOptions.metadata(Map.of("a", "1")));

        assertThat(store.replaceMetadata("/k", PutOptions.metadata(Map.of("a", "2"))))
                .isTrue();
        assertThat(store.replaceMetadata("/missing", PutOptions.NONE)).isFalse();

        assertThat(inner.replaced)
                .as("the wrapped store's own replaceMetadata, not get + put")
                .isEqualTo(2);
        assertThat(inner.puts).isEqualTo(1);
        assertThat(store.get("/k").metadata()).isEqualTo(Map.of("a", "2"));
        assertThat(count("replace_metadata", "ok")).isEqualTo(2);
        assertThat(count("put", "ok")).isEqualTo(1);
    }

    @Test
    void replaceMetadata_storeFails_isTimedAsAnErrorAndRethrown() {
        RecordingStore inner = new RecordingStore();
        inner.failing = true;
        KvStore store = new MeteredKvStore(inner, registry);

        assertThatThrownBy(() -> store.replaceMetadata("/k", PutOptions.NONE)).isInstanceOf(StoreException.class);

        assertThat(count("replace_metadata", "error")).isEqualTo(1);
        assertThat(count("replace_metadata", "ok")).isZero();
    }

    private long count(String op, String result) {
        return registry.get("regen.store.operation.duration")
                .tag("op", op)
                .tag("result", result)
                .timer()
                .count();
    }

    /** A memory store that counts puts and metadata replacements, and fails the latter when told to. */
    private static final class RecordingStore implements KvStore {
        private final MemoryStore inner = new MemoryStore(1 << 20, new FakeClock());
        int puts;
        int replaced;
        boolean failing;

        @Override
        public KvEntry get(String key) {
            return inner.get(key);
        }

        @Override
        public void put(String key, byte[] value, PutOptions options) {
            puts++;
            inner.put(key, value, options);
        }

        @Override
        public boolean replaceMetadata(String key, PutOptions options) {
            replaced++;
            if (failing) {
                throw new StoreException("disk I/O error");
            }
            return inner.replaceMetadata(key, options);
        }

        @Override
        public boolean delete(String key) {
            return inner.delete(key);
        }

        @Override
        public ListPage list(String prefix, String cursor, int limit) {
            return inner.list(prefix, cursor, limit);
        }

        @Override
        public void close() {
            inner.close();
        }
    }
}
