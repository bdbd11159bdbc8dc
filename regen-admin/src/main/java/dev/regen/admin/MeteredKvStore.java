package dev.regen.admin;

import dev.regen.store.KvEntry;
import dev.regen.store.KvStore;
import dev.regen.store.ListPage;
import dev.regen.store.PutOptions;
import dev.regen.store.StoreHealth;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A {@link KvStore} that times every operation of the store it wraps into
 * {@code regen_store_operation_duration_seconds{op="get|put|replace_metadata|delete|list", result="ok|error"}}. Adds
 * nothing else: values, exceptions, health and ordering are the wrapped store's. Obtained from
 * {@link RegenMetrics#instrument(KvStore)}.
 */
final class MeteredKvStore implements KvStore {
    private static final Duration[] BUCKETS = {
        Duration.ofNanos(100_000), Duration.ofNanos(250_000), Duration.ofNanos(500_000), Duration.ofMillis(1),
        Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
        Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofSeconds(1)
    };

    private final KvStore store;
    private static final String[] OPS = {"get", "put", "delete", "list", "replace_metadata"};
    private final Timer[] ok = new Timer[OPS.length];
    private final Timer[] error = new Timer[OPS.length];

    MeteredKvStore(KvStore store, MeterRegistry registry) {
        this.store = Objects.requireNonNull(store, "store");
        for (int i = 0; i < OPS.length; i++) {
            ok[i] = timer(registry, OPS[i], "ok");
            error[i] = timer(registry, OPS[i], "error");
        }
    }

    private static Timer timer(MeterRegistry registry, String op, String result) {
        return Timer.builder("regen.store.operation.duration")
                .description("Operations of the persistent store (L2), by operation and result")
                .tag("op", op)
                .tag("result", result)
                .serviceLevelObjectives(BUCKETS)
                .register(registry);
    }

    private <T> T timed(int op, Supplier<T> call) {
        long start = System.nanoTime();
        try {
            T value = call.get();
            ok[op].record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            return value;
        } catch (RuntimeException | Error e) {
            error[op].record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            throw e;
        }
    }

    @Override
    public KvEntry get(String key) {
        return timed(0, () -> store.get(key));
    }

    @Override
    public void put(String key, byte[] value, PutOptions options) {
        timed(1, () -> {
            store.put(key, value, options);
            return null;
        });
    }

    /** Forwarded, not left to the default: the wrapped store's atomic, value-free version is the point. */
    @Override
    public boolean replaceMetadata(String key, PutOptions options) {
        return timed(4, () -> store.replaceMetadata(key, options));
    }

    @Override
    public boolean delete(String key) {
        return timed(2, () -> store.delete(key));
    }

    @Override
    public ListPage list(String prefix, String cursor, int limit) {
        return timed(3, () -> store.list(prefix, cursor, limit));
    }

    @Override
    public StoreHealth health() {
        return store.health();
    }

    @Override
    public void close() {
        store.close();
    }

    @Override
    public String toString() {
        return "Metered[" + store + "]";
    }
}
