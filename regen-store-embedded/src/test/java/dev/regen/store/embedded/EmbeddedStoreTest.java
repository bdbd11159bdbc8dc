package dev.regen.store.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.regen.store.PutOptions;
import dev.regen.store.StoreException;
import dev.regen.testing.FakeClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the contract does not cover: files, pragmas, schema, the sweep and failures to open. */
class EmbeddedStoreTest {

    @TempDir
    Path dir;

    private final FakeClock clock = new FakeClock();

    @Test
    void open_missingDirectory_createsItWithDatabaseInWalModeAndSchemaVersion() throws Exception {
        Path nested = dir.resolve("a/b");

        try (EmbeddedStore store = EmbeddedStore.open(nested, clock)) {
            assertThat(store.file()).isEqualTo(nested.resolve("regen.db").toAbsolutePath());
            assertThat(nested.resolve("regen.db")).isRegularFile();
        }
        assertThat(pragma(nested.resolve("regen.db"), "journal_mode")).isEqualTo("wal");
        assertThat(pragma(nested.resolve("regen.db"), "user_version"))
                .isEqualTo(String.valueOf(EmbeddedStore.SCHEMA_VERSION));
    }

    @Test
    void open_fileIsNotADatabase_throwsStoreExceptionNamingTheFile() throws Exception {
        byte[] garbage = new byte[8192];
        Arrays.fill(garbage, (byte) 'x');
        Files.write(dir.resolve("regen.db"), garbage);

        assertThatThrownBy(() -> EmbeddedStore.open(dir, clock))
                .isInstanceOf(StoreException.class)
                .hasMessageContaining(dir.resolve("regen.db").toAbsolutePath().toString())
                .hasMessageContaining("move it away");
    }

    @Test
    void open_directoryIsAFile_throwsStoreExceptionNamingIt() throws Exception {
        Path notADir = Files.writeString(dir.resolve("plain"), "x");

        assertThatThrownBy(() -> EmbeddedStore.open(notADir, clock))
                .isInstanceOf(StoreException.class)
                .hasMessageContaining(notADir.toString());
    }

