package dev.regen.server;

import static dev.regen.server.ClusterIT.cacheStatus;
import static dev.regen.server.ClusterIT.describe;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.regen.RegenConfig;
import dev.regen.server.ClusterIT.Nodes;
import dev.regen.testing.FakeClock;
import dev.regen.testing.RedisServerFixture;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Fault injection on one real {@code redis-server} under three Regen nodes: a stall (SIGSTOP), a
 * {@code FLUSHALL}, a restart without persistence, Redis down during a revalidation. The node killed
 * {@code -9} mid-render is {@link ClusterIT}'s; the Redis Cluster and Sentinel faults are
 * {@link FaultsClusterIT} and {@link FaultsSentinelIT}.
 */
@Timeout(120)
class FaultsStandaloneIT {
    static final Duration REVALIDATE = Duration.ofSeconds(60);
    static final String TAG = "posts";

    private final FakeClock clock = new FakeClock();
    private RedisServerFixture redis;
    private TestOrigin origin;
    private Nodes nodes;

    @BeforeEach
    void start() throws Exception {
        redis = RedisServerFixture.start();
        origin = new TestOrigin();
        for (int i = 0; i < 5; i++) {
            String path = "/t/" + i;
            origin.on(
                    path,
                    s -> TestOrigin.Response.html("<p>" + path + " render " + s.render() + "</p>", "Cache-Tag", TAG));
        }
        nodes = Nodes.start(
                "Faults",
                redis.uri("?timeout=300ms"),
                origin,
                clock,
                RegenConfig.builder().revalidate(REVALIDATE).build());
    }

