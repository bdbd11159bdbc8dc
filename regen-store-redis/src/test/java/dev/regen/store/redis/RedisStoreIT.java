package dev.regen.store.redis;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.regen.store.KvEntry;
import dev.regen.store.ListPage;
import dev.regen.store.ListedKey;
import dev.regen.store.MetadataBytes;
import dev.regen.store.PutOptions;
import dev.regen.store.StoreException;
import dev.regen.testing.FakeClock;
import dev.regen.testing.LogCapture;
import dev.regen.testing.RedisServerFixture;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What {@link RedisStore} leaves in a real redis-server, and how it behaves when Redis fails. */
@Timeout(60)
class RedisStoreIT {

    private static RedisServerFixture redis;
    private static RedisClient inspector;
    private static StatefulRedisConnection<byte[], byte[]> inspection;
    private static RedisCommands<byte[], byte[]> raw;

    private final List<RedisStore> stores = new ArrayList<>();

    @BeforeAll
    static void startRedis() {
        redis = RedisServerFixture.start();
        inspector = RedisClient.create(redis.uri().toString());
        inspection = inspector.connect(ByteArrayCodec.INSTANCE);
        raw = inspection.sync();
    }

    @AfterAll
    static void stopRedis() {
        inspection.close();
        inspector.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        redis.close();
    }

    @BeforeEach
    void emptyRedis() {
        if (!redis.running()) {
            redis.restart();
        }
        raw.flushall();
    }

    @AfterEach
    void closeStores() {
        stores.forEach(RedisStore::close);
    }

    private RedisStore open(URI uri, InstantSource clock) {
        RedisStore store = RedisStore.open(uri, clock);
        stores.add(store);
        return store;
    }

    // --- layout --------------------------------------------------------------------------------

    @Test
    void put_binaryValue_isStoredRawInOneHashWithMetadataAndExpiration() {
        FakeClock clock = new FakeClock();
        RedisStore store = open(redis.uri(), clock);
        byte[] value = new byte[256];
        for (int i = 0; i < value.length; i++) {
            value[i] = (byte) i;
        }
        Instant at = clock.instant().plusSeconds(60);

        store.put("/bin", value.clone(), new PutOptions(at, Map.of("etag", "\"x\"", "tags", "a b")));

        Map<byte[], byte[]> hash = raw.hgetall(b("regen:k:/bin"));
        Map<String, byte[]> fields = new java.util.TreeMap<>();
        hash.forEach((k, v) -> fields.put(new String(k, UTF_8), v));
        assertThat(fields.keySet()).containsExactly("c", "m", "v", "x");
        assertThat(fields.get("v")).as("the body as it is, not base64").isEqualTo(value);
        assertThat(fields.get("c")).isEqualTo(RedisStore.crc32c(value));
        assertThat(new String(fields.get("x"), UTF_8)).isEqualTo(Long.toString(at.toEpochMilli()));
        assertThat(MetadataBytes.decode(fields.get("m"))).isEqualTo(Map.of("etag", "\"x\"", "tags", "a b"));
        assertThat(raw.zscore(b("regen:idx"), b("/bin"))).isEqualTo(0.0);
        assertThat(raw.zscore(b("regen:exp"), b("/bin"))).isNotNull();
        assertThat(raw.keys("*"))
                .extracting(k -> new String(k, UTF_8))
                .containsExactlyInAnyOrder("regen:k:/bin", "regen:idx", "regen:exp");
    }

    @Test
    void put_withoutMetadataOrExpiration_storesOnlyTheValueAndNoRedisTtl() {
        RedisStore store = open(redis.uri(), new FakeClock());

        store.put("/plain", new byte[] {1, 2, 3}, PutOptions.NONE);

        assertThat(raw.hkeys(b("regen:k:/plain")))
                .extracting(k -> new String(k, UTF_8))
                .containsExactlyInAnyOrder("v", "c");
        assertThat(raw.pttl(b("regen:k:/plain"))).isEqualTo(-1L);
        assertThat(raw.exists(b("regen:exp"))).isZero();
    }

