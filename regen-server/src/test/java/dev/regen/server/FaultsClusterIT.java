package dev.regen.server;

import static dev.regen.server.ClusterIT.cacheStatus;
import static org.assertj.core.api.Assertions.assertThat;

import dev.regen.RegenConfig;
import dev.regen.server.ClusterIT.Load;
import dev.regen.server.ClusterIT.Nodes;
import dev.regen.testing.FakeClock;
import dev.regen.testing.RedisClusterFixture;
import dev.regen.testing.RedisServerFixture;
import io.lettuce.core.cluster.SlotHash;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A master of a real 3-master 3-replica Redis Cluster killed {@code -9} under load, three Regen
 * nodes in front: no failed GET, revalidations of pages on the healthy masters answered 2xx
 * throughout and visible on every node within 1 s, a bounded number of origin renders.
 */
@Timeout(180)
class FaultsClusterIT {
    static final int PAGES = 30;
    static final int SHARDS = 16; // RedisConfig's default

    private static RedisClusterFixture cluster;
    private static TestOrigin origin;
    private static Nodes nodes;
    private static final FakeClock clock = new FakeClock();

    @BeforeAll
    static void start() throws Exception {
        cluster = RedisClusterFixture.start(3, 1, 2000);
        origin = new TestOrigin();
        nodes = Nodes.start(
                "FaultsCluster",
                cluster.uri("?timeout=300ms"),
                origin,
                clock,
                RegenConfig.builder().revalidate(Duration.ofSeconds(600)).build());
    }

    @AfterAll
    static void stop() {
        try {
            if (nodes != null) {
                nodes.close();
            }
        } finally {
            if (origin != null) {
                origin.close();
            }
            if (cluster != null) {
                cluster.close();
            }
        }
    }

    @Test
    void masterKilledUnderLoad_noFailedGet_healthyRevalidationsSucceedAndAreSeenEverywhereWithin1s() throws Exception {
        RedisServerFixture victim = cluster.nodes().get(1); // a master, not the first seed
        List<int[]> victimSlots = RedisClusterFixture.slotsOf(victim);
        assertThat(victimSlots).as("node 1 is a master").isNotEmpty();
        List<String> healthy = new ArrayList<>(); // pages whose entries live on the other masters
        List<String> onVictim = new ArrayList<>();
        for (int p = 0; p < PAGES; p++) {
            for (int n = 0; n < nodes.size(); n++) {
                assertThat(nodes.get(n, "/load/" + p).statusCode()).isEqualTo(200);
            }
            (served(victimSlots, "/load/" + p) ? onVictim : healthy).add("/load/" + p);
        }
        // half the pages on healthy masters are revalidated during the run; the others only read
        List<String> readOnly = new ArrayList<>(onVictim);
        readOnly.addAll(healthy.subList(healthy.size() / 2, healthy.size()));
        healthy = healthy.subList(0, healthy.size() / 2);
        int rendersBefore = renders(readOnly);
        Load load = Load.start(nodes, 4, PAGES);
        List<String> answers = new ArrayList<>();
        List<String> notHealthy = new ArrayList<>();
        List<Long> visibleMs = new ArrayList<>();
        int revalidations = 0;
        long killedAt;
        try {
            Thread.sleep(500);
            victim.kill();
            killedAt = System.nanoTime();
            long end = killedAt + Duration.ofSeconds(8).toNanos();
            for (int i = 0; System.nanoTime() < end; i++) {
                String path = healthy.get(i % healthy.size());
                int via = i % nodes.size();
                String old = nodes.get((via + 1) % nodes.size(), path).body();
                HttpResponse<String> r = nodes.revalidate(via, path, true);
                long answered = System.nanoTime();
                revalidations++;
                answers.add(String.format("%.1fs %d", (answered - killedAt) / 1e9, r.statusCode()));
                if (r.statusCode() / 100 != 2) {
                    notHealthy.add(String.format(
                            "%.1fs after the kill, %s: %d %s",
                            (answered - killedAt) / 1e9, path, r.statusCode(), r.body()));
                    continue;
                }
                // answered 2xx: within 1 s no node serves the old page as a HIT
                for (int n = 0; n < nodes.size(); n++) {
                    HttpResponse<String> seen;
                    while (cacheStatus(seen = nodes.get(n, path)).equals("HIT")
                            && seen.body().equals(old)) {
                        assertThat(Duration.ofNanos(System.nanoTime() - answered))
                                .as("node " + n + " " + path)
                                .isLessThan(Duration.ofSeconds(1));
                        Thread.sleep(5);
                    }
                }
                visibleMs.add((System.nanoTime() - answered) / 1_000_000);
                Thread.sleep(100);
            }
        } finally {
            load.stop();
        }
        int renders = renders(readOnly) - rendersBefore;
        boolean promoted = RedisClusterFixture.awaitSlotsServed(cluster.nodes().get(0), Duration.ofSeconds(20));
        visibleMs.sort(null);
        System.out.printf(
                "[FaultsCluster] master killed under load: %d GETs, %d failed, statuses %s; %d hard "
                        + "revalidations of pages on healthy masters, %d not 2xx; visible on every node p50 %d ms, "
                        + "max %d ms; origin renders of the %d pages not revalidated (%d on the killed master) during "
                        + "the run: %d; slots served again: %s%n",
                load.requests.get(),
                load.failures.size(),
                new TreeMap<>(load.statuses),
                revalidations,
                notHealthy.size(),
                visibleMs.get(visibleMs.size() / 2),
                visibleMs.get(visibleMs.size() - 1),
                readOnly.size(),
                onVictim.size(),
                renders,
                promoted);
        System.out.printf("[FaultsCluster] answers: %s%n", answers);
        assertThat(load.failures).as("failed GETs").isEmpty();
        assertThat(notHealthy).as("revalidations of pages on healthy masters").isEmpty();
        assertThat(renders)
                .as("origin renders of the pages nobody revalidated")
                .isLessThanOrEqualTo(2 * readOnly.size());
    }

    /** Whether the shard holding {@code path}'s entries lives in one of {@code slots} (KeyLayout's formula). */
    private static boolean served(List<int[]> slots, String path) {
        CRC32 crc = new CRC32();
        crc.update(("page:" + path).getBytes(StandardCharsets.UTF_8));
        int slot = SlotHash.getSlot("regen:{g" + (crc.getValue() % SHARDS) + "}:idx");
        return slots.stream().anyMatch(r -> slot >= r[0] && slot <= r[1]);
    }

    private static int renders(List<String> paths) {
        return paths.stream().mapToInt(origin::renders).sum();
    }
}
