package dev.regen;

import static dev.regen.TestEdge.get;
import static org.assertj.core.api.Assertions.assertThat;

import dev.regen.TestEdge.Served;
import dev.regen.internal.Header;
import dev.regen.internal.OriginRequest;
import dev.regen.internal.OriginResponse;
import dev.regen.internal.Reply;
import dev.regen.store.KvEntry;
import dev.regen.store.KvStore;
import dev.regen.store.ListPage;
import dev.regen.store.MemoryStore;
import dev.regen.store.PutOptions;
import dev.regen.testing.FakeClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Refresh-ahead, eager revalidation, unchanged and conditional renders, the render budget (issue 17). */
class RegenEngineSmartTest {
    private final FakeClock clock = new FakeClock();
    private final FakeOrigin origin = new FakeOrigin();
    private final CountingStore store = new CountingStore(new MemoryStore(64L << 20, clock));
    private RegenEngine engine;
    private TestEdge edge;

    private void use(RegenConfig.Builder config) {
        engine = Regen.newBuilder()
                .config(config.build())
                .store(store)
                .clock(clock)
                // store I/O and background renders run in the call that starts them: nothing to wait for
                .executor(Runnable::run)
                .build()
                .newEngine(origin);
        edge = new TestEdge(engine, origin);
    }

    @AfterEach
    void close() {
        origin.release();
        engine.close();
        store.close();
    }

    private Served serve(String target) {
        return edge.serve(get(target)).orTimeout(10, TimeUnit.SECONDS).join();
    }

    private static String etag(Served s) {
        return ((Reply.Page) s.reply()).page().etag();
    }

    private static void assertNow(BooleanSupplier condition) {
        assertThat(condition.getAsBoolean()).isTrue();
    }

    // ------------------------------------------------------------------------------- refresh-ahead

    @Test
    void refreshAhead_requestInTheLastFifthOfTheFreshWindow_rendersBeforeItTurnsStale() throws Exception {
        use(RegenConfig.builder().revalidate(Duration.ofSeconds(10)));
        assertThat(serve("/hot").cacheStatus()).isEqualTo(CacheStatus.MISS);
        clock.advance(Duration.ofMillis(7_900));
        assertThat(serve("/hot").cacheStatus()).isEqualTo(CacheStatus.HIT);
        assertThat(origin.calls()).isEqualTo(1);

        clock.advance(Duration.ofMillis(200)); // 8.1 s: in the last 20 %
        Served ahead = serve("/hot");
        assertThat(ahead.cacheStatus()).isEqualTo(CacheStatus.HIT);
        assertThat(ahead.text()).isEqualTo("render 1");
        assertNow(() -> "render 2".equals(serve("/hot").text()));
        assertThat(origin.calls()).isEqualTo(2);
        assertThat(engine.stats().refreshAhead()).isEqualTo(1);

        clock.advance(Duration.ofSeconds(3)); // 11.1 s: stale for the first render, fresh for the second
        Served later = serve("/hot");
        assertThat(later.cacheStatus()).isEqualTo(CacheStatus.HIT);
        assertThat(later.text()).isEqualTo("render 2");
        assertThat(engine.stats().staleHits()).isZero();
    }

    @Test
    void refreshAhead_zero_leavesThePageUntilItIsStale() throws Exception {
        use(RegenConfig.builder().revalidate(Duration.ofSeconds(10)).refreshAhead(0));
        serve("/p");
        clock.advance(Duration.ofMillis(9_900));
        assertThat(serve("/p").cacheStatus()).isEqualTo(CacheStatus.HIT);
        clock.advance(Duration.ofMillis(200));
        assertThat(serve("/p").cacheStatus()).isEqualTo(CacheStatus.STALE);
        assertNow(() -> origin.calls() == 2);
        assertThat(engine.stats().refreshAhead()).isZero();
    }

    // ------------------------------------------------------------------------- eager revalidation

