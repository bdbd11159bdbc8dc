package dev.regen.server;

import dev.regen.RegenConfig;
import dev.regen.testing.FakeClock;
import dev.regen.testing.RedisClusterFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ClusterIT}'s single-flight and invalidation checks with the three nodes on a Redis Cluster of
 * three masters (store URI {@code redis://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3}): page data spread
 * over the masters by hash tags, render locks in their own slots, change messages by cluster-wide
 * PUBLISH. One Redis Cluster for the class (it takes seconds to form); each test uses its own paths.
 */
class ClusterModeIT {
    private static RedisClusterFixture redis;

    private final FakeClock clock = new FakeClock();
    private TestOrigin origin;
    private ClusterIT.Nodes nodes;

    @BeforeAll
    static void startRedisCluster() {
        redis = RedisClusterFixture.start();
    }

    @AfterAll
    static void stopRedisCluster() {
        if (redis != null) {
            redis.close();
        }
    }

    @BeforeEach
    void start() throws Exception {
        origin = new TestOrigin();
        nodes = ClusterIT.Nodes.start(
                "ClusterModeIT",
                redis.uri(),
                origin,
                clock,
                RegenConfig.builder().revalidate(ClusterIT.REVALIDATE).build());
    }

    @AfterEach
    void stop() {
        if (origin != null) {
            origin.release();
        }
        if (nodes != null) {
            nodes.close();
        }
        if (origin != null) {
            origin.close();
        }
    }

    @Test
    void coldPage_300ConcurrentOverThreeNodes_oneOriginRender() throws Exception {
        ClusterIT.coldPageSingleFlight(nodes, origin, "/cluster/cold");
    }

    @Test
    void stalePage_300ConcurrentOverThreeNodes_oneRenderAndNobodyWaits() throws Exception {
        ClusterIT.stalePageSingleFlight(nodes, origin, clock, "/cluster/stale");
    }

    @Test
    void stalePage_continuousLoadOverThreeNodes_oneRenderEachTimeItTurnsStale() throws Exception {
        ClusterIT.staleUnderLoadSingleFlight(nodes, origin, clock, "/cluster/hot", ClusterIT.STALE_CYCLES);
    }

    @Test
    void revalidationOnA_200SoftAndHard_visibleOnBAndCWithin100msAtP99() throws Exception {
        ClusterIT.assertVisibilityBar(
                ClusterIT.invalidationVisibility(nodes, origin, "/cluster/vis", ClusterIT.VISIBILITY_TRIALS));
    }
}
