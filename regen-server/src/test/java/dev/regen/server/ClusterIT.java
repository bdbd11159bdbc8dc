package dev.regen.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regen.RegenConfig;
import dev.regen.cluster.Cluster;
import dev.regen.server.cli.Main;
import dev.regen.server.config.ServerConfig;
import dev.regen.server.config.StoreSpec;
import dev.regen.store.KvStore;
import dev.regen.store.redis.RedisCluster;
import dev.regen.store.redis.RedisStore;
import dev.regen.testing.FakeClock;
import dev.regen.testing.Ports;
import dev.regen.testing.RedisServerFixture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Three Regen nodes in one JVM over one real {@code redis-server} and one real origin: each node has
 * its own L1, its own {@link RedisStore} and its own {@link RedisCluster}, as three {@code regen serve}
 * processes would. The bars of the Redis/cluster issue: one render per page for the whole cluster,
 * revalidations seen by every node within milliseconds, Redis dying under load without a failed
 * request, and a node dying mid-render without losing the page.
 *
 * <p>The shared checks (single flight, invalidation visibility) are static so {@link ClusterModeIT}
 * runs the same ones against a Redis Cluster.
 */
class ClusterIT {
    static final String PUBLIC_HOST = "www.example.com";
    static final String SECRET = "cluster-it-secret-0123456789";
    static final Duration REVALIDATE = Duration.ofSeconds(60);
    static final int CONCURRENT = 300;
    static final int VISIBILITY_TRIALS = 200;
    static final Duration VISIBILITY_BAR = Duration.ofMillis(100);
    static final int STALE_CYCLES = 12;

    private final FakeClock clock = new FakeClock();
    private RedisServerFixture redis;
    private TestOrigin origin;
    private Nodes nodes;
    private Process child;

    @TempDir
    Path dir;

    @BeforeEach
    void start() throws Exception {
        redis = RedisServerFixture.start();
        origin = new TestOrigin();
        nodes = Nodes.start(
                redis.uri(),
                origin,
                clock,
                RegenConfig.builder().revalidate(REVALIDATE).build());
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (child != null) {
            child.destroyForcibly();
            child.waitFor(10, TimeUnit.SECONDS);
        }
        try {
            if (origin != null) {
                origin.release(); // closing a node waits for its requests in flight
            }
            if (nodes != null) {
                nodes.close();
            }
        } finally {
            if (origin != null) {
                origin.close();
            }
            if (redis != null) {
                redis.close();
            }
        }
    }

    // ------------------------------------------------------------------------------------------ the bars

    @Test
    void coldPage_300ConcurrentOverThreeNodes_oneOriginRender() throws Exception {
        coldPageSingleFlight(nodes, origin, "/p/cold");
    }

    @Test
    void stalePage_300ConcurrentOverThreeNodes_oneRenderAndNobodyWaits() throws Exception {
        stalePageSingleFlight(nodes, origin, clock, "/p/stale");
    }

    @Test
    void stalePage_continuousLoadOverThreeNodes_oneRenderEachTimeItTurnsStale() throws Exception {
        staleUnderLoadSingleFlight(nodes, origin, clock, "/p/hot", STALE_CYCLES);
    }

    @Test
    void revalidationOnB_whileARendersTheOldContent_isNotLostWhenTheRenderEnds() throws Exception {
        revalidationDuringRender(nodes, origin, clock, "/p/race-b", 1);
    }

    @Test
    void revalidationOnA_whileARendersTheOldContent_isNotLostWhenTheRenderEnds() throws Exception {
        revalidationDuringRender(nodes, origin, clock, "/p/race-a", 0);
    }

    @Test
    void revalidationOnA_200SoftAndHard_visibleOnBAndCWithin100msAtP99() throws Exception {
        assertVisibilityBar(invalidationVisibility(nodes, origin, "/p/vis", VISIBILITY_TRIALS));
    }