    @Test
    void eagerRevalidation_pagesWithRecentTraffic_reRenderedAtOnce_othersOnlyMarked() throws Exception {
        use(RegenConfig.builder().revalidate(Duration.ofMinutes(5)).eagerWindow(Duration.ofMinutes(1)));
        origin.respondWith(r -> FakeOrigin.page(r.target() + " v" + origin.calls(), new Header("Cache-Tag", "posts")));
        serve("/read");
        serve("/read"); // a request read it: recent traffic
        serve("/quiet"); // rendered, never read since
        serve("/old");
        serve("/old");
        clock.advance(Duration.ofMinutes(2)); // /old's last read is now outside the window
        serve("/read");
        int before = origin.calls();

        RegenEngine.Revalidation r =
                engine.revalidate(List.of(), List.of("posts"), false).get(10, TimeUnit.SECONDS);
        assertThat(r.invalidated()).isEqualTo(3);
        assertThat(r.queued()).isEqualTo(1);
        assertNow(() -> origin.calls() == before + 1);
        assertThat(origin.seen().get(before).target()).isEqualTo("/read");
        assertNow(() -> serve("/read").cacheStatus() == CacheStatus.HIT);
        assertThat(serve("/read").text()).isEqualTo("/read v" + (before + 1));
        assertThat(engine.stats().staleHits()).isZero();
        assertThat(serve("/quiet").cacheStatus()).isEqualTo(CacheStatus.STALE);
        assertThat(serve("/old").cacheStatus()).isEqualTo(CacheStatus.STALE);
    }

    @Test
    void eagerRevalidation_hardOrWindowZero_queuesNothing() throws Exception {
        use(RegenConfig.builder().eagerWindow(Duration.ZERO));
        serve("/a");
        serve("/a");
        assertThat(engine.revalidate(List.of("/a"), List.of(), false)
                        .get(10, TimeUnit.SECONDS)
                        .queued())
                .isZero();
        serve("/b");
        serve("/b");
        engine.close();
        use(RegenConfig.builder());
        serve("/b");
        assertThat(engine.revalidate(List.of("/b"), List.of(), true)
                        .get(10, TimeUnit.SECONDS)
                        .queued())
                .isZero();
    }

    // --------------------------------------------------------------------- unchanged renders, 304s

    @Test
    void unchangedRender_writesOnlyMetadata_keepsTheEtag() throws Exception {
        use(RegenConfig.builder().revalidate(Duration.ofSeconds(10)).refreshAhead(0));
        origin.respondWith(r -> FakeOrigin.page("the same bytes"));
        serve("/same");
        String firstEtag = etag(serve("/same"));
        assertThat(store.pagePuts.get()).isEqualTo(1);

        clock.advance(Duration.ofSeconds(11));
        assertThat(serve("/same").cacheStatus()).isEqualTo(CacheStatus.STALE);
        assertNow(() -> serve("/same").cacheStatus() == CacheStatus.HIT);
        assertThat(origin.calls()).isEqualTo(2);
        assertThat(store.pagePuts.get()).as("body writes").isEqualTo(1);
        assertThat(store.metadataWrites.get()).isEqualTo(1);
        assertThat(engine.stats().unchanged()).isEqualTo(1);
        assertThat(etag(serve("/same"))).isEqualTo(firstEtag);
    }

    @Test
    void changedRender_writesTheBody() throws Exception {
        use(RegenConfig.builder().revalidate(Duration.ofSeconds(10)).refreshAhead(0));
        serve("/c");
        clock.advance(Duration.ofSeconds(11));
        serve("/c");
        assertNow(() -> "render 2".equals(serve("/c").text()));
        assertThat(store.pagePuts.get()).isEqualTo(2);
        assertThat(engine.stats().unchanged()).isZero();
    }

    @Test
    void conditionalRender_sendsTheOriginsValidators_and304RefreshesWithoutABody() throws Exception {
        use(RegenConfig.builder().revalidate(Duration.ofSeconds(10)).refreshAhead(0));
        String lastModified = "Tue, 01 Dec 2026 10:00:00 GMT";
        origin.respondWith(r -> r.headers().stream().anyMatch(h -> h.is("if-none-match"))
                ? new OriginResponse(
                        304,
                        List.of(new Header("ETag", "\"v1\""), new Header("Cache-Control", "max-age=20")),
                        new byte[0])
                : FakeOrigin.page("body v1", new Header("ETag", "\"v1\""), new Header("Last-Modified", lastModified)));
        serve("/cond");
        clock.advance(Duration.ofSeconds(11));
        assertThat(serve("/cond").cacheStatus()).isEqualTo(CacheStatus.STALE);
        assertNow(() -> serve("/cond").cacheStatus() == CacheStatus.HIT);

        OriginRequest background = origin.seen().get(1);
        assertThat(HttpFieldsTestSupport.first(background.headers(), "if-none-match"))
                .isEqualTo("\"v1\"");
        assertThat(HttpFieldsTestSupport.first(background.headers(), "if-modified-since"))
                .isEqualTo(lastModified);
        Served refreshed = serve("/cond");
        assertThat(refreshed.text()).isEqualTo("body v1");
        assertThat(etag(refreshed)).isEqualTo("\"v1\"");
        assertThat(engine.stats().notModified()).isEqualTo(1);
        assertThat(store.pagePuts.get()).as("body writes").isEqualTo(1);
        // the 304's max-age=20 is the page's revalidate time now
        clock.advance(Duration.ofSeconds(15));
        assertThat(serve("/cond").cacheStatus()).isEqualTo(CacheStatus.HIT);
    }

