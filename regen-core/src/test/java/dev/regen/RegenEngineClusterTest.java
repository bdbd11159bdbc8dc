package dev.regen;

import static dev.regen.TestEdge.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.regen.TestEdge.Served;
import dev.regen.cluster.Cluster;
import dev.regen.internal.Reply;
import dev.regen.store.MemoryStore;
import dev.regen.testing.FakeClock;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The engine as one node of several: render locks held elsewhere, the lock-wait, what it stores after. */
class RegenEngineClusterTest {
    private final FakeClock clock = new FakeClock();
    private final FakeOrigin origin = new FakeOrigin();
    private final MemoryStore store = new MemoryStore(64L << 20, clock);
    private final FakeCluster cluster = new FakeCluster();
    private final RegenEngine engine = Regen.newBuilder()
            .config(RegenConfig.builder()
                    .revalidate(Duration.ofSeconds(60))
                    .lockWait(Duration.ofSeconds(5))
                    .build())
            .store(store)
            .clock(clock)
            .cluster(cluster)
            // store I/O and background renders run in the call that starts them; only the lock-wait's
            // polling runs on real time
            .executor(Runnable::run)
            .build()
            .newEngine(origin);
    private final TestEdge edge = new TestEdge(engine, origin);

    @AfterEach
    void close() {
        engine.close();
        store.close();
    }

    @Test
    void miss_lockHeldElsewhereForLongerThanTheLockWait_rendersItselfAndStores() throws Exception {
        cluster.heldElsewhere.add("/a @example.com");
        CompletableFuture<Served> waiting = edge.serve(get("/a"));
        // several polls of the store while the lock-wait lasts: the request still waits, nothing rendered
        await().during(Duration.ofMillis(300))
                .atMost(Duration.ofSeconds(5))
                .until(() -> !waiting.isDone() && origin.calls() == 0);

        clock.advance(Duration.ofSeconds(5));
        Served served = waiting.get(10, TimeUnit.SECONDS);
        assertThat(served.status()).isEqualTo(200);
        assertThat(served.cacheStatus()).isEqualTo(CacheStatus.MISS);
        assertThat(served.text()).isEqualTo("render 1");
        assertThat(origin.calls()).isEqualTo(1);
        // nothing newer appeared: stored and announced
        assertThat(store.get("page:/a @example.com")).isNotNull();
        assertThat(cluster.published).contains("/a @example.com");
        assertThat(edge.serve(get("/a")).get(10, TimeUnit.SECONDS).cacheStatus())
                .isEqualTo(CacheStatus.HIT);
    }

    @Test
    void miss_otherNodeStoresWhileTheWaiterRenders_keepsTheOtherNodesPage() throws Exception {
        cluster.heldElsewhere.add("/b @example.com");
        origin.hold();
        CompletableFuture<Served> waiting = edge.serve(get("/b"));
        clock.advance(Duration.ofSeconds(5));
        // the next poll finds the lock-wait over: the waiter renders itself
        await().atMost(Duration.ofSeconds(5)).until(() -> origin.calls() == 1);
        // meanwhile the lock holder stores its page (another engine on the same store)
        FakeOrigin holderOrigin = new FakeOrigin().respondWith(r -> FakeOrigin.page("from the lock holder"));
        try (RegenEngine other = Regen.newBuilder()
                .config(engine.config())
                .store(store)
                .clock(clock)
                .build()
                .newEngine(holderOrigin)) {
            Served stored = new TestEdge(other, holderOrigin).serve(get("/b")).get(10, TimeUnit.SECONDS);
            assertThat(stored.text()).isEqualTo("from the lock holder");
        }
        origin.release();
        Served served = waiting.get(10, TimeUnit.SECONDS);
        assertThat(served.status()).isEqualTo(200);
        assertThat(engine.rendersInFlight()).isZero();
        // the client had its own render; the store keeps the lock holder's page
        assertThat(new String(store.get("page:/b @example.com").value(), StandardCharsets.UTF_8))
                .isEqualTo("from the lock holder");
        assertThat(cluster.published).doesNotContain("/b @example.com");
    }

    @Test
    void stale_lockHeldElsewhere_servedStaleAtOnceWithoutWaiting() throws Exception {
        assertThat(edge.serve(get("/c")).get(10, TimeUnit.SECONDS).text()).isEqualTo("render 1");
        cluster.heldElsewhere.add("/c @example.com");
        clock.advance(Duration.ofSeconds(61));
        CompletableFuture<Reply> reply = engine.serve(get("/c"));
        assertThat(reply).isDone();
        assertThat(((Reply.Page) reply.join()).status()).isEqualTo(CacheStatus.STALE);
        assertThat(origin.calls()).as("the other node renders it").isEqualTo(1);
    }

