package dev.regen.bench;

import dev.regen.internal.Header;
import dev.regen.internal.OriginResponse;
import dev.regen.internal.http.Compression;
import dev.regen.store.KvEntry;
import dev.regen.store.PutOptions;
import dev.regen.store.embedded.EmbeddedStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The L2 read path, piece by piece: a read of a 20 KB page from the embedded store (5,000 pages, the
 * working set of {@code bench/l2.sh}), the checksum that read verifies, and the gzip variant the engine
 * makes again when it loads a page from the store. Run:
 * {@code java -jar regen-benchmarks/target/benchmarks.jar StoreReadBenchmark}; with
 * {@code -p million=DIR -p millionPages=N}, {@link #embeddedGet} reads random pages of a store filled by
 * {@link MillionPages} instead.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class StoreReadBenchmark {
    static final int PAGES = 5000;

    /** A store filled by {@link MillionPages} to read from, or empty for 5,000 pages of 20 KB made here. */
    @Param("")
    public String million;

    /** How many pages that store holds. */
    @Param("1000000")
    public int millionPages;

    private EmbeddedStore store;
    private int pages;
    private byte[] body;
    private List<Header> headers;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        OriginResponse page = Pages.page("/p/1");
        body = page.body();
        headers = page.headers();
        if (!million.isEmpty()) {
            store = EmbeddedStore.open(Path.of(million), InstantSource.system(), 64L << 30);
            pages = millionPages;
            return;
        }
        Path dir = Files.createTempDirectory("regen-l2-read");
        store = EmbeddedStore.open(dir, InstantSource.system(), 1L << 30);
        pages = PAGES;
        for (int i = 0; i < PAGES; i++) {
            store.put(
                    "page:/p/" + i,
                    Pages.page("/p/" + i).body(),
                    PutOptions.metadata(Map.of("h", "Content-Type:text/html; charset=utf-8\n", "e", "\"x\"")));
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        store.close();
    }

    /** One page read from the embedded store, its checksum verified. */
    @Benchmark
    public KvEntry embeddedGet() {
        int i = ThreadLocalRandom.current().nextInt(pages);
        return store.get(million.isEmpty() ? "page:/p/" + i : "page:localhost" + MillionPages.path(i));
    }

    /** The checksum a read verifies, alone: CRC32C of a 20 KB body. */
    @Benchmark
    public long crc32c() {
        CRC32C crc = new CRC32C();
        crc.update(body);
        return crc.getValue();
    }

    /** What the engine does to each page it loads from the store today: gzip it again (level 9). */
    @Benchmark
    public byte[] gzipAtLoad() {
        return Compression.gzipIfUseful(headers, body);
    }
}
