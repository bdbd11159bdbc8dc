package dev.regen.bench;

import dev.regen.store.PutOptions;
import dev.regen.store.embedded.EmbeddedStore;
import java.nio.file.Files;
import java.time.InstantSource;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A put into the embedded store: a new page of 3 KB (a render), and the same value again with other
 * metadata (a page marked stale by a soft revalidation: the value is not rewritten). One transaction
 * each, WAL without fsync per commit. Run:
 * {@code java -jar regen-benchmarks/target/benchmarks.jar StoreWriteBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class StoreWriteBenchmark {
    private static final int STALE_PAGES = 1000;
    private EmbeddedStore store;
    private byte[] body;
    private long next;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        store = EmbeddedStore.open(Files.createTempDirectory("regen-put"), InstantSource.system(), 16L << 30);
        body = Pages.page("/p/1", 3072).body();
        for (int i = 0; i < STALE_PAGES; i++) {
            store.put("page:/stale/" + i, body, PutOptions.metadata(Map.of("i", "0")));
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        store.close();
    }

    @Benchmark
    public void putNewPage() {
        store.put("page:/new/" + next++, body, PutOptions.metadata(Map.of("h", "Content-Type:text/html\n")));
    }

    @Benchmark
    public void putSameValueNewMetadata() {
        store.put(
                "page:/stale/" + ThreadLocalRandom.current().nextInt(STALE_PAGES),
                body,
                PutOptions.metadata(Map.of("i", Long.toString(next++))));
    }
}