    @AfterEach
    void stop() {
        try {
            if (origin != null) {
                origin.release();
            }
            if (redis != null && !redis.running()) {
                redis.restart();
            }
            if (redis != null) {
                redis.resume();
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

    @Test
    void redisStalled3s_pagesInMemoryServedWithoutStalling_p99Under50ms() throws Exception {
        int pages = 20;
        warm("/s/", pages);
        List<long[]> hits = Collections.synchronizedList(new ArrayList<>()); // {sent ns, latency ns}
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean running = new AtomicBoolean(true);
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < 4; c++) {
            Thread t = new Thread(() -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                while (running.get()) {
                    int node = random.nextInt(nodes.size());
                    String path = "/s/" + random.nextInt(pages);
                    long sent = System.nanoTime();
                    try {
                        HttpResponse<String> r = nodes.get(node, path);
                        long took = System.nanoTime() - sent;
                        if (r.statusCode() != 200) {
                            failures.add(describe(r));
                        } else if (cacheStatus(r).equals("HIT")) {
                            hits.add(new long[] {sent, took});
                        }
                    } catch (Exception e) {
                        failures.add(e.toString());
                    }
                }
            });
            t.setDaemon(true);
            clients.add(t);
            t.start();
        }
        Thread.sleep(500);
        long stallStart = System.nanoTime();
        redis.pause();
        Thread.sleep(3_000);
        redis.resume();
        long stallEnd = System.nanoTime();
        Thread.sleep(300);
        running.set(false);
        for (Thread t : clients) {
            t.join(10_000);
        }
        long[] during = hits.stream()
                .filter(h -> h[0] >= stallStart && h[0] < stallEnd)
                .mapToLong(h -> h[1])
                .sorted()
                .toArray();
        assertThat(during.length).as("L1 hits during the stall").isGreaterThan(100);
        long p50 = during[during.length / 2];
        long p99 = during[(int) Math.ceil(during.length * 0.99) - 1];
        System.out.printf(
                "[Faults] 3 s Redis stall: %d L1 hits during it, p50 %.2f ms, p99 %.2f ms, max %.2f ms; "
                        + "%d failed requests%n",
                during.length, p50 / 1e6, p99 / 1e6, during[during.length - 1] / 1e6, failures.size());
        assertThat(failures).isEmpty();
        assertThat(Duration.ofNanos(p99)).isLessThan(Duration.ofMillis(50));
    }

    @Test
    void flushallAndRestartWithoutPersistence_nextRevalidationTakesEffectEverywhere_andTheTagIndexHeals()
            throws Exception {
        warm("/f/", 1);
        warm("/t/", 5);

        // FLUSHALL: the store forgot every page and the tag index, every node still serves from memory
        assertThat(redis.call("FLUSHALL")).isEqualTo("OK");
        revalidatedEverywhere("path after FLUSHALL", () -> nodes.revalidate(0, "/f/0", true), "/f/0");
        revalidatedEverywhere("tag after FLUSHALL", () -> nodes.revalidateTag(1, TAG, true), "/t/0", "/t/4");

        // a restart without persistence: the same, once the nodes are back; meanwhile a 503, never a 200
        redis.kill();
        HttpResponse<String> down = nodes.revalidate(2, "/f/0", true);
        System.out.printf("[Faults] a revalidation while Redis is down: %s%n", describe(down));
        assertThat(down.statusCode()).isEqualTo(503);
        assertThat(json(down).path("notApplied").size()).isPositive();
        redis.restart();
        long back = System.nanoTime();
        HttpResponse<String> first;
        while ((first = nodes.revalidate(0, "/nothing", true)).statusCode() != 200) {
            assertThat(Duration.ofNanos(System.nanoTime() - back))
                    .as(first.body())
                    .isLessThan(Duration.ofSeconds(5));
            Thread.sleep(50);
        }
        System.out.printf(
                "[Faults] Redis restarted empty: the first revalidation answered 200 after %d ms%n",
                (System.nanoTime() - back) / 1_000_000);
        revalidatedEverywhere("tag after a restart", () -> nodes.revalidateTag(0, TAG, true), "/t/0", "/t/4");
        revalidatedEverywhere("path after a restart", () -> nodes.revalidate(1, "/f/0", true), "/f/0");

        // the index heals within one revalidate period: pages re-rendered from their copies in memory
        // write their missing index entries again
        warm("/t/", 5);
        assertThat(redis.call("FLUSHALL")).isEqualTo("OK");
        clock.advance(REVALIDATE.plusSeconds(1));
        for (int i = 0; i < 5; i++) {
            nodes.get(i % nodes.size(), "/t/" + i); // stale: a background render each
        }
        ClusterIT.awaitTrue("the tag index is back", Duration.ofSeconds(10), () -> {
            for (int i = 0; i < 5; i++) {
                if (!"1".equals(call("EXISTS", "regen:k:tag:" + TAG + " /t/" + i + " @" + ClusterIT.PUBLIC_HOST))) {
                    return false;
                }
            }
            return true;
        });
        HttpResponse<String> healed = nodes.revalidateTag(2, TAG, false);
        assertThat(healed.statusCode()).isEqualTo(200);
        assertThat(json(healed).path("invalidated").asInt()).as(healed.body()).isEqualTo(5);
    }

    /** The revalidation answers 2xx, and afterwards no node serves the page it had before as a HIT. */
    private void revalidatedEverywhere(String what, Call revalidation, String... paths) throws Exception {
        java.util.Map<String, String> before = new java.util.HashMap<>();
        for (String path : paths) {
            for (int n = 0; n < nodes.size(); n++) {
                before.put(n + path, nodes.get(n, path).body());
            }
        }
        HttpResponse<String> answer = revalidation.call();
        assertThat(answer.statusCode()).as(what + ": " + answer.body()).isEqualTo(200);
        assertThat(json(answer).path("invalidated").asInt())
                .as(what + ": " + answer.body())
                .isPositive();
        // the other nodes hear of it over pub/sub: within the propagation time (ClusterIT's bar), not at once
        for (String path : paths) {
            for (int n = 0; n < nodes.size(); n++) {
                int node = n;
                HttpResponse<String>[] last = new HttpResponse[1];
                try {
                    ClusterIT.awaitTrue(what, Duration.ofSeconds(1), () -> {
                        try {
                            last[0] = nodes.get(node, path);
                        } catch (java.io.IOException | InterruptedException e) {
                            throw new IllegalStateException(e);
                        }
                        return !(cacheStatus(last[0]).equals("HIT")
                                && last[0].body().equals(before.get(node + path)));
                    });
                } catch (AssertionError e) {
                    throw new AssertionError(what + ": node " + node + " still serves " + describe(last[0]), e);
                }
            }
        }
    }

    private interface Call {
        HttpResponse<String> call() throws Exception;
    }

    /** Every node has {@code prefix0 … prefix(count-1)} in memory (and the store has them). */
    private void warm(String prefix, int count) throws Exception {
        for (int i = 0; i < count; i++) {
            for (int n = 0; n < nodes.size(); n++) {
                assertThat(nodes.get(n, prefix + i).statusCode()).isEqualTo(200);
            }
        }
    }

    private String call(String... args) {
        try {
            return redis.call(args);
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        return new ObjectMapper().readTree(r.body());
    }
}
