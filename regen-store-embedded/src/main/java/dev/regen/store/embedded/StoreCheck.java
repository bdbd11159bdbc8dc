package dev.regen.store.embedded;

import dev.regen.store.StoreException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.sqlite.SQLiteConfig;

/**
 * Verifies a whole embedded store without opening it for writing: SQLite's own {@code integrity_check}
 * of every page, then every entry read back and compared with its checksum and size. Safe beside a
 * running Regen (it reads a snapshot); changes nothing. The running store removes a corrupt entry when
 * it reads one; this finds them all at once.
 */
public final class StoreCheck {

    /** At most this many problems are listed in a report; all are counted. */
    static final int MAX_LISTED = 50;

    private static final int CHUNK = 500;
    /** Rows skipped one by one past a damaged part of the table before giving up. */
    private static final int MAX_SKIPS = 1000;

    private StoreCheck() {}

    /**
     * What a check found.
     *
     * @param file           the database file
     * @param schemaVersion  its schema version ({@link EmbeddedStore} replaces an older one at start)
     * @param entries        entries read back
     * @param bytes          their values' bytes
     * @param corrupt        entries whose value does not match its checksum or size, or whose metadata
     *                       cannot be read
     * @param unreadable     rows SQLite could not read at all (damaged pages), each stepped over
     * @param problems       SQLite's findings and the corrupt entries, at most {@value #MAX_LISTED}
     * @param integrityOk    SQLite's {@code integrity_check} found nothing
     * @param complete       false when damage stopped the walk before the end of the table
     */
    public record Report(
            Path file,
            int schemaVersion,
            long entries,
            long bytes,
            long corrupt,
            long unreadable,
            List<String> problems,
            boolean integrityOk,
            boolean complete) {
        public Report {
            problems = List.copyOf(problems);
        }

        /** Nothing wrong found. */
        public boolean ok() {
            return integrityOk && corrupt == 0 && unreadable == 0 && complete;
        }
    }

    /**
     * Checks the store in {@code dir}.
     *
     * @throws StoreException when there is no store there or its file cannot be opened at all
     */
    public static Report run(Path dir) {
        Objects.requireNonNull(dir, "dir");
        Path file = dir.resolve(EmbeddedStore.FILE_NAME).toAbsolutePath();
        if (!Files.isRegularFile(file)) {
            throw new StoreException("no embedded store in " + dir + " (no " + EmbeddedStore.FILE_NAME + ")");
        }
        SQLiteConfig config = new SQLiteConfig();
        config.setReadOnly(true);
        config.setBusyTimeout(5_000);
        try (Connection c = config.createConnection("jdbc:sqlite:" + file)) {
            List<String> problems = new ArrayList<>();
            int version;
            boolean integrityOk;
            try (Statement s = c.createStatement()) {
                version = Integer.parseInt(single(s, "PRAGMA user_version"));
                integrityOk = integrity(s, problems);
            }
            if (version != EmbeddedStore.SCHEMA_VERSION) {
                problems.add("schema version " + version + ", not " + EmbeddedStore.SCHEMA_VERSION
                        + ": Regen replaces this database with an empty one at start; entries not checked");
                return new Report(file, version, 0, 0, 0, 0, problems, integrityOk, true);
            }
            return entries(c, file, version, integrityOk, problems);
        } catch (SQLException e) {
            throw new StoreException("cannot read the embedded store " + file + ": " + e.getMessage(), e);
        }
    }

    private static boolean integrity(Statement s, List<String> problems) {
        List<String> found = new ArrayList<>();
        try (ResultSet rs = s.executeQuery("PRAGMA integrity_check")) {
            while (rs.next()) {
                found.add(rs.getString(1));
            }
        } catch (SQLException e) {
            found.add("integrity_check could not run: " + e.getMessage());
        }
        if (found.equals(List.of("ok"))) {
            return true;
        }
        for (String f : found) {
            add(problems, "SQLite: " + f);
        }
        return false;
    }

    /** Walks the entries by id, a chunk at a time, stepping over rows that cannot be read. */
    private static Report entries(Connection c, Path file, int version, boolean integrityOk, List<String> problems)
            throws SQLException {
        long entries = 0;
        long bytes = 0;
        long corrupt = 0;
        long unreadable = 0;
        long after = Long.MIN_VALUE;
        PreparedStatement ps = c.prepareStatement("SELECT e.id, e.key, e.metadata, e.size, e.crc, b.value, e.mcrc"
                + " FROM entries e LEFT JOIN bodies b ON b.id = e.id WHERE e.id > ? ORDER BY e.id LIMIT " + CHUNK);
        while (true) {
            int rows = 0;
            long last = after;
            try {
                ps.setLong(1, after);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        rows++;
                        last = rs.getLong(1);
                        String key = rs.getString(2);
                        byte[] metadata = rs.getBytes(3);
                        byte[] value = rs.getBytes(6);
                        value = value == null ? new byte[0] : value;
                        entries++;
                        bytes += value.length;
                        String wrong =
                                EmbeddedStore.damage(metadata, rs.getLong(7), value, rs.getLong(4), rs.getLong(5));
                        if (wrong == null && EmbeddedStore.tryDecode(metadata) == null) {
                            wrong = "unreadable metadata";
                        }
                        if (wrong != null) {
                            corrupt++;
                            add(problems, "entry " + key + ": " + wrong);
                        }
                    }
                }
                after = last;
            } catch (SQLException e) {
                // A damaged page: note it, step over the next id and go on, within reason.
                if (unreadable++ == 0 || last != after) {
                    add(problems, "rows after id " + last + " unreadable: " + e.getMessage());
                }
                if (unreadable > MAX_SKIPS) {
                    add(problems, "stopped after stepping over " + MAX_SKIPS + " unreadable rows");
                    return new Report(file, version, entries, bytes, corrupt, unreadable, problems, integrityOk, false);
                }
                after = last + 1;
                continue;
            }
            if (rows < CHUNK) {
                return new Report(file, version, entries, bytes, corrupt, unreadable, problems, integrityOk, true);
            }
        }
    }

    private static void add(List<String> problems, String problem) {
        if (problems.size() < MAX_LISTED) {
            problems.add(problem);
        } else if (problems.size() == MAX_LISTED) {
            problems.add("… (more not listed)");
        }
    }

    private static String single(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }
}