    @Test
    void open_newerSchemaVersion_throwsStoreException() throws Exception {
        EmbeddedStore.open(dir, clock).close();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("regen.db"));
                Statement s = c.createStatement()) {
            s.execute("PRAGMA user_version = 99");
        }

        assertThatThrownBy(() -> EmbeddedStore.open(dir, clock))
                .isInstanceOf(StoreException.class)
                .hasMessageContaining("schema version 99 is newer");
    }

    @Test
    void close_checkpointsTheWalIntoTheDatabase() throws Exception {
        EmbeddedStore store = EmbeddedStore.open(dir, clock);
        for (int i = 0; i < 50; i++) {
            store.put("/p/" + i, new byte[10_000], PutOptions.NONE);
        }

        store.close();

        Path wal = dir.resolve("regen.db-wal");
        assertThat(!Files.exists(wal) || Files.size(wal) == 0)
                .as("WAL empty or gone")
                .isTrue();
        assertThat(Files.size(dir.resolve("regen.db"))).isGreaterThan(50 * 10_000);
    }

    @Test
    void checkpoint_afterReadsAndLists_isNotBlockedByIdleReaders() {
        try (EmbeddedStore store = EmbeddedStore.open(dir, clock)) {
            for (int i = 0; i < 20; i++) {
                store.put("/p/" + i, new byte[10_000], PutOptions.NONE);
                store.get("/p/" + i);
                store.list("/p/", null, 5);
            }

            assertThat(store.checkpoint()).isTrue();
        }
    }

    @Test
    void get_afterClose_throwsIllegalState() {
        EmbeddedStore store = EmbeddedStore.open(dir, clock);
        store.close();

        assertThatThrownBy(() -> store.get("/a"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
    }

    @Test
    void sweepExpired_manyExpiredRows_deletesThemAllAndKeepsTheRest() throws Exception {
        try (EmbeddedStore store = EmbeddedStore.open(dir, clock)) {
            int expired = EmbeddedStore.BATCH * 2 + 7;
            for (int i = 0; i < expired; i++) {
                store.put(
                        "/e/" + i,
                        new byte[] {1},
                        PutOptions.NONE.withExpiration(clock.instant().plusSeconds(5)));
            }
            store.put("/keep", new byte[] {1}, PutOptions.NONE);
            store.put(
                    "/later",
                    new byte[] {1},
                    PutOptions.NONE.withExpiration(clock.instant().plusSeconds(60)));
            clock.advance(Duration.ofSeconds(10));

            assertThat(store.sweepExpired()).isEqualTo(expired);
            assertThat(rowCount()).isEqualTo(2);
            assertThat(store.sweepExpired()).isZero();
        }
    }

    @Test
    void sweep_scheduled_runsInTheBackground() throws Exception {
        try (EmbeddedStore store = EmbeddedStore.open(
                dir, clock, EmbeddedStore.Settings.DEFAULTS.withSweepInterval(Duration.ofMillis(20)))) {
            store.put(
                    "/e",
                    new byte[] {1},
                    PutOptions.NONE.withExpiration(clock.instant().plusSeconds(5)));
            clock.advance(Duration.ofSeconds(10));

            // the sweeper is a real background thread on a 20 ms schedule
            await().atMost(Duration.ofSeconds(10)).until(() -> rowCount() == 0);
        }
    }

    @Test
    void put_keyWithUnpairedSurrogate_throwsIllegalArgument() {
        try (EmbeddedStore store = EmbeddedStore.open(dir, clock)) {
            assertThatThrownBy(() -> store.put("/a\uD800", new byte[1], PutOptions.NONE))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("key has an unpaired surrogate at index 2");
        }
    }

    @Test
    void put_storesSizeWithTheKeyAndTheValueApart() throws Exception {
        try (EmbeddedStore store = EmbeddedStore.open(dir, clock)) {
            store.put("/s", "hello".getBytes(StandardCharsets.UTF_8), PutOptions.NONE);
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("regen.db"));
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(
                        "SELECT e.size, length(b.value) FROM entries e JOIN bodies b ON b.id = e.id WHERE key = '/s'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getLong(1)).isEqualTo(5);
            assertThat(rs.getLong(2)).isEqualTo(5);
        }
    }

    @Test
    void put_sameValueWithNewMetadata_writesTheMetadataOnly() throws Exception {
        byte[] big = new byte[200_000];
        new java.util.Random(1).nextBytes(big);
        byte[] other = big.clone();
        other[100_000]++;
        try (EmbeddedStore store = EmbeddedStore.open(dir, clock)) {
            store.put("/p", big, PutOptions.metadata(java.util.Map.of("i", "0")));
            assertThat(store.checkpoint()).isTrue();

            store.put("/p", big.clone(), PutOptions.metadata(java.util.Map.of("i", "1"))); // marked stale, say

            assertThat(Files.size(dir.resolve("regen.db-wal")))
                    .as("WAL bytes written")
                    .isLessThan(50_000);
            assertThat(store.get("/p").metadata()).containsEntry("i", "1");
            assertThat(store.get("/p").value()).isEqualTo(big);
            store.put("/p", other, PutOptions.NONE); // same size, other bytes: written
            assertThat(store.get("/p").value()).isEqualTo(other);
        }
    }

    @Test
    void replaceMetadata_bigValue_writesTheMetadataOnlyAndPassesTheCheck() throws Exception {
        byte[] big = new byte[200_000];
        new java.util.Random(2).nextBytes(big);
        try (EmbeddedStore store = EmbeddedStore.open(dir, clock)) {
            store.put("/p", big, PutOptions.metadata(java.util.Map.of("r", "1")));
            assertThat(store.checkpoint()).isTrue();

            assertThat(store.replaceMetadata("/p", PutOptions.metadata(java.util.Map.of("r", "2", "etag", "\"e\""))))
                    .isTrue();

            assertThat(Files.size(dir.resolve("regen.db-wal")))
                    .as("WAL bytes written")
                    .isLessThan(50_000);
            assertThat(store.get("/p").metadata()).containsEntry("r", "2");
            assertThat(store.get("/p").value()).isEqualTo(big);
        }
        StoreCheck.Report report = StoreCheck.run(dir);
        assertThat(report.problems())
                .as("metadata checksum recomputed, value checksum kept")
                .isEmpty();
        assertThat(report.ok()).isTrue();
    }

    @Test
    void replaceMetadata_withAnOwner_isSweptWithItsOwner() {
        try (EmbeddedStore store = EmbeddedStore.open(dir, clock)) {
            store.put(
                    "page:/p",
                    new byte[] {1},
                    PutOptions.NONE.withExpiration(clock.instant().plusSeconds(5)));
            store.put("tag:t page:/p", new byte[0], PutOptions.NONE);
            store.put("tag:u page:/p", new byte[0], PutOptions.NONE.withOwner("page:/p"));

            store.replaceMetadata("tag:t page:/p", PutOptions.NONE.withOwner("page:/p"));
            store.replaceMetadata("tag:u page:/p", PutOptions.NONE); // no longer owned
            clock.advance(Duration.ofSeconds(10));
            store.sweepExpired();

            assertThat(store.get("tag:t page:/p")).as("went with its new owner").isNull();
            assertThat(store.get("tag:u page:/p"))
                    .as("stays: its owner was taken away")
                    .isNotNull();
        }
    }

    @Test
    void replaceMetadata_ownerIsGone_dropsTheEntryLikeAPutWouldNotStoreIt() throws Exception {
        try (EmbeddedStore store = EmbeddedStore.open(dir, clock)) {
            store.put("tag:t page:/gone", new byte[0], PutOptions.NONE);

            assertThat(store.replaceMetadata("tag:t page:/gone", PutOptions.NONE.withOwner("page:/gone")))
                    .isTrue();

            assertThat(store.get("tag:t page:/gone")).isNull();
        }
        assertThat(rowCount()).isZero();
    }

    @Test
    void replaceMetadata_keyWithUnpairedSurrogate_throwsIllegalArgument() {
        try (EmbeddedStore store = EmbeddedStore.open(dir, clock)) {
            assertThatThrownBy(() -> store.replaceMetadata("/a\uD800", PutOptions.NONE))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("key has an unpaired surrogate at index 2");
        }
    }

    @Test
    void replaceMetadata_afterClose_throwsIllegalState() {
        EmbeddedStore store = EmbeddedStore.open(dir, clock);
        store.close();

        assertThatThrownBy(() -> store.replaceMetadata("/a", PutOptions.NONE))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
    }

    @Test
    void prefixEnd_variousPrefixes_returnsTheLeastStringAfterTheRange() {
        String max = new String(Character.toChars(Character.MAX_CODE_POINT));
        assertThat(EmbeddedStore.prefixEnd("")).isNull();
        assertThat(EmbeddedStore.prefixEnd("/ab")).isEqualTo("/ac");
        assertThat(EmbeddedStore.prefixEnd("/a\uD7FF")).isEqualTo("/a\uE000");
        assertThat(EmbeddedStore.prefixEnd("/a\uFFFF")).isEqualTo("/a\uD800\uDC00");
        assertThat(EmbeddedStore.prefixEnd("/a\uD83D\uDE00")).isEqualTo("/a\uD83D\uDE01");
        assertThat(EmbeddedStore.prefixEnd("/a" + max + max)).isEqualTo("/b");
        assertThat(EmbeddedStore.prefixEnd(max)).isNull();
    }

    private int rowCount() throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("regen.db"));
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*) FROM entries")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static String pragma(Path db, String name) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("PRAGMA " + name)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