    @Test
    void unchangedRender_otherNodeKeepsItsCopyWithTheNewRenderTime_changedOneDropsIt() throws Exception {
        Bus bus = new Bus();
        RegenConfig config = RegenConfig.builder()
                .revalidate(Duration.ofSeconds(10))
                .refreshAhead(0)
                .build();
        origin.respondWith(r -> FakeOrigin.page("same for " + r.target()));
        try (RegenEngine a = Regen.newBuilder()
                        .config(config)
                        .store(store)
                        .clock(clock)
                        .executor(Runnable::run)
                        .cluster(bus.node())
                        .build()
                        .newEngine(origin);
                RegenEngine b = Regen.newBuilder()
                        .config(config)
                        .store(store)
                        .clock(clock)
                        .executor(Runnable::run)
                        .cluster(bus.node())
                        .build()
                        .newEngine(origin)) {
            TestEdge edgeA = new TestEdge(a, origin);
            TestEdge edgeB = new TestEdge(b, origin);
            edgeA.serve(get("/u")).get(10, TimeUnit.SECONDS);
            assertThat(edgeB.serve(get("/u")).get(10, TimeUnit.SECONDS).cacheStatus())
                    .isEqualTo(CacheStatus.HIT);

            clock.advance(Duration.ofSeconds(11));
            assertThat(edgeA.serve(get("/u")).get(10, TimeUnit.SECONDS).cacheStatus())
                    .isEqualTo(CacheStatus.STALE);
            assertThat(a.stats().unchanged()).isEqualTo(1);
            assertThat(b.stats().clusterRefreshes()).isEqualTo(1);
            assertThat(b.stats().clusterDrops()).isZero();
            // B's own copy, fresh again: no store read, no render of its own
            Served onB = edgeB.serve(get("/u")).get(10, TimeUnit.SECONDS);
            assertThat(onB.cacheStatus()).isEqualTo(CacheStatus.HIT);
            assertThat(((Reply.Page) onB.reply()).loaded()).isFalse();
            assertThat(origin.calls()).isEqualTo(2);

            origin.respondWith(r -> FakeOrigin.page("changed " + r.target()));
            clock.advance(Duration.ofSeconds(11));
            edgeA.serve(get("/u")).get(10, TimeUnit.SECONDS);
            assertThat(b.stats().clusterDrops()).isEqualTo(1);
            assertThat(edgeB.serve(get("/u")).get(10, TimeUnit.SECONDS).text()).isEqualTo("changed /u");
        }
    }

    @Test
    void renderTheStoreDidNotTake_otherNodesKeepTheirCopy_noRenderInTurn() throws Exception {
        Bus bus = new Bus();
        WriteFailingStore failing = new WriteFailingStore(store);
        RegenConfig config = RegenConfig.builder()
                .revalidate(Duration.ofSeconds(10))
                .refreshAhead(0)
                .build();
        Regen.Builder node =
                Regen.newBuilder().config(config).store(failing).clock(clock).executor(Runnable::run);
        try (RegenEngine a = node.cluster(bus.node()).build().newEngine(origin);
                RegenEngine b = node.cluster(bus.node()).build().newEngine(origin)) {
            TestEdge edgeA = new TestEdge(a, origin);
            TestEdge edgeB = new TestEdge(b, origin);
            edgeA.serve(get("/w")).get(10, TimeUnit.SECONDS);
            assertThat(edgeB.serve(get("/w")).get(10, TimeUnit.SECONDS).text()).isEqualTo("render 1");

            failing.failing = true;
            clock.advance(Duration.ofSeconds(11));
            edgeA.serve(get("/w")).get(10, TimeUnit.SECONDS); // stale: A renders, the store refuses it
            assertThat(origin.calls()).isEqualTo(2);
            assertThat(b.stats().clusterDrops())
                    .as("B could not read A's page from the store: it keeps its own")
                    .isZero();
            Served onB = edgeB.serve(get("/w")).get(10, TimeUnit.SECONDS);
            assertThat(((Reply.Page) onB.reply()).loaded()).isFalse();
            assertThat(onB.text()).isEqualTo("render 1");
        }
    }

    /** Nodes in one process: what one publishes, the others hear (never itself). */
    static final class Bus {
        private final java.util.List<Cluster.Listener[]> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

        Cluster node() {
            Cluster.Listener[] mine = new Cluster.Listener[1];
            listeners.add(mine);
            return new Cluster() {
                @Override
                public RenderLock tryLock(String key, Duration ttl) {
                    return new RenderLock(key, "bus");
                }

                @Override
                public void unlock(RenderLock lock) {}

                @Override
                public CompletableFuture<Void> publish(Collection<String> keys) {
                    others(mine).forEach(l -> l.changed(keys));
                    return CompletableFuture.completedFuture(null);
                }

                @Override
                public CompletableFuture<Void> publishRefreshed(Collection<Refresh> refreshes) {
                    others(mine).forEach(l -> l.refreshed(refreshes));
                    return CompletableFuture.completedFuture(null);
                }

                @Override
                public void subscribe(Listener listener) {
                    mine[0] = listener;
                }

                @Override
                public void close() {}
            };
        }

        private java.util.List<Cluster.Listener> others(Cluster.Listener[] mine) {
            java.util.List<Cluster.Listener> out = new java.util.ArrayList<>();
            for (Cluster.Listener[] l : listeners) {
                if (l != mine && l[0] != null) {
                    out.add(l[0]);
                }
            }
            return out;
        }
    }

    /** Locks of some keys held by "another node"; every other lock granted; publishes recorded. */
    static final class FakeCluster implements Cluster {
        final Set<String> heldElsewhere = ConcurrentHashMap.newKeySet();
        final Set<String> published = ConcurrentHashMap.newKeySet();

        @Override
        public RenderLock tryLock(String key, Duration ttl) {
            return heldElsewhere.contains(key) ? null : new RenderLock(key, "fake");
        }

        @Override
        public void unlock(RenderLock lock) {}

        @Override
        public CompletableFuture<Void> publish(Collection<String> keys) {
            published.addAll(keys);
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public void subscribe(Listener listener) {}

        @Override
        public void close() {}
    }
}