    @Test
    void redisKilledMidLoad_noFailedRequest_revalidationsWorkWithin5sOfItsReturn() throws Exception {
        int pages = 20;
        for (int p = 0; p < pages; p++) {
            for (int n = 0; n < nodes.size(); n++) {
                assertThat(nodes.get(n, "/load/" + p).statusCode()).isEqualTo(200);
            }
        }
        assertThat(origin.renders("/load/0")).isEqualTo(1);

        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        root.addAppender(logs);
        // 4 clients for 3 s over the 20 pages (and a few cold ones); everything turns stale at
        // 0.75 s (renders with Redis up) and again at 2.25 s (renders with Redis down); Redis dies at 1.5 s
        Load load = Load.start(nodes, 4, pages);
        try {
            Thread.sleep(750);
            clock.advance(REVALIDATE.plusSeconds(1));
            Thread.sleep(750);
            redis.kill();
            long killedAt = load.requests.get();
            Thread.sleep(750);
            clock.advance(REVALIDATE.plusSeconds(1));
            Thread.sleep(750);
            load.stop();
            System.out.printf(
                    "[ClusterIT] redis kill mid-load: %d requests (%d after the kill), %d failed; "
                            + "statuses %s; renders per node %s%n",
                    load.requests.get(),
                    load.requests.get() - killedAt,
                    load.failures.size(),
                    new TreeMap<>(load.statuses),
                    nodes.rendersPerNode());
            assertThat(load.failures).as("failed client requests").isEmpty();
            assertThat(load.requests.get() - killedAt)
                    .as("requests while Redis was down")
                    .isGreaterThan(20);
            // not a bar: what a webhook call gets while Redis is down
            HttpResponse<String> duringOutage = nodes.revalidate(0, "/load/1", false);
            System.out.printf(
                    "[ClusterIT] a revalidation while Redis is down answers %d %s%n",
                    duringOutage.statusCode(), duringOutage.body().strip());
            assertThat(duringOutage.statusCode())
                    .as("never a success that did not happen")
                    .isEqualTo(503);
        } finally {
            load.stop();
            root.detachAppender(logs);
        }
        Map<String, Integer> warnings = new TreeMap<>();
        for (ILoggingEvent e : logs.list) {
            if (e.getLevel().isGreaterOrEqual(Level.WARN)) {
                warnings.merge(e.getLoggerName().replaceAll(".*\\.", "") + " " + e.getLevel(), 1, Integer::sum);
            }
        }
        System.out.printf("[ClusterIT] warnings and errors logged during the outage, by logger: %s%n", warnings);

        long back = System.nanoTime();
        redis.restart();
        Duration recovered = revalidationRoundTripAfter(nodes, origin, "/load/3", back, Duration.ofSeconds(10));
        System.out.printf(
                "[ClusterIT] redis back: a revalidation through node A reached B and C %d ms after the "
                        + "restart began%n",
                recovered.toMillis());
        assertThat(recovered).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void redisAndOriginDown_stalePagesInMemory_stillServedStale() throws Exception {
        String path = "/p/l1";
        for (int n = 0; n < nodes.size(); n++) {
            assertThat(nodes.get(n, path).statusCode()).isEqualTo(200);
        }
        String body = "<p>" + path + " render 1</p>";
        redis.kill();
        origin.stop();
        try {
            clock.advance(REVALIDATE.plusSeconds(1));
            // stale-while-revalidate: each node answers from L1 and tries one render, which fails
            List<String> seen = new ArrayList<>();
            for (int n = 0; n < nodes.size(); n++) {
                seen.add("node " + n + ": " + describe(nodes.get(n, path)));
            }
            awaitTrue("the renders end", Duration.ofSeconds(10), () -> nodes.rendersInFlight() == 0);
            // stale-if-error: the page is still in memory and still served, neither Redis nor the origin answering
            for (int n = 0; n < nodes.size(); n++) {
                seen.add("node " + n + " after its render failed: " + describe(nodes.get(n, path)));
            }
            System.out.printf("[ClusterIT] Redis and origin down, page stale in L1: %s%n", seen);
            assertThat(seen).allMatch(line -> line.endsWith("200 STALE " + body), "200 STALE from L1");
        } finally {
            origin.start();
            redis.restart(); // closing the nodes is quicker with Redis there
        }
    }

    @Test
    void nodeKilledMidRender_leaseLapses_anotherNodeServesThePageWithin8sWithout5xx() throws Exception {
        String path = "/p/orphan";
        int port = Ports.freePort();
        Path config = Files.writeString(
                dir.resolve("regen.yaml"),
                String.join(
                        "\n",
                        "origin: " + origin.url(),
                        "listen: 127.0.0.1:" + port,
                        "store: " + redis.uri(),
                        "revalidate: " + REVALIDATE.toSeconds(),
                        "hosts: [" + PUBLIC_HOST + "]",
                        "unlisted-host: " + PUBLIC_HOST,
                        "timeouts: {render: 30s}", // the lock is a 3 s lease whatever the render timeout
                        ""));
        child = startNode(config, dir);
        awaitListening(child, port);

        origin.hold();
        HttpClient client =
                HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        CompletableFuture<HttpResponse<String>> orphaned = client.sendAsync(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .timeout(Duration.ofSeconds(20))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        awaitTrue("the child's render reaches the origin", Duration.ofSeconds(10), () -> origin.renders(path) == 1);
        String lockKey = "regen:lock:" + path + " @" + PUBLIC_HOST; // KeyLayout: <prefix>lock:<key>, default prefix
        long ttlAtKill = Long.parseLong(redis.call("PTTL", lockKey));
        assertThat(ttlAtKill).as("the child holds the render lock in Redis").isPositive();
        assertThat(redis.call("GET", lockKey)).doesNotStartWith(RedisCluster.LOCAL_TOKEN_PREFIX);

        Thread.sleep(1_000); // mid-render, past a renewal
        assertThat(redis.call("GET", lockKey))
                .as("renewed by its holder")
                .doesNotStartWith(RedisCluster.LOCAL_TOKEN_PREFIX);
        // SIGKILL: no unlock, no goodbye; the lease stays until it lapses
        child.destroyForcibly();
        assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
        long killed = System.nanoTime();
        origin.release(); // the dead node's request at the origin ends; its answer goes nowhere
        assertThat(orphaned).failsWithin(Duration.ofSeconds(10));
        assertThat(Long.parseLong(redis.call("PTTL", lockKey)))
                .as("the lock outlives its owner")
                .isPositive();

        // B and C both want the page: one renders once the lock expires, the other gets its page
        long rendersBefore = nodes.renders();
        CompletableFuture<HttpResponse<String>> b = nodes.getAsync(1, path);
        CompletableFuture<HttpResponse<String>> c = nodes.getAsync(2, path);
        HttpResponse<String> rb = b.get(30, TimeUnit.SECONDS);
        long answeredMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
        HttpResponse<String> rc = c.get(30, TimeUnit.SECONDS);
        System.out.printf(
                "[ClusterIT] node killed mid-render: lock TTL left at the kill %d ms; B answered %d ms "
                        + "after the kill; B %s, C %s%n",
                ttlAtKill, answeredMs, describe(rb), describe(rc));
        String expected = "<p>" + path + " render 2</p>";
        assertThat(rb.statusCode()).isEqualTo(200);
        assertThat(rc.statusCode()).isEqualTo(200);
        assertThat(rb.body()).isEqualTo(expected);
        assertThat(rc.body()).isEqualTo(expected);
        assertThat(cacheStatus(rb)).isEqualTo("MISS");
        // they waited for the lease to lapse (at most one lease, 3 s), not for an unlock that never came
        assertThat(ttlAtKill).isLessThanOrEqualTo(3_000);
        assertThat(answeredMs).isLessThan(8_000);
        assertThat(nodes.renders() - rendersBefore).as("renders by B and C").isEqualTo(1);
        assertThat(origin.renders(path))
                .as("origin renders: the dead node's and one more")
                .isEqualTo(2);
        // nothing is lost: the page is in the shared store, every node serves it
        for (int n = 0; n < nodes.size(); n++) {
            HttpResponse<String> r = nodes.get(n, path);
            assertThat(r.body()).isEqualTo(expected);
            assertThat(cacheStatus(r)).isEqualTo("HIT");
        }
        assertThat(origin.renders(path)).isEqualTo(2);
    }

    // ------------------------------------------------------------------------------ checks, shared with ClusterModeIT

    /** {@link #CONCURRENT} requests, spread over the nodes, for a page no node has: one origin render. */
    static void coldPageSingleFlight(Nodes nodes, TestOrigin origin, String path) throws Exception {
        long missesBefore = nodes.misses();
        long rendersBefore = nodes.renders();
        origin.hold();
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        for (int i = 0; i < CONCURRENT; i++) {
            all.add(nodes.getAsync(i % nodes.size(), path));
        }
        // all 300 are inside the nodes, waiting on the one render, before the origin answers
        awaitTrue(
                "all " + CONCURRENT + " requests inside the nodes",
                Duration.ofSeconds(20),
                () -> nodes.misses() - missesBefore == CONCURRENT);
        awaitTrue("the render reaches the origin", Duration.ofSeconds(10), () -> origin.renders(path) >= 1);
        origin.release();
        Set<String> bodies = new HashSet<>();
        Map<String, Integer> statuses = new TreeMap<>();
        for (CompletableFuture<HttpResponse<String>> f : all) {
            HttpResponse<String> r = f.get(30, TimeUnit.SECONDS);
            assertThat(r.statusCode()).as(describe(r)).isEqualTo(200);
            bodies.add(r.body());
            statuses.merge(cacheStatus(r), 1, Integer::sum);
        }
        System.out.printf(
                "[%s] cold page: %d requests over %d nodes -> statuses %s, origin renders %d, "
                        + "renders per node %s%n",
                nodes.label, CONCURRENT, nodes.size(), statuses, origin.renders(path), nodes.rendersPerNode());
        assertThat(bodies).containsExactly("<p>" + path + " render 1</p>");
        assertThat(statuses).containsExactly(Map.entry("MISS", CONCURRENT));
        assertThat(origin.renders(path)).isEqualTo(1);
        assertThat(nodes.renders() - rendersBefore).isEqualTo(1);
    }

    /**
     * A page every node holds turns stale; {@link #CONCURRENT} requests over the nodes are all answered
     * with the stale page while the single render is held at the origin; then every node serves the new page.
     */
    static void stalePageSingleFlight(Nodes nodes, TestOrigin origin, FakeClock clock, String path) throws Exception {
        String first = "<p>" + path + " render 1</p>";
        assertThat(nodes.get(0, path).body()).isEqualTo(first);
        for (int n = 0; n < nodes.size(); n++) {
            HttpResponse<String> r = nodes.get(n, path);
            assertThat(cacheStatus(r)).isEqualTo("HIT");
            assertThat(r.body()).isEqualTo(first);
        }
        clock.advance(REVALIDATE.plusSeconds(1));
        long rendersBefore = nodes.renders();
        origin.hold();
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        for (int i = 0; i < CONCURRENT; i++) {
            all.add(nodes.getAsync(i % nodes.size(), path));
        }
        // every request is answered from the stale page while the render is held: nobody waits for it
        Map<String, Integer> statuses = new TreeMap<>();
        for (CompletableFuture<HttpResponse<String>> f : all) {
            HttpResponse<String> r = f.get(15, TimeUnit.SECONDS);
            assertThat(r.statusCode()).as(describe(r)).isEqualTo(200);
            assertThat(r.body()).isEqualTo(first);
            statuses.merge(cacheStatus(r), 1, Integer::sum);
        }
        assertThat(statuses).containsExactly(Map.entry("STALE", CONCURRENT));
        awaitTrue("the background render reaches the origin", Duration.ofSeconds(10), () -> origin.renders(path) == 2);
        assertThat(nodes.renders() - rendersBefore).isEqualTo(1);
        origin.release();
        // the new page reaches every node without a second render
        String second = "<p>" + path + " render 2</p>";
        List<String> bodies = new ArrayList<>();
        awaitTrue("every node serves a fresh page", Duration.ofSeconds(10), () -> {
            bodies.clear();
            for (int n = 0; n < nodes.size(); n++) {
                HttpResponse<String> r = nodes.getQuietly(n, path);
                if (!cacheStatus(r).equals("HIT")) {
                    return false;
                }
                bodies.add(r.body());
            }
            return true;
        });
        awaitTrue("no render under way", Duration.ofSeconds(10), () -> nodes.rendersInFlight() == 0);
        System.out.printf(
                "[%s] stale page: %d requests over %d nodes -> statuses %s, all answered while the render "
                        + "was held; renders %d (per node %s), origin renders %d%n",
                nodes.label,
                CONCURRENT,
                nodes.size(),
                statuses,
                nodes.renders() - rendersBefore,
                nodes.rendersPerNode(),
                origin.renders(path));
        assertThat(origin.renders(path)).isEqualTo(2);
        assertThat(nodes.renders() - rendersBefore).isEqualTo(1);
        assertThat(bodies).containsOnly(second);
    }

    /**
     * One page turns stale {@code cycles} times while client threads (two per node) keep requesting it
     * from every node: each time, exactly one render for the whole cluster, also when the render ends
     * while other nodes still hold the stale page in L1 and keep answering from it.
     */
    static void staleUnderLoadSingleFlight(Nodes nodes, TestOrigin origin, FakeClock clock, String path, int cycles)
            throws Exception {
        for (int n = 0; n < nodes.size(); n++) {
            assertThat(nodes.get(n, path).statusCode()).isEqualTo(200);
        }
        assertThat(origin.renders(path)).isEqualTo(1);
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        AtomicLong requests = new AtomicLong();
        List<Thread> clients = new ArrayList<>();
        java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
        for (int i = 0; i < 2 * nodes.size(); i++) {
            int node = i % nodes.size();
            Thread t = new Thread(
                    () -> {
                        while (running.get()) {
                            try {
                                HttpResponse<String> r = nodes.get(node, path);
                                if (r.statusCode() != 200) {
                                    failures.add(describe(r));
                                }
                            } catch (Exception e) {
                                failures.add(e.toString());
                            }
                            requests.incrementAndGet();
                        }
                    },
                    "cluster-it-hot-" + i);
            t.setDaemon(true);
            t.start();
            clients.add(t);
        }
        List<Integer> rendersPerCycle = new ArrayList<>();
        try {
            for (int c = 0; c < cycles; c++) {
                int before = origin.renders(path);
                clock.advance(REVALIDATE.plusSeconds(1));
                awaitTrue("cycle " + c + ": every node serves a fresh page", Duration.ofSeconds(10), () -> {
                    for (int n = 0; n < nodes.size(); n++) {
                        if (!cacheStatus(nodes.getQuietly(n, path)).equals("HIT")) {
                            return false;
                        }
                    }
                    return true;
                });
                Thread.sleep(20);
                rendersPerCycle.add(origin.renders(path) - before);
            }
        } finally {
            running.set(false);
            for (Thread t : clients) {
                t.join(15_000);
            }
        }
        awaitTrue("no render under way", Duration.ofSeconds(10), () -> nodes.rendersInFlight() == 0);
        System.out.printf(
                "[%s] stale page under continuous load: %d times stale, %d requests from %d clients -> "
                        + "origin renders %d (want %d), per stale period %s, renders per node %s%n",
                nodes.label,
                cycles,
                requests.get(),
                clients.size(),
                origin.renders(path) - 1,
                cycles,
                rendersPerCycle,
                nodes.rendersPerNode());
        assertThat(failures).isEmpty();
        assertThat(origin.renders(path) - 1)
                .as("renders for %d stale periods (per period: %s)", cycles, rendersPerCycle)
                .isEqualTo(cycles);
    }

    /**
     * Node A (index 0) re-renders a stale page and the origin reads its content at once (v1); before
     * that render ends, the content changes (v2) and a soft revalidation reaches node {@code receiver}.
     * The render's result predates the revalidation, so it must not end up served as fresh: within a
     * few seconds every node serves v2, without the clock moving.
     */
    static void revalidationDuringRender(Nodes nodes, TestOrigin origin, FakeClock clock, String path, int receiver)
            throws Exception {
        AtomicInteger version = new AtomicInteger(1);
        // what the origin read when each render arrived (by render number); later renders read the current version
        Map<Integer, Integer> readAtArrival = new ConcurrentHashMap<>();
        origin.on(
                path,
                s -> TestOrigin.Response.html(path + " v" + readAtArrival.getOrDefault(s.render(), version.get())));
        String v1 = path + " v1";
        String v2 = path + " v2";
        for (int n = 0; n < nodes.size(); n++) {
            assertThat(nodes.get(n, path).body()).isEqualTo(v1);
        }
        clock.advance(REVALIDATE.plusSeconds(1));
        origin.hold();
        assertThat(cacheStatus(nodes.get(0, path))).isEqualTo("STALE"); // A starts the one re-render
        awaitTrue("A's render reaches the origin", Duration.ofSeconds(10), () -> origin.renders(path) == 2);
        readAtArrival.put(2, 1);
        version.set(2);
        HttpResponse<String> answer = nodes.revalidate(receiver, path, false);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertThat(new ObjectMapper().readTree(answer.body()).get("invalidated").asInt())
                .isEqualTo(1);
        origin.release();
        awaitTrue(
                "A's render ends",
                Duration.ofSeconds(10),
                () -> nodes.node(0).engine().rendersInFlight() == 0);
        List<String> seen = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        boolean allV2 = false;
        while (!allV2 && System.nanoTime() < deadline) {
            allV2 = true;
            for (int n = 0; n < nodes.size(); n++) {
                HttpResponse<String> r = nodes.get(n, path);
                allV2 &= r.body().equals(v2);
                if (seen.size() < 12) {
                    seen.add("node " + n + ": " + cacheStatus(r) + " " + r.body());
                }
            }
            Thread.sleep(20);
        }
        System.out.printf(
                "[%s] revalidation on node %d while node A rendered: afterwards %s ... (origin renders %d)%n",
                nodes.label, receiver, seen, origin.renders(path));
        assertThat(allV2)
                .as(
                        "every node serves v2 after a revalidation that came during A's render; first answers "
                                + "after the render: %s",
                        seen)
                .isTrue();
    }

    /** One visibility series: per trial the slower of B and C, in nanoseconds since A's 200 answer, sorted. */
    record Figures(String label, long[] stopped, long[] answered) {
        static Duration percentile(long[] sorted, double p) {
            int i = (int) Math.ceil(p / 100 * sorted.length) - 1;
            return Duration.ofNanos(sorted[Math.max(0, Math.min(sorted.length - 1, i))]);
        }

        static Figures of(String label, List<long[]> trials) {
            long[] stopped = trials.stream().mapToLong(t -> t[0]).sorted().toArray();
            long[] answered = trials.stream().mapToLong(t -> t[1]).sorted().toArray();
            return new Figures(label, stopped, answered);
        }

        @Override
        public String toString() {
            return String.format(
                    "%s, %d trials: stopped serving the old HIT p50 %s, p99 %s, max %s; answered p50 %s, "
                            + "p99 %s, max %s",
                    label,
                    stopped.length,
                    ms(stopped, 50),
                    ms(stopped, 99),
                    ms(stopped, 100),
                    ms(answered, 50),
                    ms(answered, 99),
                    ms(answered, 100));
        }

        private static String ms(long[] sorted, double p) {
            return String.format("%.2f ms", percentile(sorted, p).toNanos() / 1e6);
        }
    }

    /** The bar: at the 99th percentile, B and C stop serving the old page as a HIT within 100 ms of A's answer. */
    static void assertVisibilityBar(Figures f) {
        assertThat(Figures.percentile(f.stopped(), 99)).as(f.toString()).isLessThan(VISIBILITY_BAR);
    }

    /**
     * {@code trials} revalidations through node A (index 0), soft and hard in turn. Per trial: every node
     * serves the same page as a HIT; A gets the revalidation; B and C are then polled tightly, each on its
     * own thread, until one answers other than a HIT of the old page (STALE, or MISS / HIT of the new
     * content). "Stopped" is when that request was sent (the one before it had just been answered with the
     * old HIT, so this is within one poll of the change); "answered" is when its answer arrived, which in
     * hard mode includes the origin render of the MISS. Returns the figures of all trials; prints them per
     * mode too.
     */
    static Figures invalidationVisibility(Nodes nodes, TestOrigin origin, String path, int trials) throws Exception {
        AtomicInteger version = new AtomicInteger(1);
        // Connection: close. The JDK's HttpServer leaves Nagle on (sun.net.httpserver.nodelay), so a
        // keep-alive answer waits ~40 ms for the client's delayed ACK; a fresh connection per render keeps
        // that artefact of the test origin out of the hard-mode figures.
        origin.on(path, s -> TestOrigin.Response.html(path + " v" + version.get(), "Connection", "close"));
        ExecutorService pollers = Executors.newFixedThreadPool(nodes.size() - 1);
        List<long[]> soft = new ArrayList<>();
        List<long[]> hard = new ArrayList<>();
        Map<String, Integer> firstSeen = new ConcurrentHashMap<>();
        try {
            for (int t = 0; t < trials; t++) {
                boolean hardMode = t % 2 == 1;
                String old = settle(nodes, path, Duration.ofSeconds(5));
                version.incrementAndGet();
                HttpResponse<String> answer = nodes.revalidate(0, path, hardMode);
                long t0 = System.nanoTime();
                assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
                assertThat(new ObjectMapper()
                                .readTree(answer.body())
                                .get("invalidated")
                                .asInt())
                        .isEqualTo(1);
                List<Future<long[]>> seen = new ArrayList<>();
                for (int n = 1; n < nodes.size(); n++) {
                    int node = n;
                    seen.add(pollers.submit(() -> {
                        long deadline = t0 + TimeUnit.SECONDS.toNanos(5);
                        while (System.nanoTime() < deadline) {
                            long sent = System.nanoTime();
                            HttpResponse<String> r = nodes.get(node, path);
                            if (!(cacheStatus(r).equals("HIT") && r.body().equals(old))) {
                                long at = System.nanoTime();
                                firstSeen.merge(
                                        (hardMode ? "hard: " : "soft: ")
                                                + cacheStatus(r)
                                                + (r.body().equals(old) ? " old" : " new"),
                                        1,
                                        Integer::sum);
                                return new long[] {Math.max(0, sent - t0), at - t0};
                            }
                        }
                        throw new AssertionError(
                                "node " + node + " still serves the old page as HIT 5 s after " + "the revalidation");
                    }));
                }
                long[] worst = new long[2];
                for (Future<long[]> f : seen) {
                    long[] r = f.get(10, TimeUnit.SECONDS);
                    worst[0] = Math.max(worst[0], r[0]);
                    worst[1] = Math.max(worst[1], r[1]);
                }
                (hardMode ? hard : soft).add(worst);
            }
        } finally {
            pollers.shutdownNow();
        }
        List<long[]> all = new ArrayList<>(soft);
        all.addAll(hard);
        Figures figures = Figures.of(nodes.label + " soft+hard", all);
        System.out.printf(
                "[%s] revalidation visibility: %s%n[%s]   %s%n[%s]   %s%n[%s]   B and C first served %s%n",
                nodes.label,
                figures,
                nodes.label,
                Figures.of("soft", soft),
                nodes.label,
                Figures.of("hard", hard),
                nodes.label,
                new TreeMap<>(firstSeen));
        return figures;
    }

    /** Until every node serves the same page as a HIT with no render under way; returns its body. */
    static String settle(Nodes nodes, String path, Duration within) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            Set<String> bodies = new HashSet<>();
            boolean allHits = true;
            StringBuilder seen = new StringBuilder();
            for (int n = 0; n < nodes.size(); n++) {
                HttpResponse<String> r = nodes.get(n, path);
                allHits &= r.statusCode() == 200
                        && cacheStatus(r).equals("HIT")
                        && nodes.node(n).engine().rendersInFlight() == 0;
                bodies.add(r.body());
                seen.append(' ').append(describe(r));
            }
            if (allHits && bodies.size() == 1) {
                return bodies.iterator().next();
            }
            last = seen.toString();
            Thread.sleep(1);
        }
        throw new AssertionError("the nodes did not agree on a HIT of " + path + " within " + within + ":" + last);
    }

