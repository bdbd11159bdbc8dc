package dev.regen.store.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.regen.cluster.Cluster.RenderLock;
import dev.regen.store.PutOptions;
import dev.regen.store.StoreException;
import dev.regen.store.StoreHealth;
import dev.regen.testing.FakeClock;
import dev.regen.testing.LogCapture;
import dev.regen.testing.RedisServerFixture;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A real redis-server with {@code --maxmemory 2mb --maxmemory-policy noeviction}, the README's advice:
 * writes past the limit are refused, not forced; render locks go local without calling Redis down.
 *
 * <p>At the limit Redis lets a write in whenever it is just under (its own clients' input buffers
 * count), so after the first refusal the tests lower maxmemory a little under what is used, as an
 * operator would, to be over it for sure.
 */
@Timeout(60)
class RedisMemoryLimitIT {

    private static final long MAXMEMORY = 2L << 20;
    private static final byte[] PAGE = new byte[20_000];

    private RedisServerFixture redis;
    private RedisStore store;

    @BeforeEach
    void start() {
        redis = RedisServerFixture.start("--maxmemory", Long.toString(MAXMEMORY), "--maxmemory-policy", "noeviction");
        store = RedisStore.open(redis.uri(), new FakeClock());
    }

    @AfterEach
    void stop() {
        store.close();
        redis.close();
    }

    @Test
    void put_overMaxmemory_isRefusedCleanlyAndRedisStaysAtTheLimit() throws Exception {
        try (LogCapture logs = new LogCapture(RedisStore.class)) {
            int stored = fill();
            assertThat(usedMemory()).as("used_memory at the first refusal").isLessThan(MAXMEMORY + 2 * PAGE.length);
            overTheLimit();
            long before = usedMemory();

            for (int i = 0; i < 50; i++) { // each refused, none forced through: new pages and re-renders alike
                String key = i % 2 == 0 ? "page:/more/" + i : "page:/p/" + i;
                assertThatThrownBy(() -> store.put(key, PAGE, PutOptions.metadata(Map.of("t", "a b"))))
                        .isInstanceOf(StoreException.class)
                        .hasMessageContaining(key + " not stored: Redis is over its maxmemory");
            }
            assertThat(usedMemory())
                    .as("used_memory after 50 refused puts of 20 KB")
                    .isLessThan(before + 64 * 1024);
            // a metadata rewrite is refused whole too: the entry keeps what it had
            assertThatThrownBy(() -> store.replaceMetadata("page:/p/0", PutOptions.metadata(Map.of("t", "b c"))))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("page:/p/0 not stored: Redis is over its maxmemory");
            assertThat(store.get("page:/p/0").metadata()).isEqualTo(Map.of("t", "a b"));
            assertThat(store.get("page:/more/4")).isNull();
            assertThat(store.get("page:/p/0").value()).hasSize(PAGE.length); // reads go on
            assertThat(store.health()).isEqualTo(StoreHealth.degraded("writes refused: Redis is over its maxmemory"));

            for (int i = 0; i < stored / 2; i++) {
                store.delete("page:/p/" + i);
            }
            Eventually.await(
                    Duration.ofSeconds(10),
                    "health up once Redis has room, without a put",
                    () -> store.health().up());
            store.put("page:/after", PAGE, PutOptions.NONE);
            assertThat(store.get("page:/after").value()).hasSize(PAGE.length);

            assertThat(logs.lines("over its maxmemory and refuses writes")).hasSize(1);
            assertThat(logs.lines("has room again")).hasSize(1);
        }
    }

    @Test
    void tryLock_overMaxmemory_isLocalWithoutCallingRedisDown_andSharedAgainOnceThereIsRoom() throws Exception {
        try (RedisCluster node = RedisCluster.open(redis.uri(), "node-a");
                LogCapture logs = new LogCapture(RedisCluster.class)) {
            int stored = fill();
            overTheLimit();

            for (int i = 0; i < 10; i++) { // across several of the cluster's 250 ms probes
                RenderLock lock = node.tryLock("page:/p/locked-" + i, Duration.ofSeconds(10));
                assertThat(lock.token()).startsWith(RedisCluster.LOCAL_TOKEN_PREFIX);
                node.unlock(lock);
                // full, not down: changes still go out, and nobody is told to drop everything
                assertThat(node.publish(List.of("page:/p/locked-" + i))).succeedsWithin(Duration.ofSeconds(2));
                Thread.sleep(100); // lets the probe thread run, if it wanted to
            }
            for (int i = 0; i < stored / 2; i++) {
                store.delete("page:/p/" + i);
            }
            // asked again a second after the last refusal
            Eventually.await(
                    Duration.ofSeconds(3),
                    "a lock taken in Redis again",
                    () -> node.tryLock("page:/p/x", Duration.ofSeconds(10))
                            .token()
                            .startsWith("node-a:"));
            assertThat(logs.lines("refuses render locks")).hasSize(1);
            assertThat(logs.lines("takes render locks there again")).hasSize(1);
            assertThat(logs.lines("lost its subscription")).isEmpty();
            assertThat(logs.lines("cannot send change messages")).isEmpty();
        }
    }

    /** Puts pages until Redis refuses one; returns how many it took (the first refused is not among them). */
    private int fill() {
        for (int i = 0; i < 1000; i++) {
            try {
                store.put("page:/p/" + i, PAGE, PutOptions.metadata(Map.of("t", "a b")));
            } catch (StoreException e) {
                assertThat(e).hasMessageContaining("not stored: Redis is over its maxmemory");
                assertThat(i).as("pages stored before the limit").isGreaterThan(10);
                return i;
            }
        }
        throw new AssertionError("Redis took 1000 pages of 20 KB under a 2 MB maxmemory");
    }

    /** Lowers maxmemory to 256 KiB under what Redis uses now: every write that may grow memory is refused. */
    private void overTheLimit() throws IOException {
        long limit = usedMemory() - 256 * 1024;
        assertThat(redis.call("CONFIG", "SET", "maxmemory", Long.toString(limit)))
                .isEqualTo("OK");
    }

    private long usedMemory() throws IOException {
        for (String line : redis.call("INFO", "memory").split("\r\n")) {
            if (line.startsWith("used_memory:")) {
                return Long.parseLong(line.substring("used_memory:".length()));
            }
        }
        throw new AssertionError("no used_memory in INFO");
    }
}