    @Test
    void replaceMetadata_rewritesMetadataExpirationAndTtl_leavingValueAndChecksumAsTheyAre() {
        FakeClock clock = new FakeClock();
        RedisStore store = open(redis.uri(), clock);
        byte[] value = "<p>the same page</p>".getBytes(UTF_8);
        store.put("/r", value, new PutOptions(clock.instant().plusSeconds(60), Map.of("etag", "\"1\"", "r", "1")));
        Instant at = clock.instant().plusSeconds(3600);

        assertThat(store.replaceMetadata("/r", new PutOptions(at, Map.of("etag", "\"1\"", "r", "2"))))
                .isTrue();

        assertThat(raw.hget(b("regen:k:/r"), b("v"))).isEqualTo(value);
        assertThat(raw.hget(b("regen:k:/r"), b("c"))).isEqualTo(RedisStore.crc32c(value));
        assertThat(MetadataBytes.decode(raw.hget(b("regen:k:/r"), b("m"))))
                .isEqualTo(Map.of("etag", "\"1\"", "r", "2"));
        assertThat(new String(raw.hget(b("regen:k:/r"), b("x")), UTF_8)).isEqualTo(Long.toString(at.toEpochMilli()));
        assertThat(raw.pttl(b("regen:k:/r"))).isBetween(3_590_000L, 3_600_000L);
        Double expiry = raw.zscore(b("regen:exp"), b("/r"));
        assertThat(expiry).isNotNull();
        assertThat(expiry.longValue() - System.currentTimeMillis())
                .as("when Redis drops it, in Redis time")
                .isBetween(3_500_000L, 3_600_000L);

        assertThat(store.replaceMetadata("/r", PutOptions.NONE)).isTrue();

        assertThat(raw.hkeys(b("regen:k:/r")))
                .extracting(k -> new String(k, UTF_8))
                .containsExactlyInAnyOrder("v", "c");
        assertThat(raw.pttl(b("regen:k:/r"))).isEqualTo(-1L);
        assertThat(raw.zscore(b("regen:exp"), b("/r"))).isNull();
        assertThat(raw.zscore(b("regen:idx"), b("/r"))).isEqualTo(0.0);
    }

    @Test
    void replaceMetadata_expiredByTheStoresClockButStillInRedis_returnsFalseAndWritesNothing() {
        FakeClock clock = new FakeClock();
        RedisStore store = open(redis.uri(), clock);
        store.put("/e", new byte[] {1}, new PutOptions(clock.instant().plusSeconds(60), Map.of("a", "1")));
        clock.advance(Duration.ofSeconds(61)); // Redis keeps the hash for another minute of its own time

        assertThat(store.replaceMetadata("/e", PutOptions.metadata(Map.of("a", "2"))))
                .isFalse();

        assertThat(MetadataBytes.decode(raw.hget(b("regen:k:/e"), b("m")))).isEqualTo(Map.of("a", "1"));
        assertThat(raw.pttl(b("regen:k:/e"))).isPositive();
    }

    @Test
    void get_valueChangedInRedis_isAMissLoggedOnceAndRemoved() throws Exception {
        RedisStore store = open(redis.uri(), new FakeClock());
        store.put("/a", "<p>the page</p>".getBytes(UTF_8), PutOptions.NONE);
        store.put("/b", "<p>another</p>".getBytes(UTF_8), PutOptions.NONE);
        raw.hset(b("regen:k:/a"), b("v"), b("<p>the pagE</p>"));

        try (LogCapture logs = new LogCapture(RedisStore.class)) {
            assertThat(store.get("/a")).isNull();
            Eventually.await(
                    Duration.ofSeconds(5), "the corrupt entry removed", () -> raw.exists(b("regen:k:/a")) == 0);

            assertThat(logs.lines("the entry /a is corrupt")).hasSize(1);
            assertThat(store.get("/a")).isNull();
            assertThat(store.list("/", null, 10).keys())
                    .extracting(ListedKey::name)
                    .containsExactly("/b");
            assertThat(store.get("/b").value()).isEqualTo("<p>another</p>".getBytes(UTF_8));
        }
    }

    @Test
    void get_entryWithoutChecksum_writtenBeforeChecksums_isServed() {
        RedisStore store = open(redis.uri(), new FakeClock());
        raw.hset(b("regen:k:/old"), b("v"), b("old page"));
        raw.zadd(b("regen:idx"), 0, b("/old"));

        assertThat(store.get("/old").value()).isEqualTo(b("old page"));
    }

    @Test
    void put_customPrefixAndDatabase_writeThere() {
        RedisStore store = open(redis.uri("/2?prefix=site-a/"), new FakeClock());

        store.put("/p", new byte[] {1}, PutOptions.NONE);

        assertThat(raw.exists(b("site-a/k:/p"))).as("not in database 0").isZero();
        raw.select(2);
        try {
            assertThat(raw.exists(b("site-a/k:/p"))).isEqualTo(1L);
            assertThat(raw.exists(b("site-a/idx"))).isEqualTo(1L);
        } finally {
            raw.select(0);
        }
    }

    // --- time ----------------------------------------------------------------------------------

