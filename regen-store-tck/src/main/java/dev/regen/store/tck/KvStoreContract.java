package dev.regen.store.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.regen.store.KvEntry;
import dev.regen.store.KvStore;
import dev.regen.store.ListPage;
import dev.regen.store.ListedKey;
import dev.regen.store.PutOptions;
import dev.regen.testing.FakeClock;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The contract of {@link KvStore}: every store's tests extend this class and implement
 * {@link #newStore}. Persistent stores also implement {@link #reopen} so the contract checks that
 * data survives a close.
 *
 * <p>Expirations are whole milliseconds, the precision stores are required to keep. The exact
 * instant of expiration is left unspecified (backends differ on it); entries are checked one
 * millisecond either side.
 */
public abstract class KvStoreContract {

    protected FakeClock clock;
    protected KvStore store;

    /** A new, empty store reading time from {@code clock}. Closed by the contract after each test. */
    protected abstract KvStore newStore(FakeClock clock);

    /**
     * Opens the data of {@code closed} (already closed) again, or returns null when the store keeps
     * nothing across a close, which skips the persistence cases.
     */
    protected KvStore reopen(KvStore closed, FakeClock clock) {
        return null;
    }

    @BeforeEach
    void openStore() {
        clock = new FakeClock();
        store = newStore(clock);
    }

    @AfterEach
    void closeStore() {
        if (store != null) {
            store.close();
        }
    }

    // --- get / put -----------------------------------------------------------------------------

    @Test
    void get_missingKey_returnsNull() {
        assertThat(store.get("/nothing")).isNull();
    }

    @Test
    void put_allByteValues_roundTripsByteExact() {
        byte[] value = new byte[512];
        for (int i = 0; i < value.length; i++) {
            value[i] = (byte) i; // every byte value twice, NUL and 0xFF included
        }
        store.put("/bin", value.clone(), PutOptions.NONE);

        assertThat(store.get("/bin").value()).isEqualTo(value);
    }

    @Test
    void put_emptyValue_roundTripsAsEmpty() {
        store.put("/empty", new byte[0], PutOptions.NONE);

        KvEntry entry = store.get("/empty");
        assertThat(entry).isNotNull();
        assertThat(entry.value()).isEmpty();
    }

    @Test
    void put_oneMebibyteValue_roundTripsByteExact() {
        byte[] value = bytes(7, 1 << 20);
        store.put("/big", value.clone(), PutOptions.NONE);

        assertThat(store.get("/big").value()).isEqualTo(value);
    }

    @Test
    void put_metadataWithAwkwardCharacters_roundTripsExactly() {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("etag", "\"abc\"");
        metadata.put("tags", "posts,blog news");
        metadata.put("a=b&c", "%20%%=&;,\"\\");
        metadata.put("unicode-é✓😀", "值\u0001\n\t");
        metadata.put("", "empty key");
        metadata.put("empty value", "");
        store.put("/meta", new byte[] {1}, PutOptions.metadata(metadata));

        assertThat(store.get("/meta").metadata()).isEqualTo(metadata);
    }

    @Test
    void put_withoutMetadata_returnsEmptyMetadataAndNoExpiration() {
        store.put("/plain", new byte[] {1, 2}, PutOptions.NONE);

        KvEntry entry = store.get("/plain");
        assertThat(entry.metadata()).isEmpty();
        assertThat(entry.expiration()).isNull();
    }

    @Test
    void put_existingKey_replacesValueMetadataAndExpiration() {
        Instant later = clock.instant().plus(Duration.ofHours(2));
        store.put("/k", bytes(1, 100), new PutOptions(clock.instant().plusSeconds(60), Map.of("a", "1", "b", "2")));
        store.put("/k", bytes(2, 10), new PutOptions(later, Map.of("c", "3")));

        KvEntry entry = store.get("/k");
        assertThat(entry.value()).isEqualTo(bytes(2, 10));
        assertThat(entry.metadata()).isEqualTo(Map.of("c", "3")); // replaced, not merged
        assertThat(entry.expiration()).isEqualTo(later);
        clock.advance(Duration.ofMinutes(5));
        assertThat(store.get("/k")).as("the old expiration no longer applies").isNotNull();
    }

    @Test
    void put_existingKeyWithoutExpiration_removesOldExpiration() {
        store.put(
                "/k",
                bytes(1, 10),
                PutOptions.NONE.withExpiration(clock.instant().plusSeconds(10)));
        store.put("/k", bytes(2, 10), PutOptions.NONE);

        clock.advance(Duration.ofDays(365));

        KvEntry entry = store.get("/k");
        assertThat(entry).isNotNull();
        assertThat(entry.expiration()).isNull();
    }

    @Test
    void put_keysDifferingOnlyInCaseOrUnicode_areDistinct() {
        List<String> keys = List.of("/a", "/A", "/é", "/e\u0301", "/😀", "/a/");
        for (int i = 0; i < keys.size(); i++) {
            store.put(keys.get(i), new byte[] {(byte) i}, PutOptions.NONE);
        }

        for (int i = 0; i < keys.size(); i++) {
            assertThat(store.get(keys.get(i)).value()).as(keys.get(i)).containsExactly((byte) i);
        }
    }

    // --- owned entries -------------------------------------------------------------------------

    @Test
    void put_withOwner_isReadAndListedLikeAnyEntry() {
        store.put("page:/o", bytes(1, 10), PutOptions.NONE);
        store.put(
                "tag:t page:/o",
                new byte[0],
                PutOptions.metadata(Map.of("a", "1")).withOwner("page:/o"));

        assertThat(store.get("tag:t page:/o").metadata()).isEqualTo(Map.of("a", "1"));
        assertThat(names(store.list("tag:", null, 10))).containsExactly("tag:t page:/o");
    }

    @Test
    void delete_owner_leavesItsOwnedEntries() {
        store.put("page:/o", bytes(1, 10), PutOptions.NONE);
        store.put("tag:t page:/o", new byte[0], PutOptions.NONE.withOwner("page:/o"));

        store.delete("page:/o");

        assertThat(store.get("tag:t page:/o"))
                .as("the caller deletes what it indexed")
                .isNotNull();
    }

    // --- replaceMetadata -----------------------------------------------------------------------

    @Test
    void replaceMetadata_existingKey_keepsValueAndReplacesMetadataAndExpiration() {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("etag", "\"2\"");
        metadata.put("unicode-é✓😀", "值\u0001\n\t");
        metadata.put("", "");
        Instant later = clock.instant().plus(Duration.ofHours(2));
        store.put("/k", bytes(1, 5000), new PutOptions(clock.instant().plusSeconds(60), Map.of("a", "1", "b", "2")));

        assertThat(store.replaceMetadata("/k", new PutOptions(later, metadata))).isTrue();

        KvEntry entry = store.get("/k");
        assertThat(entry.value()).isEqualTo(bytes(1, 5000));
        assertThat(entry.metadata()).isEqualTo(metadata); // replaced, not merged
        assertThat(entry.expiration()).isEqualTo(later);
        clock.advance(Duration.ofMinutes(5));
        assertThat(store.get("/k")).as("the old expiration no longer applies").isNotNull();
        clock.advance(Duration.ofHours(2));
        assertThat(store.get("/k")).as("the new one does").isNull();
    }

    @Test
    void replaceMetadata_emptyValue_staysEmpty() {
        store.put("/empty", new byte[0], PutOptions.metadata(Map.of("a", "1")));

        assertThat(store.replaceMetadata("/empty", PutOptions.metadata(Map.of("a", "2"))))
                .isTrue();

        KvEntry entry = store.get("/empty");
        assertThat(entry.value()).isEmpty();
        assertThat(entry.metadata()).isEqualTo(Map.of("a", "2"));
    }

    @Test
    void replaceMetadata_withoutExpiration_removesOldExpiration() {
        store.put("/k", bytes(1, 10), new PutOptions(clock.instant().plusSeconds(10), Map.of("a", "1")));

        store.replaceMetadata("/k", PutOptions.NONE);
        clock.advance(Duration.ofDays(365));

        KvEntry entry = store.get("/k");
        assertThat(entry).isNotNull();
        assertThat(entry.metadata()).isEmpty();
        assertThat(entry.expiration()).isNull();
        assertThat(entry.value()).isEqualTo(bytes(1, 10));
    }

    @Test
    void replaceMetadata_missingKey_returnsFalseAndWritesNothing() {
        assertThat(store.replaceMetadata("/none", PutOptions.metadata(Map.of("a", "1"))))
                .isFalse();

        assertThat(store.get("/none")).isNull();
        assertThat(store.list("", null, 10).keys()).isEmpty();
    }

    @Test
    void replaceMetadata_deletedKey_returnsFalseAndWritesNothing() {
        store.put("/d", bytes(1, 10), PutOptions.NONE);
        store.delete("/d");

        assertThat(store.replaceMetadata("/d", PutOptions.metadata(Map.of("a", "1"))))
                .isFalse();

        assertThat(store.get("/d")).isNull();
        assertThat(store.list("", null, 10).keys()).isEmpty();
    }

    @Test
    void replaceMetadata_expiredKey_returnsFalseAndDoesNotRevive() {
        store.put("/e", bytes(1, 10), new PutOptions(clock.instant().plusSeconds(1), Map.of("a", "1")));
        clock.advance(Duration.ofSeconds(2));

        assertThat(store.replaceMetadata("/e", new PutOptions(clock.instant().plusSeconds(60), Map.of("a", "2"))))
                .isFalse();

        assertThat(store.get("/e")).isNull();
        assertThat(store.list("", null, 10).keys()).isEmpty();
        assertThat(store.delete("/e")).as("nothing live was written").isFalse();
    }

    @Test
    void replaceMetadata_expirationAlreadyPassed_entryIsGone() {
        store.put("/k", bytes(1, 10), PutOptions.NONE);

        assertThat(store.replaceMetadata(
                        "/k", PutOptions.NONE.withExpiration(clock.instant().minusSeconds(1))))
                .isTrue();

        assertThat(store.get("/k")).isNull();
        assertThat(store.list("", null, 10).keys()).isEmpty();
    }

    @Test
    void replaceMetadata_listedKey_carriesNewMetadataAndExpirationAndTheSameSize() {
        Instant at = clock.instant().plus(Duration.ofMinutes(3));
        store.put("/l/1", bytes(3, 1234), PutOptions.metadata(Map.of("etag", "\"x\"")));
        store.put("/l/2", bytes(4, 10), PutOptions.metadata(Map.of("etag", "\"y\"")));

        store.replaceMetadata("/l/1", new PutOptions(at, Map.of("etag", "\"x\"", "r", "2")));

        assertThat(store.list("/l/", null, 10).keys())
                .containsExactly(
                        new ListedKey("/l/1", Map.of("etag", "\"x\"", "r", "2"), at, 1234),
                        new ListedKey("/l/2", Map.of("etag", "\"y\""), null, 10));
    }

    @Test
    void replaceMetadata_thenPut_putReplacesEverything() {
        store.put("/k", bytes(1, 10), PutOptions.NONE);
        store.replaceMetadata("/k", new PutOptions(clock.instant().plusSeconds(5), Map.of("a", "1")));

        store.put("/k", bytes(2, 20), PutOptions.metadata(Map.of("b", "2")));
        clock.advance(Duration.ofSeconds(10));

        KvEntry entry = store.get("/k");
        assertThat(entry.value()).isEqualTo(bytes(2, 20));
        assertThat(entry.metadata()).isEqualTo(Map.of("b", "2"));
        assertThat(entry.expiration()).isNull();
    }

    @Test
    @Timeout(60)
    void replaceMetadata_withConcurrentReaders_neverShowsAPartialMapOrAnotherValue() throws Exception {
        List<String> keys = List.of("/r/a", "/r/b");
        Instant base = clock.instant().plus(Duration.ofDays(1));
        for (int i = 0; i < keys.size(); i++) {
            store.put(keys.get(i), bytes(i, 3000 + i), metadataVersion(0, base));
        }
        ExecutorService pool = Executors.newFixedThreadPool(5);
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicBoolean writing = new AtomicBoolean(true);
        CountDownLatch start = new CountDownLatch(1);
        try {
            Future<?> writes = pool.submit(() -> {
                await(start);
                for (int n = 1; n <= 400; n++) {
                    if (!store.replaceMetadata(keys.get(n % keys.size()), metadataVersion(n, base))) {
                        failures.add("replaceMetadata of a live key returned false at " + n);
                    }
                }
                return null;
            });
            List<Future<?>> reads = new ArrayList<>();
            for (int r = 0; r < 4; r++) {
                int reader = r;
                reads.add(pool.submit(() -> {
                    await(start);
                    int n = 0;
                    while (writing.get() || n < 10) {
                        n++;
                        if (reader % 2 == 0) {
                            int i = n % keys.size();
                            KvEntry entry = store.get(keys.get(i));
                            if (entry == null) {
                                failures.add("get missed " + keys.get(i));
                            } else {
                                String wrong = versionMismatch(entry.metadata(), entry.expiration(), base);
                                if (wrong != null) {
                                    failures.add("get: " + wrong);
                                }
                                if (!Arrays.equals(entry.value(), bytes(i, 3000 + i))) {
                                    failures.add("get saw another value under " + keys.get(i));
                                }
                            }
                        } else {
                            List<ListedKey> listed = store.list("/r/", null, 10).keys();
                            if (listed.size() != keys.size()) {
                                failures.add("list saw "
                                        + listed.stream().map(ListedKey::name).toList());
                            }
                            for (ListedKey k : listed) {
                                String wrong = versionMismatch(k.metadata(), k.expiration(), base);
                                if (wrong != null) {
                                    failures.add("list: " + wrong);
                                }
                            }
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            writes.get(50, TimeUnit.SECONDS);
            writing.set(false);
            for (Future<?> f : reads) {
                f.get(50, TimeUnit.SECONDS);
            }
        } finally {
            writing.set(false);
            pool.shutdownNow();
        }

        assertThat(failures).isEmpty();
        assertThat(store.get("/r/a").metadata())
                .isEqualTo(metadataVersion(400, base).metadata());
        assertThat(store.get("/r/b").metadata())
                .isEqualTo(metadataVersion(399, base).metadata());
    }

    @Test
    void reopen_afterReplaceMetadata_keepsTheNewMetadataAndTheValue() {
        Instant at = clock.instant().plus(Duration.ofHours(1));
        store.put("/r/k", bytes(5, 70_000), PutOptions.metadata(Map.of("v", "1")));
        store.replaceMetadata("/r/k", new PutOptions(at, Map.of("v", "2")));
        store.close();

        KvStore again = reopen(store, clock);
        assumeTrue(again != null, "store keeps nothing across close");
        store = again;

        KvEntry entry = store.get("/r/k");
        assertThat(entry.value()).isEqualTo(bytes(5, 70_000));
        assertThat(entry.metadata()).isEqualTo(Map.of("v", "2"));
        assertThat(entry.expiration()).isEqualTo(at);
    }

    // --- delete --------------------------------------------------------------------------------

    @Test
    void delete_existingKey_returnsTrueAndRemovesIt() {
        store.put("/d", bytes(1, 10), PutOptions.NONE);

        assertThat(store.delete("/d")).isTrue();
        assertThat(store.get("/d")).isNull();
        assertThat(names(store.list("/", null, 10))).doesNotContain("/d");
    }

    @Test
    void delete_missingKey_returnsFalse() {
        assertThat(store.delete("/never")).isFalse();
    }

    @Test
    void delete_twice_returnsFalseTheSecondTime() {
        store.put("/d", bytes(1, 10), PutOptions.NONE);
        store.delete("/d");

        assertThat(store.delete("/d")).isFalse();
    }

    @Test
    void delete_expiredKey_returnsFalse() {
        store.put(
                "/d",
                bytes(1, 10),
                PutOptions.NONE.withExpiration(clock.instant().plusSeconds(1)));
        clock.advance(Duration.ofSeconds(2));

        assertThat(store.delete("/d")).isFalse();
    }

    // --- expiration ----------------------------------------------------------------------------

    @Test
    void get_justBeforeExpiration_returnsEntryWithItsExpiration() {
        Instant at = clock.instant().plusSeconds(30);
        store.put("/e", bytes(1, 10), PutOptions.NONE.withExpiration(at));
        clock.advance(Duration.ofSeconds(30).minusMillis(1));

        KvEntry entry = store.get("/e");
        assertThat(entry).isNotNull();
        assertThat(entry.expiration()).isEqualTo(at);
        assertThat(names(store.list("", null, 10))).containsExactly("/e");
    }

    @Test
    void get_afterExpiration_returnsNull() {
        store.put(
                "/e",
                bytes(1, 10),
                PutOptions.NONE.withExpiration(clock.instant().plusSeconds(30)));
        clock.advance(Duration.ofSeconds(30).plusMillis(1));

        assertThat(store.get("/e")).isNull();
    }

    @Test
    void list_afterExpiration_omitsKey() {
        store.put(
                "/e/1",
                bytes(1, 10),
                PutOptions.NONE.withExpiration(clock.instant().plusSeconds(30)));
        store.put("/e/2", bytes(1, 10), PutOptions.NONE);
        clock.advance(Duration.ofSeconds(31));

        assertThat(names(store.list("/e/", null, 10))).containsExactly("/e/2");
    }

    @Test
    void put_expirationAlreadyPassed_isNeverReturned() {
        store.put(
                "/past",
                bytes(1, 10),
                PutOptions.NONE.withExpiration(clock.instant().minusSeconds(1)));

        assertThat(store.get("/past")).isNull();
        assertThat(store.list("", null, 10).keys()).isEmpty();
    }

    @Test
    void put_overExpiredEntry_storesNewEntry() {
        store.put(
                "/k",
                bytes(1, 10),
                PutOptions.NONE.withExpiration(clock.instant().plusSeconds(1)));
        clock.advance(Duration.ofSeconds(5));
        store.put("/k", bytes(2, 10), PutOptions.NONE);

        assertThat(store.get("/k").value()).isEqualTo(bytes(2, 10));
    }

    // --- list ----------------------------------------------------------------------------------

    @Test
    void list_emptyStore_returnsCompleteEmptyPage() {
        ListPage page = store.list("", null, 10);

        assertThat(page.keys()).isEmpty();
        assertThat(page.complete()).isTrue();
        assertThat(page.cursor()).isNull();
    }

    @Test
    void list_keysPutInRandomOrder_returnsAscendingOrder() {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            keys.add("/p/" + Integer.toString(i * 7919 % 1000, 36));
        }
        List<String> shuffled = new ArrayList<>(keys);
        Collections.shuffle(shuffled, new Random(42));
        shuffled.forEach(k -> store.put(k, new byte[] {1}, PutOptions.NONE));

        assertThat(names(store.list("/p/", null, 1000))).containsExactlyElementsOf(sortedUtf8(keys));
    }

    @Test
    void list_keysAboveBasicPlane_areInUtf8ByteOrder() {
        // UTF-16 order puts U+1F600 (a surrogate pair) before U+FFFD and U+E000; UTF-8 puts it after.
        List<String> keys = List.of("/u/\uD83D\uDE00", "/u/\uFFFD", "/u/\uE000", "/u/z", "/u/é");
        keys.forEach(k -> store.put(k, new byte[] {1}, PutOptions.NONE));

        assertThat(names(store.list("/u/", null, 10)))
                .containsExactly("/u/z", "/u/é", "/u/\uE000", "/u/\uFFFD", "/u/\uD83D\uDE00");
    }

    @Test
    void list_prefix_returnsOnlyKeysStartingWithIt() {
        List<String> keys = List.of("/a", "/ab", "/abc", "/abd", "/ab/x", "/abz", "/b", "/aa", "/");
        keys.forEach(k -> store.put(k, new byte[] {1}, PutOptions.NONE));

        assertThat(names(store.list("/ab", null, 100))).containsExactly("/ab", "/ab/x", "/abc", "/abd", "/abz");
        assertThat(names(store.list("/abc", null, 100))).containsExactly("/abc");
        assertThat(names(store.list("/a", null, 100)))
                .containsExactly("/a", "/aa", "/ab", "/ab/x", "/abc", "/abd", "/abz");
        assertThat(names(store.list("/c", null, 100))).isEmpty();
        assertThat(names(store.list("", null, 100))).containsExactlyElementsOf(sortedUtf8(keys));
    }

    @Test
    void list_prefixWithSqlWildcards_matchesThemLiterally() {
        List<String> keys = List.of("/a%", "/a%b", "/a_c", "/aXc", "/aXb", "/a\\", "/a\\b", "/a*", "/a?", "/a[");
        keys.forEach(k -> store.put(k, new byte[] {1}, PutOptions.NONE));

        assertThat(names(store.list("/a%", null, 100))).containsExactly("/a%", "/a%b");
        assertThat(names(store.list("/a_", null, 100))).containsExactly("/a_c");
        assertThat(names(store.list("/a\\", null, 100))).containsExactly("/a\\", "/a\\b");
        assertThat(names(store.list("/a*", null, 100))).containsExactly("/a*");
        assertThat(names(store.list("/a[", null, 100))).containsExactly("/a[");
    }

    @Test
    void list_prefixDifferingInCase_doesNotMatch() {
        store.put("/About", new byte[] {1}, PutOptions.NONE);
        store.put("/about", new byte[] {1}, PutOptions.NONE);

        assertThat(names(store.list("/a", null, 100))).containsExactly("/about");
        assertThat(names(store.list("/A", null, 100))).containsExactly("/About");
    }

    @Test
    void list_unicodePrefix_returnsOnlyKeysStartingWithIt() {
        List<String> keys = List.of("/é", "/éa", "/é/x", "/ê", "/e", "/😀", "/😀/a", "/😁");
        keys.forEach(k -> store.put(k, new byte[] {1}, PutOptions.NONE));

        assertThat(names(store.list("/é", null, 100))).containsExactly("/é", "/é/x", "/éa");
        assertThat(names(store.list("/😀", null, 100))).containsExactly("/😀", "/😀/a");
    }

    @Test
    void list_prefixEndingBelowSurrogateRange_excludesNextCodePoint() {
        // The code point after U+D7FF is U+E000; a prefix range must not stop in between.
        store.put("x\uD7FF", new byte[] {1}, PutOptions.NONE);
        store.put("x\uD7FFa", new byte[] {1}, PutOptions.NONE);
        store.put("x\uE000", new byte[] {1}, PutOptions.NONE);

        assertThat(names(store.list("x\uD7FF", null, 100))).containsExactly("x\uD7FF", "x\uD7FFa");
    }

    @Test
    void list_prefixEndingInLastCodePoint_includesAllItsKeys() {
        String max = new String(Character.toChars(Character.MAX_CODE_POINT));
        store.put("x" + max, new byte[] {1}, PutOptions.NONE);
        store.put("x" + max + "a", new byte[] {1}, PutOptions.NONE);
        store.put("y", new byte[] {1}, PutOptions.NONE);

        assertThat(names(store.list("x" + max, null, 100))).containsExactly("x" + max, "x" + max + "a");
    }

    @Test
    void list_250KeysWithLimit100_returnsEveryKeyOnceInOrder() {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 250; i++) {
            keys.add(String.format("/page/%04d", i));
        }
        List<String> shuffled = new ArrayList<>(keys);
        Collections.shuffle(shuffled, new Random(7));
        shuffled.forEach(k -> store.put(k, new byte[] {1}, PutOptions.NONE));
        store.put("/other", new byte[] {1}, PutOptions.NONE);

        List<ListPage> pages = listAll("/page/", 100);

        List<String> seen = pages.stream()
                .flatMap(p -> p.keys().stream())
                .map(ListedKey::name)
                .toList();
        assertThat(seen).containsExactlyElementsOf(keys);
        assertThat(pages).allSatisfy(p -> assertThat(p.keys()).hasSizeLessThanOrEqualTo(100));
        for (int i = 0; i < pages.size() - 1; i++) {
            assertThat(pages.get(i).complete()).isFalse();
            assertThat(pages.get(i).cursor()).isNotNull();
        }
        ListPage last = pages.get(pages.size() - 1);
        assertThat(last.complete()).isTrue();
        assertThat(last.cursor()).isNull();
    }

    @Test
    void list_exactMultipleOfLimit_endsWithCompletePage() {
        for (int i = 0; i < 20; i++) {
            store.put(String.format("/m/%02d", i), new byte[] {1}, PutOptions.NONE);
        }

        List<ListPage> pages = listAll("/m/", 10);

        assertThat(pages.stream().mapToInt(p -> p.keys().size()).sum()).isEqualTo(20);
        // A store may or may not know that the second page was the last; a third must be empty.
        assertThat(pages).hasSizeBetween(2, 3);
    }

    @Test
    void list_limitOne_walksKeysOneByOne() {
        List<String> keys = List.of("/w/a", "/w/b", "/w/c");
        keys.forEach(k -> store.put(k, new byte[] {1}, PutOptions.NONE));

        List<String> seen = listAll("/w/", 1).stream()
                .flatMap(p -> p.keys().stream())
                .map(ListedKey::name)
                .toList();

        assertThat(seen).containsExactlyElementsOf(keys);
    }

    @Test
    void list_expiredKeysAmongPages_areSkipped() {
        for (int i = 0; i < 30; i++) {
            Instant expiration = i % 3 == 0 ? clock.instant().plusSeconds(10) : null;
            store.put(String.format("/x/%02d", i), new byte[] {1}, PutOptions.NONE.withExpiration(expiration));
        }
        clock.advance(Duration.ofSeconds(11));

        List<String> seen = listAll("/x/", 4).stream()
                .flatMap(p -> p.keys().stream())
                .map(ListedKey::name)
                .toList();

        assertThat(seen).hasSize(20).doesNotHaveDuplicates().isSortedAccordingTo(Comparator.naturalOrder());
        assertThat(seen).noneMatch(k -> Integer.parseInt(k.substring(3)) % 3 == 0);
    }

    @Test
    void list_keysAddedBehindCursor_areNotRepeated() {
        for (int i = 0; i < 10; i++) {
            store.put(String.format("/c/%02d", i * 2), new byte[] {1}, PutOptions.NONE);
        }
        ListPage first = store.list("/c/", null, 5);
        store.put("/c/01", new byte[] {1}, PutOptions.NONE); // before the cursor
        store.put("/c/19", new byte[] {1}, PutOptions.NONE); // after it

        List<String> rest = new ArrayList<>();
        String cursor = first.cursor();
        while (cursor != null) {
            ListPage page = store.list("/c/", cursor, 5);
            rest.addAll(names(page));
            cursor = page.cursor();
        }

        assertThat(names(first)).containsExactly("/c/00", "/c/02", "/c/04", "/c/06", "/c/08");
        assertThat(rest).containsExactly("/c/10", "/c/12", "/c/14", "/c/16", "/c/18", "/c/19");
    }

    @Test
    void list_listedKey_carriesMetadataExpirationAndValueSize() {
        Instant at = clock.instant().plus(Duration.ofMinutes(3));
        store.put("/l/1", bytes(3, 1234), new PutOptions(at, Map.of("tags", "a b", "etag", "\"x\"")));
        store.put("/l/2", new byte[0], PutOptions.NONE);

        List<ListedKey> keys = store.list("/l/", null, 10).keys();

        assertThat(keys)
                .containsExactly(
                        new ListedKey("/l/1", Map.of("tags", "a b", "etag", "\"x\""), at, 1234),
                        new ListedKey("/l/2", Map.of(), null, 0));
    }

    @Test
    void list_zeroLimit_throwsIllegalArgument() {
        assertThatThrownBy(() -> store.list("", null, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    // --- concurrency ---------------------------------------------------------------------------

    @Test
    @Timeout(60)
    void putAndGet_fromManyThreads_neverShowMixedValueAndMetadata() throws Exception {
        int writers = 4;
        int readers = 4;
        int putsPerWriter = 250;
        List<String> keys = List.of("/c/a", "/c/b", "/c/c");
        ExecutorService pool = Executors.newFixedThreadPool(writers + readers);
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicBoolean writing = new AtomicBoolean(true);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<?>> writes = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                int writer = w;
                writes.add(pool.submit(() -> {
                    await(start);
                    for (int n = 0; n < putsPerWriter; n++) {
                        int v = writer * 100_000 + n;
                        String key = keys.get((writer + n) % keys.size());
                        store.put(key, versionValue(v), PutOptions.metadata(Map.of("v", Integer.toString(v))));
                    }
                    return null;
                }));
            }
            List<Future<?>> reads = new ArrayList<>();
            for (int r = 0; r < readers; r++) {
                int reader = r;
                reads.add(pool.submit(() -> {
                    await(start);
                    int n = 0;
                    while (writing.get() || n < 10) {
                        n++;
                        if (reader % 2 == 0) {
                            KvEntry entry = store.get(keys.get(n % keys.size()));
                            if (entry != null
                                    && !Arrays.equals(entry.value(), versionValue(version(entry.metadata())))) {
                                failures.add("get saw metadata " + entry.metadata() + " with another value");
                            }
                        } else {
                            for (ListedKey k : store.list("/c/", null, 10).keys()) {
                                if (k.size() != versionValue(version(k.metadata())).length) {
                                    failures.add("list saw metadata " + k.metadata() + " with size " + k.size());
                                }
                            }
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : writes) {
                f.get(50, TimeUnit.SECONDS);
            }
            writing.set(false);
            for (Future<?> f : reads) {
                f.get(50, TimeUnit.SECONDS);
            }
        } finally {
            writing.set(false);
            pool.shutdownNow();
        }

        assertThat(failures).isEmpty();
        for (String key : keys) {
            KvEntry entry = store.get(key);
            assertThat(entry.value()).isEqualTo(versionValue(version(entry.metadata())));
        }
    }

    // --- lifecycle -----------------------------------------------------------------------------

    @Test
    void close_calledTwice_doesNotThrow() {
        store.put("/k", new byte[] {1}, PutOptions.NONE);
        store.close();
        store.close();
    }

    @Test
    void reopen_afterClose_keepsValuesMetadataAndExpirations() {
        Instant at = clock.instant().plus(Duration.ofHours(1));
        byte[] big = bytes(11, 300_000);
        store.put("/r/bin", allBytes(), PutOptions.metadata(Map.of("k", "v=1&2%")));
        store.put("/r/big", big.clone(), new PutOptions(at, Map.of("len", "300000")));
        store.put("/r/empty", new byte[0], PutOptions.NONE);
        store.put("/r/gone", bytes(1, 10), PutOptions.NONE);
        store.put("/r/over", bytes(1, 10), PutOptions.NONE);
        store.put("/r/over", bytes(2, 20), PutOptions.metadata(Map.of("second", "yes")));
        store.delete("/r/gone");
        store.close();

        KvStore again = reopen(store, clock);
        assumeTrue(again != null, "store keeps nothing across close");
        store = again;

        assertThat(store.get("/r/bin").value()).isEqualTo(allBytes());
        assertThat(store.get("/r/bin").metadata()).isEqualTo(Map.of("k", "v=1&2%"));
        assertThat(store.get("/r/big").value()).isEqualTo(big);
        assertThat(store.get("/r/big").expiration()).isEqualTo(at);
        assertThat(store.get("/r/empty").value()).isEmpty();
        assertThat(store.get("/r/gone")).isNull();
        assertThat(store.get("/r/over").value()).isEqualTo(bytes(2, 20));
        assertThat(store.get("/r/over").metadata()).isEqualTo(Map.of("second", "yes"));
        assertThat(names(store.list("/r/", null, 10))).containsExactly("/r/big", "/r/bin", "/r/empty", "/r/over");

        clock.advance(Duration.ofHours(2));
        assertThat(store.get("/r/big")).isNull();
        assertThat(names(store.list("/r/", null, 10))).containsExactly("/r/bin", "/r/empty", "/r/over");
    }

    @Test
    void reopen_afterClose_acceptsWritesAndDeletes() {
        store.put("/r/a", bytes(1, 10), PutOptions.NONE);
        store.close();
        KvStore again = reopen(store, clock);
        assumeTrue(again != null, "store keeps nothing across close");
        store = again;

        assertThat(store.delete("/r/a")).isTrue();
        store.put("/r/b", bytes(2, 10), PutOptions.NONE);

        assertThat(names(store.list("/r/", null, 10))).containsExactly("/r/b");
    }

    // --- helpers -------------------------------------------------------------------------------

    /** Every page of a listing, following cursors; fails on a listing that does not end. */
    protected List<ListPage> listAll(String prefix, int limit) {
        List<ListPage> pages = new ArrayList<>();
        String cursor = null;
        do {
            ListPage page = store.list(prefix, cursor, limit);
            pages.add(page);
            cursor = page.cursor();
            assertThat(pages).as("listing of %s does not end", prefix).hasSizeLessThan(10_000);
        } while (cursor != null);
        return pages;
    }

    protected static List<String> names(ListPage page) {
        return page.keys().stream().map(ListedKey::name).collect(Collectors.toList());
    }

    protected static List<String> sortedUtf8(List<String> keys) {
        List<String> sorted = new ArrayList<>(new HashSet<>(keys));
        sorted.sort((a, b) ->
                Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8)));
        return sorted;
    }

    /** {@code length} bytes derived from {@code seed}, so a value can be checked without keeping it. */
    protected static byte[] bytes(int seed, int length) {
        byte[] b = new byte[length];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] allBytes() {
        byte[] b = new byte[256];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) i;
        }
        return b;
    }

    /** The value written for version {@code v}: its length and content both depend on v. */
    private static byte[] versionValue(int v) {
        return bytes(v, 1 + Math.floorMod(v * 37, 8192));
    }

    private static int version(Map<String, String> metadata) {
        return Integer.parseInt(metadata.get("v"));
    }

    /** Options of version {@code n}: several pairs that must all say {@code n}, and an expiration that does too. */
    private static PutOptions metadataVersion(int n, Instant base) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < 8; i++) {
            m.put("k" + i, Integer.toString(n));
        }
        return new PutOptions(base.plusMillis(n), m);
    }

    /** What is wrong with metadata and expiration read back, or null when they are one version's. */
    private static String versionMismatch(Map<String, String> metadata, Instant expiration, Instant base) {
        String v = metadata.get("k0");
        if (v == null || metadata.size() != 8 || !metadata.values().stream().allMatch(v::equals)) {
            return "a partial map " + metadata;
        }
        if (!base.plusMillis(Integer.parseInt(v)).equals(expiration)) {
            return "metadata of version " + v + " with expiration " + expiration;
        }
        return null;
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
