package dev.regen.store.redis;

import dev.regen.store.KvStore;
import dev.regen.store.tck.KvStoreContract;
import dev.regen.testing.FakeClock;
import dev.regen.testing.RedisClusterFixture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The store contract on a 3-master Redis Cluster, keys sharded over 16 index shards. */
class RedisClusterStoreContractIT extends KvStoreContract {

    private static final AtomicInteger tests = new AtomicInteger();
    private static RedisClusterFixture cluster;
    private String prefix;

    @BeforeAll
    static void startCluster() {
        cluster = RedisClusterFixture.start();
    }

    @AfterAll
    static void stopCluster() {
        cluster.close();
    }

    @Override
    protected KvStore newStore(FakeClock clock) {
        prefix = "t" + tests.incrementAndGet() + ":";
        return RedisStore.open(cluster.uri("?prefix=" + prefix), clock);
    }

    @Override
    protected KvStore reopen(KvStore closed, FakeClock clock) {
        return RedisStore.open(cluster.uri("?prefix=" + prefix), clock);
    }
}