    /**
     * After Redis came back ({@code since}): repeats "every node HITs the same page; revalidate it through
     * node A; B and C stop serving it as a HIT within 500 ms" until it works, and returns how long that took.
     */
    static Duration revalidationRoundTripAfter(Nodes nodes, TestOrigin origin, String path, long since, Duration limit)
            throws Exception {
        AtomicInteger version = new AtomicInteger(100);
        origin.on(path, s -> TestOrigin.Response.html(path + " v" + version.get()));
        long deadline = since + limit.toNanos();
        List<String> attempts = new ArrayList<>();
        while (System.nanoTime() < deadline) {
            String old;
            try {
                old = settle(nodes, path, Duration.ofMillis(300));
            } catch (AssertionError notYet) {
                attempts.add("not settled");
                continue;
            }
            version.incrementAndGet();
            HttpResponse<String> answer = nodes.revalidate(0, path, false);
            long t0 = System.nanoTime();
            int invalidated = answer.statusCode() == 200
                    ? new ObjectMapper()
                            .readTree(answer.body())
                            .get("invalidated")
                            .asInt()
                    : -1;
            if (invalidated < 1) {
                attempts.add("revalidate " + answer.statusCode() + " " + answer.body());
                Thread.sleep(20);
                continue;
            }
            boolean[] seen = new boolean[nodes.size()];
            while (System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(500)) {
                boolean all = true;
                for (int n = 1; n < nodes.size(); n++) {
                    if (!seen[n]) {
                        HttpResponse<String> r = nodes.get(n, path);
                        seen[n] = !(cacheStatus(r).equals("HIT") && r.body().equals(old));
                    }
                    all &= seen[n];
                }
                if (all) {
                    return Duration.ofNanos(System.nanoTime() - since);
                }
            }
            attempts.add("not visible on every node");
        }
        throw new AssertionError(
                "revalidations did not work again within " + limit + " of Redis's return: " + attempts);
    }