    @Test
    void put_clockYearsBehindRedis_setsRedisTtlFromTheClockNotTheAbsoluteTime() {
        // PEXPIREAT with this clock's 2020 time would make Redis drop the entry at once.
        FakeClock clock = new FakeClock(Instant.parse("2020-01-01T00:00:00Z"));
        RedisStore store = open(redis.uri(), clock);

        store.put(
                "/old-clock",
                new byte[] {1},
                PutOptions.NONE.withExpiration(clock.instant().plusSeconds(3600)));

        assertThat(raw.pttl(b("regen:k:/old-clock"))).isBetween(3_590_000L, 3_600_000L);
        assertThat(store.get("/old-clock")).isNotNull();
        clock.advance(Duration.ofSeconds(3600));
        assertThat(store.get("/old-clock"))
                .as("the store's clock decides for readers")
                .isNull();
    }

    @Test
    void put_clockYearsAheadOfRedis_keepsEntryOnlyAsLongAsTheClockSays() {
        FakeClock clock = new FakeClock(Instant.parse("2090-01-01T00:00:00Z"));
        RedisStore store = open(redis.uri(), clock);

        store.put(
                "/new-clock",
                new byte[] {1},
                PutOptions.NONE.withExpiration(clock.instant().plusSeconds(60)));

        assertThat(raw.pttl(b("regen:k:/new-clock"))).isBetween(50_000L, 60_000L);
        assertThat(store.get("/new-clock").expiration()).isEqualTo(Instant.parse("2090-01-01T00:01:00Z"));
    }

    @Test
    void put_expirationBeyondTenYears_keepsItInTheHashWithoutRedisTtl() {
        FakeClock clock = new FakeClock();
        RedisStore store = open(redis.uri(), clock);
        Instant far = clock.instant().plus(Duration.ofDays(365 * 20));

        store.put("/far", new byte[] {1}, PutOptions.NONE.withExpiration(far));

        assertThat(raw.pttl(b("regen:k:/far"))).isEqualTo(-1L);
        assertThat(store.get("/far").expiration()).isEqualTo(far);
    }

    @Test
    void expiredEntry_isDroppedByRedisItself_andLeavesTheIndexOnTheNextListing() {
        RedisStore store = open(redis.uri(), InstantSource.system());
        store.put(
                "/short",
                new byte[] {1},
                PutOptions.NONE.withExpiration(Instant.now().plusMillis(200)));
        store.put("/long", new byte[] {1}, PutOptions.NONE);

        Eventually.await(Duration.ofSeconds(3), "Redis drops the hash", () -> raw.exists(b("regen:k:/short")) == 0);
        assertThat(raw.zcard(b("regen:idx"))).as("index members go lazily").isEqualTo(2L);

        assertThat(store.list("", null, 10).keys()).extracting(ListedKey::name).containsExactly("/long");
        assertThat(raw.zrange(b("regen:idx"), 0, -1))
                .extracting(m -> new String(m, UTF_8))
                .containsExactly("/long");
    }

    @Test
    void put_afterOtherEntriesExpiredInRedis_prunesTheirIndexMembers() {
        RedisStore store = open(redis.uri(), InstantSource.system());
        for (int i = 0; i < 5; i++) {
            store.put(
                    "/gone/" + i,
                    new byte[] {1},
                    PutOptions.NONE.withExpiration(Instant.now().plusMillis(100)));
        }
        // Puts prune members whose hash expired more than a second ago.
        Eventually.sleep(1_300);

        store.put("/new", new byte[] {1}, PutOptions.NONE);

        assertThat(raw.zrange(b("regen:idx"), 0, -1))
                .extracting(m -> new String(m, UTF_8))
                .containsExactly("/new");
        assertThat(raw.zcard(b("regen:exp"))).isZero();
    }

    @Test
    void list_manyExpiredKeysBeforeLiveOnes_followsCursorsToEveryLiveKey() {
        FakeClock clock = new FakeClock();
        RedisStore store = open(redis.uri(), clock);
        for (int i = 0; i < 2_500; i++) {
            store.put(
                    String.format("/a/%05d", i),
                    new byte[] {1},
                    PutOptions.NONE.withExpiration(clock.instant().plusSeconds(5)));
        }
        for (int i = 0; i < 5; i++) {
            store.put("/b/" + i, new byte[] {1}, PutOptions.NONE);
        }
        clock.advance(Duration.ofSeconds(10));

        List<String> seen = new ArrayList<>();
        int pages = 0;
        String cursor = null;
        do {
            ListPage page = store.list("/", cursor, 3);
            page.keys().forEach(k -> seen.add(k.name()));
            cursor = page.cursor();
            pages++;
        } while (cursor != null && pages < 100);

        assertThat(seen).containsExactly("/b/0", "/b/1", "/b/2", "/b/3", "/b/4");
        assertThat(pages).as("a page scans a bounded number of expired keys").isGreaterThan(2);
    }

