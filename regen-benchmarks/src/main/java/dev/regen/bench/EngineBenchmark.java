package dev.regen.bench;

import dev.regen.QueryPolicy;
import dev.regen.Regen;
import dev.regen.RegenConfig;
import dev.regen.RegenEngine;
import dev.regen.internal.CachedPage;
import dev.regen.internal.ClientRequest;
import dev.regen.internal.Reply;
import dev.regen.internal.http.RequestTarget;
import dev.regen.store.MemoryStore;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
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
 * The engine's share of a cache hit: target canonicalisation (cached), bypass checks, L1 lookup and
 * the freshness decision, without any HTTP. Run: {@code java -jar regen-benchmarks/target/benchmarks.jar}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class EngineBenchmark {
    private RegenEngine engine;
    private MemoryStore store;
    private ClientRequest hit;
    private CachedPage page;
    private Instant now;

    @Setup(Level.Trial)
    public void setUp() {
        store = new MemoryStore(512L << 20, InstantSource.system());
        Pages origin = new Pages();
        engine = Regen.newBuilder()
                .config(RegenConfig.builder().revalidate(Duration.ofHours(1)).build())
                .store(store)
                .build()
                .newEngine(origin);
        for (int i = 0; i < 100; i++) {
            Edge.serve(engine, origin, "/p/" + i);
        }
        hit = Edge.get("/p/42");
        page = ((Reply.Page) Edge.serve(engine, origin, "/p/42")).page();
        now = Instant.now();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        engine.close();
        store.close();
    }

    /** A whole engine decision for an L1 hit. */
    @Benchmark
    public Reply serveHit() {
        return engine.serve(hit).join();
    }

    /** The freshness rule alone. */
    @Benchmark
    public Object freshness() {
        return page.freshness(now);
    }

    /** Canonicalising a messy target, as done once per distinct target. */
    @Benchmark
    public RequestTarget canonicalise() {
        return RequestTarget.parse("/blog//posts/./a%2d1?utm_source=x&b=2&a=1&fbclid=y", QueryPolicy.IGNORE_TRACKING);
    }
}
