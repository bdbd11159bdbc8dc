package dev.regen.store.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.regen.store.ListPage;
import dev.regen.store.ListedKey;
import dev.regen.store.PutOptions;
import dev.regen.store.StoreException;
import dev.regen.store.StoreHealth;
import dev.regen.testing.FakeClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The size budget: least recently read entries make room, owned entries go with their owner. */
class EmbeddedStoreBudgetTest {

    private static final long BUDGET = 2 << 20;
    private static final byte[] PAGE = new byte[20_000];

    @TempDir
    Path dir;

    private final FakeClock clock = new FakeClock();

    @Test
    void put_manyDistinctPagesIntoASmallBudget_neverFailsAndStaysUnderIt() throws Exception {
        try (EmbeddedStore store = open(BUDGET)) {
            long largest = 0;
            for (int i = 0; i < 1000; i++) { // ten times the budget
                store.put("/p/" + i, PAGE, PutOptions.NONE);
                largest = Math.max(largest, filesSize());
            }

            assertThat(largest).isLessThanOrEqualTo(BUDGET);
            assertThat(store.get("/p/999").value()).hasSize(PAGE.length);
            assertThat(store.get("/p/0")).isNull();
            assertThat(keys(store, "/p/")).hasSizeBetween(40, 100);
            assertThat(store.health()).isEqualTo(StoreHealth.UP);
        }
    }

    @Test
    void evict_pagesReadSinceTheyWereStored_surviveThoseNotRead() {
        try (EmbeddedStore store = open(BUDGET)) {
            for (int i = 0; i < 50; i++) {
                store.put("/old/" + i, PAGE, PutOptions.NONE);
            }
            for (int i = 0; i < 10; i++) {
                assertThat(store.get("/old/" + i)).isNotNull();
            }

            for (int i = 0; i < 40; i++) { // past the budget: some of the old pages must go
                store.put("/new/" + i, PAGE, PutOptions.NONE);
            }
            store.keepBudget();

            List<String> old = keys(store, "/old/");
            assertThat(old).hasSizeLessThan(50).contains("/old/0", "/old/5", "/old/9");
            assertThat(keys(store, "/new/")).hasSize(40);
        }
    }

    @Test
    void evict_pageWithOwnedIndexEntries_dropsThemTogetherAndNeverAlone() {
        try (EmbeddedStore store = open(BUDGET)) {
            for (int i = 0; i < 300; i++) {
                String page = "page:/p/" + i;
                store.put(page, PAGE, PutOptions.NONE);
                store.put("tag:all " + page, new byte[0], PutOptions.NONE.withOwner(page));
                store.put("tag:p" + (i % 7) + " " + page, new byte[0], PutOptions.NONE.withOwner(page));
            }
            store.keepBudget();

            List<String> pages = keys(store, "page:");
            List<String> tagged = keys(store, "tag:all ");
            assertThat(pages).hasSizeBetween(40, 100);
            // every index entry names a stored page, and every stored page is indexed
            assertThat(tagged).hasSameSizeAs(pages);
            for (String entry : tagged) {
                assertThat(store.get(entry.substring("tag:all ".length())))
                        .as(entry)
                        .isNotNull();
            }
            for (String page : pages) {
                assertThat(store.get("tag:all " + page)).as(page).isNotNull();
            }
        }
    }

    @Test
    void put_valueTooLargeForTheBudget_isRefusedWithoutDegradingTheStore() {
        try (EmbeddedStore store = open(BUDGET)) {
            assertThatThrownBy(() -> store.put("/huge", new byte[1 << 20], PutOptions.NONE))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("too large for the store's max size of 2.0 MiB");
            store.put("/small", PAGE, PutOptions.NONE);

            assertThat(store.health()).isEqualTo(StoreHealth.UP);
            assertThat(store.get("/small")).isNotNull();
        }
    }

    @Test
    void open_withASmallerBudgetThanTheFile_shrinksTheFileUnderIt() throws Exception {
        try (EmbeddedStore store = open(8 << 20)) {
            for (int i = 0; i < 300; i++) {
                store.put("/p/" + i, PAGE, PutOptions.NONE);
            }
        }
        assertThat(filesSize()).isGreaterThan(4 << 20);

        try (EmbeddedStore store = open(BUDGET)) {
            store.keepBudget();

            assertThat(filesSize()).isLessThanOrEqualTo(BUDGET);
            assertThat(store.get("/p/299")).isNotNull();
            store.put("/p/300", PAGE, PutOptions.NONE);
            assertThat(store.health()).isEqualTo(StoreHealth.UP);
        }
    }

    private EmbeddedStore open(long maxBytes) {
        // the background round is left to the test (keepBudget), except when a put passes the high-water mark
        return EmbeddedStore.open(
                dir,
                clock,
                EmbeddedStore.Settings.DEFAULTS.withMaxBytes(maxBytes).withMaintenanceInterval(Duration.ofHours(1)));
    }

    private long filesSize() throws IOException {
        long size = Files.size(dir.resolve("regen.db"));
        Path wal = dir.resolve("regen.db-wal");
        return size + (Files.exists(wal) ? Files.size(wal) : 0);
    }

    private static List<String> keys(EmbeddedStore store, String prefix) {
        List<String> keys = new ArrayList<>();
        String cursor = null;
        do {
            ListPage page = store.list(prefix, cursor, 500);
            page.keys().stream().map(ListedKey::name).forEach(keys::add);
            cursor = page.cursor();
        } while (cursor != null);
        return keys;
    }
}
