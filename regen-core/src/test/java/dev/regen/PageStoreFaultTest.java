package dev.regen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.regen.store.MemoryStore;
import dev.regen.testing.FakeClock;
import dev.regen.testing.LogCapture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Store faults seen from the engine: logged once per change of state, not once per request. */
class PageStoreFaultTest {
    private final FakeClock clock = new FakeClock();
    private final WriteFailingStore store = new WriteFailingStore(new MemoryStore(64L << 20, clock));
    private final FakeOrigin origin = new FakeOrigin();
    private final AtomicInteger writeFailures = new AtomicInteger();
    private final RegenEngine engine = Regen.newBuilder()
            .config(RegenConfig.builder().revalidate(Duration.ofSeconds(60)).build())
            .store(store)
            .clock(clock)
            .listener(new EngineListener() {
                @Override
                public void storeWriteFailed() {
                    writeFailures.incrementAndGet();
                }
            })
            .build()
            .newEngine(origin);
    private final TestEdge edge = new TestEdge(engine, origin);

    @AfterEach
    void close() {
        engine.close();
        store.close();
    }

    @Test
    void serve_whileWritesFailButReadsWork_logsOneLineEachWay() {
        try (LogCapture logs = new LogCapture(PageStore.class)) {
            store.failing = true; // a full disk: reads go on, writes fail
            for (int i = 0; i < 10; i++) {
                serve("/p/" + i); // each a read of the store (a miss), a render, a failed write
            }
            store.failing = false;
            serve("/q/1");
            serve("/q/2");

            assertThat(logs.lines("store writes fail")).hasSize(1);
            assertThat(logs.lines("store writes work again")).hasSize(1);
            assertThat(logs.lines("store reads")).isEmpty();
        }
    }

    @Test
    void serve_whileWritesFail_saysStoredFalseWithTheReason_andTellsTheListener() {
        store.failing = true;
        serve("/first"); // the write that finds the store failing: its head was already sent
        TestEdge.Served second = serve("/second");
        assertThat(second.cacheStatusField())
                .contains("stored=false")
                .contains("memory only, the store fails: disk full");
        assertThat(serve("/second").cacheStatus())
                .as("kept in memory all the same")
                .isEqualTo(CacheStatus.HIT);
        assertThat(writeFailures).hasValue(2);

        store.failing = false;
        serve("/third");
        assertThat(serve("/fourth").cacheStatusField()).contains("stored=true");
    }

    private TestEdge.Served serve(String target) {
        return edge.serve(TestEdge.get(target)).orTimeout(10, TimeUnit.SECONDS).join();
    }
}
