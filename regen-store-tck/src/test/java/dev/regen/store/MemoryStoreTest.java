package dev.regen.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.regen.testing.FakeClock;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** What the contract does not cover: the byte bound, the index and the ordering helper. */
class MemoryStoreTest {

    private static final long MIB = 1L << 20;

    private final FakeClock clock = new FakeClock();

    @Test
    void put_moreThanMaxBytes_evictsDownToTheBound() {
        MemoryStore store = new MemoryStore(MIB, clock);

        for (int i = 0; i < 100; i++) {
            store.put("/p/" + i, new byte[64 * 1024], PutOptions.metadata(Map.of("i", Integer.toString(i))));
            store.cleanUp();
            assertThat(store.weightedBytes()).isLessThanOrEqualTo(MIB);
        }

        assertThat(store.size()).isBetween(1L, 16L);
        assertThat((long) store.indexSize()).isEqualTo(store.size());
        assertThat(store.list("/p/", null, 1000).keys()).hasSize(store.indexSize());
    }

    @Test
    void put_pastTheBound_evictsOwnedEntriesOnlyWithTheirOwner() {
        MemoryStore store = new MemoryStore(MIB, clock);

        for (int i = 0; i < 100; i++) {
            String page = "page:/p/" + i;
            store.put(page, new byte[64 * 1024], PutOptions.NONE);
            store.put("tag:t " + page, new byte[0], PutOptions.NONE.withOwner(page));
            store.cleanUp();
        }
        store.get("page:/p/99"); // runs the owned entries' clean-up

        List<ListedKey> pages = store.list("page:", null, 1000).keys();
        List<ListedKey> tags = store.list("tag:t ", null, 1000).keys();
        assertThat(pages).hasSizeBetween(1, 16);
        assertThat(tags.stream().map(k -> k.name().substring("tag:t ".length())).toList())
                .isEqualTo(pages.stream().map(ListedKey::name).toList());
    }

    @Test
    void put_ownedEntryWhoseOwnerIsGone_isNotStored() {
        MemoryStore store = new MemoryStore(MIB, clock);

        store.put("tag:t page:/nowhere", new byte[0], PutOptions.NONE.withOwner("page:/nowhere"));

        assertThat(store.get("tag:t page:/nowhere")).isNull();
    }

    @Test
    void weightedBytes_countsValueKeyMetadataAndOverhead() {
        MemoryStore store = new MemoryStore(MIB, clock);

        store.put("/k", new byte[1000], PutOptions.metadata(Map.of("ab", "cde")));
        store.cleanUp();

        assertThat(store.weightedBytes())
                .isEqualTo(1000 + 2 + 5 + MemoryStore.METADATA_PAIR_OVERHEAD + MemoryStore.ENTRY_OVERHEAD);
    }

    @Test
    void put_sameKeyAgain_replacesWeight() {
        MemoryStore store = new MemoryStore(MIB, clock);

        store.put("/k", new byte[10_000], PutOptions.NONE);
        store.put("/k", new byte[100], PutOptions.NONE);
        store.cleanUp();

        assertThat(store.weightedBytes()).isEqualTo(100 + 2 + MemoryStore.ENTRY_OVERHEAD);
        assertThat(store.indexSize()).isEqualTo(1);
    }

    @Test
    void replaceMetadata_keepsTheValueArrayAndReweighsTheEntry() {
        MemoryStore store = new MemoryStore(MIB, clock);
        byte[] value = new byte[1000];
        store.put("/k", value, PutOptions.metadata(Map.of("ab", "cde")));

        assertThat(store.replaceMetadata("/k", PutOptions.NONE)).isTrue();
        store.cleanUp();

        assertThat(store.get("/k").value()).isSameAs(value);
        assertThat(store.weightedBytes()).isEqualTo(1000 + 2 + MemoryStore.ENTRY_OVERHEAD);
        assertThat(store.indexSize()).isEqualTo(1);
    }

    @Test
    void replaceMetadata_withAnOwner_goesWhenTheOwnerExpires() {
        MemoryStore store = new MemoryStore(MIB, clock);
        store.put(
                "page:/p",
                new byte[10],
                PutOptions.NONE.withExpiration(clock.instant().plusSeconds(10)));
        store.put("tag:t page:/p", new byte[0], PutOptions.NONE);

        store.replaceMetadata(
                "tag:t page:/p", PutOptions.metadata(Map.of("a", "1")).withOwner("page:/p"));
        clock.advance(Duration.ofSeconds(11));
        store.cleanUp();

        assertThat(store.get("tag:t page:/p")).as("went with its owner").isNull();
    }

