package dev.regen.store.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.regen.cluster.Cluster;
import dev.regen.cluster.Cluster.RenderLock;
import dev.regen.store.ListedKey;
import dev.regen.store.PutOptions;
import dev.regen.testing.FakeClock;
import dev.regen.testing.LogCapture;
import dev.regen.testing.RedisClusterFixture;
import dev.regen.testing.RedisServerFixture;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link RedisStore} and {@link RedisCluster} on a 3-master Redis Cluster: data spread over the
 * masters, locks and changes shared between two nodes, and a whole-cluster restart.
 */
@Timeout(120)
class RedisClusterModeIT {

    private static RedisClusterFixture cluster;

    @BeforeAll
    static void startCluster() {
        cluster = RedisClusterFixture.start();
    }

    @AfterAll
    static void stopCluster() {
        cluster.close();
    }

    @Test
    void store_entriesSpreadOverEveryMaster_andListInOrderAcrossShards() throws IOException {
        List<String> keys = new ArrayList<>();
        try (RedisStore store = RedisStore.open(cluster.uri("?prefix=spread:"), new FakeClock())) {
            for (int i = 0; i < 300; i++) {
                String key = String.format("/spread/%03d", i);
                keys.add(key);
                store.put(key, new byte[] {(byte) i}, PutOptions.metadata(Map.of("i", Integer.toString(i))));
            }

            List<String> listed = new ArrayList<>();
            String cursor = null;
            do {
                var page = store.list("/spread/", cursor, 64);
                page.keys().stream().map(ListedKey::name).forEach(listed::add);
                cursor = page.cursor();
            } while (cursor != null);

            assertThat(listed).containsExactlyElementsOf(keys);
            assertThat(store.get("/spread/123").metadata()).containsEntry("i", "123");
        }
        for (RedisServerFixture node : cluster.nodes()) {
            assertThat(Long.parseLong(node.call("DBSIZE")))
                    .as("keys on master %d", node.port())
                    .isGreaterThan(0);
        }
    }

    @Test
    void cluster_locksAreExclusiveAcrossNodes_andExpireWhenTheOwnerDies() {
        try (RedisCluster a = RedisCluster.open(cluster.uri("?prefix=locks:"), "node-a");
                RedisCluster b = RedisCluster.open(cluster.uri("?prefix=locks:"), "node-b")) {
            for (int i = 0; i < 50; i++) { // keys in many slots, so on every master
                RenderLock lock = a.tryLock("/l/" + i, Duration.ofSeconds(10));
                assertThat(lock.token()).startsWith("node-a:");
                assertThat(b.tryLock("/l/" + i, Duration.ofSeconds(10))).isNull();
                a.unlock(lock);
            }
            Eventually.await(
                    Duration.ofSeconds(2),
                    "b gets a released lock",
                    () -> b.tryLock("/l/49", Duration.ofSeconds(10)) != null);

            assertThat(a.tryLock("/dies", Duration.ofMillis(300))).isNotNull();
            a.close();
            Eventually.await(
                    Duration.ofSeconds(3),
                    "b gets the lock of a dead node",
                    () -> b.tryLock("/dies", Duration.ofSeconds(10)) != null);
        }
    }

    @Test
    void cluster_publishReachesTheOtherNodeButNotItself() {
        RecordingListener heardByA = new RecordingListener();
        RecordingListener heardByB = new RecordingListener();
        try (RedisCluster a = RedisCluster.open(cluster.uri("?prefix=pub:"), "node-a");
                RedisCluster b = RedisCluster.open(cluster.uri("?prefix=pub:"), "node-b")) {
            a.subscribe(heardByA);
            b.subscribe(heardByB);

            a.publish(List.of("/x", "/y"));
            Eventually.await(Duration.ofSeconds(2), "b hears a", () -> heardByB.changes.contains(List.of("/x", "/y")));
            b.publish(List.of("/z"));
            Eventually.await(Duration.ofSeconds(2), "a hears b", () -> !heardByA.changes.isEmpty());

            assertThat(heardByA.changes).containsExactly(List.of("/z"));
            assertThat(heardByB.changes).containsExactly(List.of("/x", "/y"));

            List<Cluster.Refresh> refreshes =
                    List.of(new Cluster.Refresh("/x", "\"e\"", Instant.parse("2026-03-01T00:00:00.001Z")));
            assertThat(a.publishRefreshed(refreshes)).succeedsWithin(Duration.ofSeconds(2));
            Eventually.await(
                    Duration.ofSeconds(2), "b hears a's refresh", () -> heardByB.refreshes.contains(refreshes));
        }
    }

    @Test
    void cluster_everyMasterRestarted_locksLocalMeanwhile_thenMissedChangesAndPublishWorkAgain() {
        RecordingListener heardByA = new RecordingListener();
        RecordingListener heardByB = new RecordingListener();
        try (LogCapture logs = new LogCapture(RedisCluster.class);
                RedisCluster a = RedisCluster.open(cluster.uri("?prefix=outage:&timeout=300ms"), "node-a");
                RedisCluster b = RedisCluster.open(cluster.uri("?prefix=outage:&timeout=300ms"), "node-b")) {
            a.subscribe(heardByA);
            b.subscribe(heardByB);

            cluster.nodes().forEach(RedisServerFixture::kill);
            for (int i = 0; i < 50; i++) {
                assertThat(a.tryLock("/o/" + i, Duration.ofSeconds(10)).token()).startsWith("local:");
                a.publish(List.of("/o/" + i));
            }
            Eventually.await(Duration.ofSeconds(3), "both nodes notice", () -> !a.connected() && !b.connected());

            long restart = System.nanoTime();
            cluster.nodes().forEach(RedisServerFixture::restart);
            Eventually.await(
                    Duration.ofSeconds(30),
                    () -> "both back; logs: " + logs.all(),
                    () -> a.connected() && b.connected() && heardByA.missed.get() >= 1 && heardByB.missed.get() >= 1);
            long backAt = System.nanoTime();
            Eventually.await(Duration.ofSeconds(30), "b hears a again", () -> {
                a.publish(List.of("/back"));
                Eventually.sleep(50);
                return heardByB.changes.contains(List.of("/back"));
            });
            System.out.printf(
                    "cluster restart (3 processes started one after another) -> nodes back %d ms, "
                            + "publish delivered %d ms after the first process started%n",
                    Duration.ofNanos(backAt - restart).toMillis(), (System.nanoTime() - restart) / 1_000_000);
            assertThat(logs.lines("node node-a lost its subscription")).hasSize(1);
            assertThat(logs.lines("node node-b lost its subscription")).hasSize(1);
            assertThat(logs.lines("node node-a cannot take render locks")).hasSize(1);
        }
    }
}