    // ------------------------------------------------------------------------------------------ helpers

    static String cacheStatus(HttpResponse<?> r) {
        return r.headers().firstValue("x-cache-status").orElse("(none)");
    }

    static String describe(HttpResponse<String> r) {
        return r.statusCode() + " " + cacheStatus(r) + " " + r.body();
    }

    static void awaitTrue(String what, Duration within, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + ": not within " + within);
            }
            Thread.sleep(5);
        }
    }

    /** {@code regen serve --config file} as a child JVM on the test classpath, output to files in {@code dir}. */
    private static Process startNode(Path config, Path dir) throws IOException {
        List<String> cmd = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC",
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName(),
                "serve",
                "--config",
                config.toString());
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .directory(dir.toFile())
                .redirectOutput(dir.resolve("child.out").toFile())
                .redirectError(dir.resolve("child.err").toFile());
        pb.environment().put("REGEN_SECRET", SECRET);
        pb.environment().remove("REGEN_JAVA_OPTS");
        return pb.start();
    }

    private void awaitListening(Process p, int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            if (!p.isAlive()) {
                fail("regen serve exited with " + p.exitValue() + childOutput());
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                if (System.nanoTime() > deadline) {
                    fail("regen serve did not listen on " + port + " within 30 s" + childOutput());
                }
                Thread.sleep(50);
            }
        }
    }

    private String childOutput() {
        try {
            return "\nstdout:\n" + Files.readString(dir.resolve("child.out")) + "\nstderr:\n"
                    + Files.readString(dir.resolve("child.err"));
        } catch (IOException e) {
            return " (no output: " + e + ")";
        }
    }

    /** Client threads doing GETs over the nodes until stopped, counting every failure. */
    static final class Load {
        final AtomicLong requests = new AtomicLong();
        final List<String> failures = Collections.synchronizedList(new ArrayList<>());
        final Map<String, Integer> statuses = new ConcurrentHashMap<>();
        private final AtomicInteger cold = new AtomicInteger();
        private final List<Thread> threads = new ArrayList<>();
        private volatile boolean running = true;

        static Load start(Nodes nodes, int clients, int pages) {
            Load load = new Load();
            for (int i = 0; i < clients; i++) {
                Thread t = new Thread(() -> load.run(nodes, pages), "cluster-it-load-" + i);
                t.setDaemon(true);
                load.threads.add(t);
                t.start();
            }
            return load;
        }

        private void run(Nodes nodes, int pages) {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            while (running) {
                int node = random.nextInt(nodes.size());
                // mostly the cached pages; one in 20 a page nobody has (at most 200 of those)
                int c = random.nextInt(20) == 0 ? cold.incrementAndGet() : 0;
                String path = c > 0 && c <= 200 ? "/cold/" + c : "/load/" + random.nextInt(pages);
                try {
                    HttpResponse<String> r = nodes.get(node, path);
                    if (r.statusCode() / 100 != 2) {
                        failures.add("node " + node + " " + path + ": " + describe(r));
                    }
                    statuses.merge(cacheStatus(r), 1, Integer::sum);
                } catch (Exception e) {
                    failures.add("node " + node + " " + path + ": " + e);
                }
                requests.incrementAndGet();
            }
        }

        void stop() throws InterruptedException {
            running = false;
            for (Thread t : threads) {
                t.join(15_000);
            }
        }
    }

    /** Regen nodes in this JVM over one Redis (standalone or cluster), each with its own store, cluster and L1. */
    static final class Nodes implements AutoCloseable {
        private static final String[] IDS = {"node-a", "node-b", "node-c"};
        final String label;
        private final List<RegenServer> servers = new ArrayList<>();
        private final HttpClient client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5))
                .build();

        private Nodes(String label) {
            this.label = label;
        }

        static Nodes start(URI redis, TestOrigin origin, InstantSource clock, RegenConfig engine) throws Exception {
            return start("ClusterIT", redis, origin, clock, engine);
        }

        static Nodes start(String label, URI redis, TestOrigin origin, InstantSource clock, RegenConfig engine)
                throws Exception {
            Nodes nodes = new Nodes(label);
            try {
                for (String id : IDS) {
                    nodes.servers.add(node(redis, id, origin.url(), clock, engine));
                }
            } catch (Exception | Error e) {
                nodes.close();
                throw e;
            }
            return nodes;
        }

        private static RegenServer node(URI redis, String id, String originUrl, InstantSource clock, RegenConfig engine)
                throws InterruptedException {
            // the nodes sit behind one public host, as behind a load balancer: each test talks to each node directly
            ServerConfig cfg = new ServerConfig(
                    URI.create(originUrl),
                    "127.0.0.1",
                    0,
                    engine,
                    SECRET,
                    new StoreSpec.Redis(redis),
                    64L << 20,
                    Duration.ofSeconds(1),
                    "/api/revalidate",
                    false,
                    ServerConfig.AccessLog.OFF,
                    null,
                    dev.regen.server.config.Front.DEFAULTS.withHosts(List.of(PUBLIC_HOST), PUBLIC_HOST));
            KvStore store = RedisStore.open(redis, clock);
            Cluster cluster;
            try {
                cluster = RedisCluster.open(redis, id);
            } catch (RuntimeException e) {
                store.close();
                throw e;
            }
            return RegenServer.start(cfg, store, cluster, clock);
        }

        int size() {
            return servers.size();
        }

        RegenServer node(int i) {
            return servers.get(i);
        }

        private HttpRequest.Builder request(int node, String path) {
            return HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + servers.get(node).port() + path))
                    .timeout(Duration.ofSeconds(20));
        }

        HttpResponse<String> get(int node, String path) throws IOException, InterruptedException {
            return client.send(request(node, path).build(), HttpResponse.BodyHandlers.ofString());
        }

        /** {@link #get} for lambdas: failures unchecked. */
        HttpResponse<String> getQuietly(int node, String path) {
            try {
                return get(node, path);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        CompletableFuture<HttpResponse<String>> getAsync(int node, String path) {
            return client.sendAsync(request(node, path).build(), HttpResponse.BodyHandlers.ofString());
        }

        HttpResponse<String> revalidate(int node, String path, boolean hard) throws IOException, InterruptedException {
            String body = "{\"paths\":[\"" + path + "\"],\"mode\":\"" + (hard ? "hard" : "soft") + "\"}";
            return client.send(
                    request(node, "/api/revalidate")
                            .header("Authorization", "Bearer " + SECRET)
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(body))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
        }

        HttpResponse<String> revalidateTag(int node, String tag, boolean hard)
                throws IOException, InterruptedException {
            String body = "{\"tags\":[\"" + tag + "\"],\"mode\":\"" + (hard ? "hard" : "soft") + "\"}";
            return client.send(
                    request(node, "/api/revalidate")
                            .header("Authorization", "Bearer " + SECRET)
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(body))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
        }

        long misses() {
            return servers.stream().mapToLong(s -> s.engine().stats().misses()).sum();
        }

        long renders() {
            return servers.stream().mapToLong(s -> s.engine().stats().renders()).sum();
        }

        int rendersInFlight() {
            return servers.stream().mapToInt(s -> s.engine().rendersInFlight()).sum();
        }

        List<Long> rendersPerNode() {
            return servers.stream().map(s -> s.engine().stats().renders()).toList();
        }

        /** Closes every node (and with it its store and cluster connection). */
        @Override
        public void close() {
            for (RegenServer s : servers) {
                try {
                    s.close();
                } catch (RuntimeException e) {
                    System.err.println("closing a node: " + e);
                }
            }
            servers.clear();
        }
    }
}