    @Test
    void replaceMetadata_withoutTheOwnerItHad_outlivesItsFormerOwner() {
        MemoryStore store = new MemoryStore(MIB, clock);
        store.put(
                "page:/p",
                new byte[10],
                PutOptions.NONE.withExpiration(clock.instant().plusSeconds(10)));
        store.put("tag:t page:/p", new byte[0], PutOptions.NONE.withOwner("page:/p"));

        store.replaceMetadata("tag:t page:/p", PutOptions.NONE);
        clock.advance(Duration.ofSeconds(11));
        store.cleanUp();

        assertThat(store.get("tag:t page:/p")).isNotNull();
    }

    @Test
    void replaceMetadata_ownerIsGone_dropsTheEntry() {
        MemoryStore store = new MemoryStore(MIB, clock);
        store.put("tag:t page:/p", new byte[0], PutOptions.NONE);

        assertThat(store.replaceMetadata("tag:t page:/p", PutOptions.NONE.withOwner("page:/p")))
                .isTrue();

        assertThat(store.get("tag:t page:/p"))
                .as("as a put with that owner would be")
                .isNull();
    }

    @Test
    void expiredEntries_areEvictedFromCacheAndIndexOnCleanUp() {
        MemoryStore store = new MemoryStore(MIB, clock);
        for (int i = 0; i < 10; i++) {
            store.put(
                    "/e/" + i,
                    new byte[100],
                    PutOptions.NONE.withExpiration(clock.instant().plusSeconds(10)));
        }
        store.put("/keep", new byte[100], PutOptions.NONE);

        clock.advance(Duration.ofSeconds(11));
        store.cleanUp();

        assertThat(store.size()).isEqualTo(1);
        assertThat(store.indexSize()).isEqualTo(1);
    }

    @Test
    void delete_removesFromIndex() {
        MemoryStore store = new MemoryStore(MIB, clock);
        store.put("/a", new byte[1], PutOptions.NONE);

        store.delete("/a");

        assertThat(store.indexSize()).isZero();
    }

    @Test
    void put_keepsTheCallersArray() {
        MemoryStore store = new MemoryStore(MIB, clock);
        byte[] value = {1, 2, 3};

        store.put("/a", value, PutOptions.NONE);

        assertThat(store.get("/a").value()).isSameAs(value);
    }

    @Test
    void racingPutsAndDeletes_leaveIndexConsistentWithCache() throws Exception {
        MemoryStore store = new MemoryStore(256 * 1024, clock);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 6; t++) {
            int seed = t;
            threads.add(new Thread(() -> {
                Random random = new Random(seed);
                for (int n = 0; n < 20_000; n++) {
                    String key = "/k/" + random.nextInt(50);
                    if (random.nextInt(3) == 0) {
                        store.delete(key);
                    } else {
                        store.put(key, new byte[random.nextInt(8192)], PutOptions.NONE);
                    }
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }
        store.cleanUp();

        assertThat((long) store.indexSize()).isEqualTo(store.size());
        for (var key : store.list("", null, 1000).keys()) {
            assertThat(store.get(key.name())).as(key.name()).isNotNull();
        }
        assertThat(store.weightedBytes()).isLessThanOrEqualTo(256 * 1024);
    }

    @Test
    void compareUtf8_randomStrings_agreesWithUtf8Bytes() {
        Random random = new Random(1);
        int[] pool = {'a', 'z', 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFD, 0xFFFF, 0x10000, 0x1F600, 0x10FFFF};
        for (int n = 0; n < 20_000; n++) {
            String a = randomString(random, pool);
            String b = randomString(random, pool);
            int expected = Integer.signum(
                    Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8)));
            assertThat(Integer.signum(MemoryStore.compareUtf8(a, b)))
                    .as("%s vs %s", a, b)
                    .isEqualTo(expected);
        }
    }

    @Test
    void constructor_nonPositiveMaxBytes_throws() {
        assertThatThrownBy(() -> new MemoryStore(0, clock))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxBytes must be positive: 0");
    }

    private static String randomString(Random random, int[] pool) {
        StringBuilder sb = new StringBuilder();
        int len = random.nextInt(4);
        for (int i = 0; i < len; i++) {
            sb.appendCodePoint(pool[random.nextInt(pool.length)]);
        }
        return sb.toString();
    }
}