    @Test
    void list_limitAboveMaximum_returnsAtMostMaxPageKeys() {
        RedisStore store = open(redis.uri(), new FakeClock());
        for (int i = 0; i < RedisStore.MAX_PAGE + 5; i++) {
            store.put(String.format("/m/%05d", i), new byte[0], PutOptions.NONE);
        }

        ListPage first = store.list("/m/", null, 5_000);
        ListPage second = store.list("/m/", first.cursor(), 5_000);

        assertThat(first.keys()).hasSize(RedisStore.MAX_PAGE);
        assertThat(first.complete()).isFalse();
        assertThat(second.keys()).hasSize(5);
        assertThat(second.complete()).isTrue();
    }

    // --- credentials ---------------------------------------------------------------------------

    @Test
    void open_passwordInUri_authenticates_andWrongPasswordFailsWithoutShowingIt() {
        try (RedisServerFixture secured = RedisServerFixture.start("--requirepass", "s3cr/t@x")) {
            assertThatThrownBy(() -> RedisStore.open(secured.uri(), new FakeClock()))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("cannot connect");
            URI good = URI.create("redis://:s3cr%2Ft%40x@127.0.0.1:" + secured.port() + "/1");
            try (RedisStore store = RedisStore.open(good, new FakeClock())) {
                store.put("/k", new byte[] {7}, PutOptions.NONE);
                assertThat(store.get("/k").value()).containsExactly(7);
            }
            URI bad = URI.create("redis://:wrong-pass@127.0.0.1:" + secured.port());
            assertThatThrownBy(() -> RedisStore.open(bad, new FakeClock()))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("***@127.0.0.1")
                    .hasMessageNotContaining("wrong-pass");
        }
    }

    // --- faults --------------------------------------------------------------------------------

    @Test
    void redisKilled_callsFailFastWithStoreException_andWorkAgainAfterRestart() {
        RedisStore store = open(redis.uri(), new FakeClock());
        store.put("/k", new byte[] {1}, PutOptions.NONE);
        redis.kill();

        long start = System.nanoTime();
        for (int i = 0; i < 20; i++) {
            assertThatThrownBy(() -> store.get("/k")).isInstanceOf(StoreException.class);
            assertThatThrownBy(() -> store.put("/k", new byte[] {2}, PutOptions.NONE))
                    .isInstanceOf(StoreException.class);
            assertThatThrownBy(() -> store.list("", null, 10)).isInstanceOf(StoreException.class);
            assertThatThrownBy(() -> store.replaceMetadata("/k", PutOptions.NONE))
                    .isInstanceOf(StoreException.class);
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start))
                .as("no call waits for the timeout")
                .isLessThan(Duration.ofSeconds(1));

        redis.restart(); // empty: no persistence
        Duration back = Eventually.await(Duration.ofSeconds(5), "the store works again", () -> {
            try {
                store.put("/k", new byte[] {3}, PutOptions.NONE);
                return true;
            } catch (StoreException e) {
                return false;
            }
        });
        assertThat(store.get("/k").value()).containsExactly(3);
        System.out.printf("redis restart -> store usable again after %d ms%n", back.toMillis());
    }

    @Test
    void redisHangs_callsTimeOutWithStoreException_insteadOfHanging() {
        RedisStore store = open(redis.uri("?timeout=300ms"), new FakeClock());
        store.put("/k", new byte[] {1}, PutOptions.NONE);
        redis.pause();
        try {
            long start = System.nanoTime();
            assertThatThrownBy(() -> store.get("/k"))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("timed out");
            assertThat(Duration.ofNanos(System.nanoTime() - start))
                    .isBetween(Duration.ofMillis(250), Duration.ofMillis(1500));
        } finally {
            redis.resume();
        }
        Eventually.await(Duration.ofSeconds(5), "the store answers again", () -> {
            try {
                KvEntry entry = store.get("/k");
                return entry != null;
            } catch (StoreException e) {
                return false;
            }
        });
    }

    @Test
    void closedStore_throwsIllegalState() {
        RedisStore store = open(redis.uri(), new FakeClock());
        store.close();

        assertThatThrownBy(() -> store.get("/k")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> store.replaceMetadata("/k", PutOptions.NONE))
                .isInstanceOf(IllegalStateException.class);
    }

    private static byte[] b(String s) {
        return s.getBytes(UTF_8);
    }
}