    @Test
    void conditionalRender_neverSendsAnEtagRegenMade() throws Exception {
        use(RegenConfig.builder().revalidate(Duration.ofSeconds(10)).refreshAhead(0));
        serve("/plain");
        assertThat(etag(serve("/plain"))).startsWith("\"");
        clock.advance(Duration.ofSeconds(11));
        serve("/plain");
        assertNow(() -> origin.calls() == 2);
        assertThat(HttpFieldsTestSupport.first(origin.seen().get(1).headers(), "if-none-match"))
                .isNull();
    }

    // -------------------------------------------------------------------------------- render budget

    @Test
    void budget_capsConcurrentRenders_visitorsBeforeBackground() throws Exception {
        use(RegenConfig.builder()
                .revalidate(Duration.ofSeconds(10))
                .refreshAhead(0)
                .renderBudget(1));
        serve("/stale");
        clock.advance(Duration.ofSeconds(11));
        origin.hold();
        CompletableFuture<Served> first = edge.serve(get("/miss-1"));
        assertNow(() -> origin.calls() == 2);
        assertThat(serve("/stale").cacheStatus()).isEqualTo(CacheStatus.STALE); // queues a background render
        CompletableFuture<Served> second = edge.serve(get("/miss-2"));
        assertThat(origin.calls()).isEqualTo(2);
        assertThat(engine.renderBudget().visitorsWaiting()).isEqualTo(1);
        assertThat(engine.renderBudget().backgroundWaiting()).isEqualTo(1);

        origin.release();
        first.get(10, TimeUnit.SECONDS);
        second.get(10, TimeUnit.SECONDS);
        assertNow(() -> origin.calls() == 4);
        List<String> order = new ArrayList<>();
        origin.seen().forEach(r -> order.add(r.target()));
        assertThat(order).containsExactly("/stale", "/miss-1", "/miss-2", "/stale");
    }

    @Test
    void budget_fullQueue_shedsBackgroundWork() throws Exception {
        use(RegenConfig.builder()
                .revalidate(Duration.ofSeconds(10))
                .refreshAhead(0)
                .renderBudget(1)
                .backgroundQueue(0));
        serve("/s");
        clock.advance(Duration.ofSeconds(11));
        origin.hold();
        CompletableFuture<Served> miss = edge.serve(get("/m"));
        assertNow(() -> origin.calls() == 2);
        assertThat(serve("/s").cacheStatus()).isEqualTo(CacheStatus.STALE);
        assertThat(engine.stats().backgroundSkipped()).isEqualTo(1);
        assertThat(engine.renderBudget().shed()).isEqualTo(1);
        origin.release();
        miss.get(10, TimeUnit.SECONDS);
        // shed, not lost: the next stale hit queues it again
        serve("/s");
        assertNow(() -> origin.calls() == 3);
    }

    /** Counts body writes apart from metadata-only writes of pages. */
    private static final class CountingStore implements KvStore {
        private final KvStore delegate;
        final AtomicInteger pagePuts = new AtomicInteger();
        final AtomicInteger metadataWrites = new AtomicInteger();

        CountingStore(KvStore delegate) {
            this.delegate = delegate;
        }

        @Override
        public KvEntry get(String key) {
            return delegate.get(key);
        }

        @Override
        public void put(String key, byte[] value, PutOptions options) {
            if (key.startsWith(PageStore.PAGE_PREFIX)) {
                pagePuts.incrementAndGet();
            }
            delegate.put(key, value, options);
        }

        @Override
        public boolean replaceMetadata(String key, PutOptions options) {
            metadataWrites.incrementAndGet();
            return delegate.replaceMetadata(key, options);
        }

        @Override
        public boolean delete(String key) {
            return delegate.delete(key);
        }

        @Override
        public ListPage list(String prefix, String cursor, int limit) {
            return delegate.list(prefix, cursor, limit);
        }

        @Override
        public void close() {
            delegate.close();
        }
    }
}
