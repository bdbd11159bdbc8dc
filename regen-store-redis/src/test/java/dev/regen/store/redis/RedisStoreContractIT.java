package dev.regen.store.redis;

import dev.regen.store.KvStore;
import dev.regen.store.tck.KvStoreContract;
import dev.regen.testing.FakeClock;
import dev.regen.testing.RedisServerFixture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The store contract on one real redis-server; each test writes under its own key prefix. */
class RedisStoreContractIT extends KvStoreContract {

    private static final AtomicInteger tests = new AtomicInteger();
    private static RedisServerFixture redis;
    private String prefix;

    @BeforeAll
    static void startRedis() {
        redis = RedisServerFixture.start();
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    @Override
    protected KvStore newStore(FakeClock clock) {
        prefix = "t" + tests.incrementAndGet() + ":";
        return RedisStore.open(redis.uri("?prefix=" + prefix), clock);
    }

    /** Redis keeps everything across a client's close: opening again sees the same data. */
    @Override
    protected KvStore reopen(KvStore closed, FakeClock clock) {
        return RedisStore.open(redis.uri("?prefix=" + prefix), clock);
    }
}
