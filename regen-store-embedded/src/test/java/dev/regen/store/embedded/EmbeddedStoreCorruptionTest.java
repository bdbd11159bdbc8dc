package dev.regen.store.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import dev.regen.store.KvEntry;
import dev.regen.store.PutOptions;
import dev.regen.store.StoreException;
import dev.regen.store.StoreHealth;
import dev.regen.testing.FakeClock;
import dev.regen.testing.LogCapture;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checksums on read: a damaged value is a miss, logged once, removed; StoreCheck finds them all. */
class EmbeddedStoreCorruptionTest {

    @TempDir
    Path dir;

    private final FakeClock clock = new FakeClock();

    @Test
    void get_valueChangedOnDisk_isAMissLoggedOnceAndRemoved() throws Exception {
        Map<String, byte[]> pages = fill(20, 5_000);
        changeValue("/p/7", 4_999);

        try (EmbeddedStore store = open();
                LogCapture logs = new LogCapture(EmbeddedStore.class)) {
            assertThat(store.get("/p/7")).isNull();
            assertThat(store.get("/p/7")).isNull(); // read again before the background round removed it
            store.removeCorrupt();

            assertThat(logs.lines("the entry /p/7 is corrupt")).hasSize(1);
            assertThat(logs.lines("/p/7").get(0)).contains("does not match its checksum");
            assertThat(store.list("/p/7", null, 10).keys()).isEmpty();
            assertThat(store.get("/p/8").value()).isEqualTo(pages.get("/p/8"));
            assertThat(store.health().state()).isEqualTo(StoreHealth.State.DEGRADED);
            assertThat(store.health().reason())
                    .contains("1 corrupt entry found")
                    .contains("regen store check");

            clock.advance(Corruption.RECENT);
            assertThat(store.health()).isEqualTo(StoreHealth.UP);
        }
    }

    @Test
    void get_afterABlockOverwrittenInTheMiddleOfTheFile_neverReturnsADamagedValue() throws Exception {
        Map<String, byte[]> pages = fill(300, 20_000);
        overwriteMiddle(1, 64 * 1024); // whole pages: SQLite itself finds most of it

        assertEveryReadIsIntactOrAMiss(pages);
    }

    @Test
    void get_afterBytesOverwrittenInsidePagesInTheMiddleOfTheFile_neverReturnsADamagedValue() throws Exception {
        Map<String, byte[]> pages = fill(300, 20_000);
        overwriteMiddle(16, 100); // inside page contents, as bit rot would: only the checksums tell

        assertEveryReadIsIntactOrAMiss(pages);
    }

    private void assertEveryReadIsIntactOrAMiss(Map<String, byte[]> pages) {
        int intact = 0;
        int misses = 0;
        try (EmbeddedStore store = open()) {
            for (Map.Entry<String, byte[]> page : pages.entrySet()) {
                KvEntry entry;
                try {
                    entry = store.get(page.getKey());
                } catch (StoreException e) {
                    entry = null; // the engine's view of a fault: a miss
                }
                if (entry == null) {
                    misses++;
                } else {
                    assertThat(entry.value()).as(page.getKey()).isEqualTo(page.getValue());
                    intact++;
                }
            }
        }
        assertThat(misses).as("damaged entries found").isPositive();
        assertThat(intact).as("the rest is served").isGreaterThan(250);
    }

    /** Writes {@code length} random bytes at 1000 bytes into each of {@code pages} 4 KiB pages from the middle on. */
    private void overwriteMiddle(int pages, int length) throws Exception {
        Random random = new Random(7);
        try (RandomAccessFile raf =
                new RandomAccessFile(dir.resolve(EmbeddedStore.FILE_NAME).toFile(), "rw")) {
            long middle = raf.length() / 2 / 4096 * 4096;
            for (int i = 0; i < pages; i++) {
                byte[] garbage = new byte[length];
                random.nextBytes(garbage);
                raf.seek(middle + i * 4096L * 3 + (length < 4096 ? 1000 : 0));
                raf.write(garbage);
            }
        }
    }

    @Test
    void check_cleanStore_findsNothingAndCountsEveryEntry() throws Exception {
        fill(50, 3_000);

        StoreCheck.Report report = StoreCheck.run(dir);

        assertThat(report.ok()).as(report.problems().toString()).isTrue();
        assertThat(report.entries()).isEqualTo(50);
        assertThat(report.bytes()).isEqualTo(50 * 3_000);
    }

    @Test
    void check_afterBytesOverwrittenInTheMiddleOfTheFile_reportsTheDamage() throws Exception {
        fill(300, 20_000);
        overwriteMiddle(16, 100);

        StoreCheck.Report report = StoreCheck.run(dir);

        assertThat(report.ok()).isFalse();
        assertThat(report.corrupt() + report.unreadable() + (report.integrityOk() ? 0 : 1))
                .isPositive();
        assertThat(report.problems()).isNotEmpty();
    }

    @Test
    void check_oneValueChanged_namesThatEntry() throws Exception {
        fill(20, 5_000);
        changeValue("/p/3", 100);

        StoreCheck.Report report = StoreCheck.run(dir);

        assertThat(report.integrityOk()).isTrue(); // SQLite's pages are fine: only the checksum tells
        assertThat(report.corrupt()).isEqualTo(1);
        assertThat(report.problems()).containsExactly("entry /p/3: a value that does not match its checksum");
    }

    @Test
    void get_metadataChangedOnDisk_isAMissAndTheCheckNamesIt() throws Exception {
        try (EmbeddedStore store = open()) {
            store.put("/m", new byte[] {1, 2, 3}, PutOptions.metadata(java.util.Map.of("h", "Content-Type:text/html")));
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(EmbeddedStore.FILE_NAME));
                Statement s = c.createStatement()) {
            // still well-formed metadata, with another content type: only the checksum tells
            s.execute("UPDATE entries SET metadata = CAST(replace(CAST(metadata AS TEXT), 'html', 'json') AS BLOB)"
                    + " WHERE key = '/m'");
        }

        try (EmbeddedStore store = open()) {
            assertThat(store.get("/m")).isNull();
        }
        assertThat(StoreCheck.run(dir).problems())
                .containsExactly("entry /m: metadata that does not match its checksum");
    }

    private EmbeddedStore open() {
        return EmbeddedStore.open(
                dir,
                clock,
                EmbeddedStore.Settings.DEFAULTS.withMaxBytes(1L << 30).withMaintenanceInterval(Duration.ofHours(1)));
    }

    /** Puts {@code n} pages of random bytes, closes the store (its WAL checkpointed into the file). */
    private Map<String, byte[]> fill(int n, int size) {
        Map<String, byte[]> pages = new HashMap<>();
        Random random = new Random(42);
        try (EmbeddedStore store = open()) {
            for (int i = 0; i < n; i++) {
                byte[] body = new byte[size];
                random.nextBytes(body);
                store.put("/p/" + i, body, PutOptions.NONE);
                pages.put("/p/" + i, body);
            }
        }
        return pages;
    }

    /** Flips one byte of a stored value behind the store's back, as a bad disk would. */
    private void changeValue(String key, int at) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(EmbeddedStore.FILE_NAME));
                Statement s = c.createStatement()) {
            s.execute("UPDATE bodies SET value = substr(value, 1, " + at + ") || x'00' || substr(value, " + (at + 2)
                    + ") WHERE id = (SELECT id FROM entries WHERE key = '" + key + "')");
            s.execute("PRAGMA wal_checkpoint(TRUNCATE)");
        }
    }
}
