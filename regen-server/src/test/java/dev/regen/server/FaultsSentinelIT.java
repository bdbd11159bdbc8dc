package dev.regen.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.regen.RegenConfig;
import dev.regen.server.ClusterIT.Nodes;
import dev.regen.testing.FakeClock;
import dev.regen.testing.RedisSentinelFixture;
import dev.regen.testing.RedisServerFixture;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A Sentinel failover under three Regen nodes on {@code redis-sentinel://}: the master is killed
 * {@code -9}, the Sentinels promote the replica; revalidations work again within 5 s of the promotion
 * and never answer 2xx while the store's writes fail.
 */
@Timeout(120)
class FaultsSentinelIT {
    static final int PAGES = 10;

    private final FakeClock clock = new FakeClock();
    private RedisSentinelFixture set;
    private TestOrigin origin;
    private Nodes nodes;

    @BeforeEach
    void start() throws Exception {
        set = RedisSentinelFixture.start(1000);
        origin = new TestOrigin();
        nodes = Nodes.start(
                "FaultsSentinel",
                set.uri("timeout=300ms"),
                origin,
                clock,
                RegenConfig.builder().revalidate(Duration.ofSeconds(600)).build());
    }

    @AfterEach
    void stop() {
        try {
            if (nodes != null) {
                nodes.close();
            }
        } finally {
            if (origin != null) {
                origin.close();
            }
            if (set != null) {
                set.close();
            }
        }
    }

    @Test
    void masterKilled_revalidationsWorkWithin5sOfThePromotion_never2xxWhileWritesFail() throws Exception {
        for (int p = 0; p < PAGES; p++) {
            for (int n = 0; n < nodes.size(); n++) {
                assertThat(nodes.get(n, "/s/" + p).statusCode()).isEqualTo(200);
            }
        }
        int oldMaster = set.masterPort();
        assertThat(oldMaster).isEqualTo(set.master().port());
        set.master().kill();
        long killed = System.nanoTime();
        long promoted = 0;
        long firstOkAfterPromotion = 0;
        int okAfterPromotion = 0;
        List<String> answers = new ArrayList<>();
        List<String> dishonest = new ArrayList<>();
        for (int i = 0;
                okAfterPromotion < 10
                        && System.nanoTime() - killed < Duration.ofSeconds(40).toNanos();
                i++) {
            String path = "/s/" + (i % PAGES);
            nodes.get(i % nodes.size(), path); // the page is there again (rendered) before each purge
            HttpResponse<String> r = nodes.revalidate((i + 1) % nodes.size(), path, true);
            long now = System.nanoTime();
            int master = set.masterPort();
            if (promoted == 0 && master > 0 && master != oldMaster) {
                promoted = now;
            }
            answers.add(String.format("%.1fs %d", (now - killed) / 1e9, r.statusCode()));
            if (r.statusCode() / 100 == 2) {
                // acknowledged: the page must be gone from the master that holds the data now
                String exists = RedisServerFixture.call(
                        master, "EXISTS", "regen:k:page:" + path + " @" + ClusterIT.PUBLIC_HOST);
                if (!"0".equals(exists)) {
                    dishonest.add(String.format(
                            "%.1fs: %s answered %d but the master on %d still has it (%s)",
                            (now - killed) / 1e9, path, r.statusCode(), master, exists));
                }
                if (promoted != 0) {
                    okAfterPromotion++;
                    if (firstOkAfterPromotion == 0) {
                        firstOkAfterPromotion = now;
                    }
                }
            }
            Thread.sleep(100);
        }
        System.out.printf(
                "[FaultsSentinel] master killed: replica promoted %.1f s after the kill; first revalidation "
                        + "answered 2xx %.2f s after the promotion; %d acknowledged but not applied; answers %s%n",
                (promoted - killed) / 1e9, (firstOkAfterPromotion - promoted) / 1e9, dishonest.size(), answers);
        assertThat(promoted).as("the Sentinels promoted the replica").isPositive();
        assertThat(dishonest).isEmpty();
        assertThat(firstOkAfterPromotion).as("a 2xx after the promotion").isPositive();
        assertThat(Duration.ofNanos(firstOkAfterPromotion - promoted)).isLessThan(Duration.ofSeconds(5));
    }
}
