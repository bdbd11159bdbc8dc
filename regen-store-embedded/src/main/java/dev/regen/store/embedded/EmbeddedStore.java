package dev.regen.store.embedded;

import dev.regen.store.KvEntry;
import dev.regen.store.KvStore;
import dev.regen.store.ListPage;
import dev.regen.store.ListedKey;
import dev.regen.store.PutOptions;
import dev.regen.store.WellFormed;
import dev.regen.store.StoreException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The default persistent {@link KvStore}: one SQLite database, {@code regen.db}, in a directory.
 *
 * <p>SQLite in WAL mode gives what a page cache on one machine needs without a server: each
 * {@link #put} is one transaction, so a crash leaves the old entry or the new one; readers never
 * wait for the writer nor for each other; range scans over the primary key answer {@link #list}.
 *
 * <p>Threading: one writer connection behind a lock (SQLite has a single writer anyway) and a
 * small pool of reader connections. Expired rows are hidden on read and deleted by a daemon
 * thread every minute. All methods are thread-safe; they throw {@link StoreException} on database
 * faults and {@link IllegalStateException} after {@link #close}.
 */
public final class EmbeddedStore implements KvStore {

    /** The database file created in the store's directory. */
    public static final String FILE_NAME = "regen.db";

    static final int SCHEMA_VERSION = 1;
    static final Duration DEFAULT_SWEEP_INTERVAL = Duration.ofSeconds(60);
    /** Rows deleted per sweep transaction; small so puts are not held up behind a sweep. */
    static final int SWEEP_BATCH = 500;

    private static final Logger log = LoggerFactory.getLogger(EmbeddedStore.class);

    private static final int BUSY_TIMEOUT_MILLIS = 5_000;
    private static final long BORROW_TIMEOUT_SECONDS = 30;
    private static final int SQLITE_CORRUPT = 11;
    private static final int SQLITE_NOTADB = 26;

    // The value is the last column: SQLite reads a row's columns in order, through the value's
    // overflow pages, so list() can read key..size without touching the value.
    private static final String[] SCHEMA = {
        """
        CREATE TABLE IF NOT EXISTS entries (
          key        TEXT    NOT NULL PRIMARY KEY,
          metadata   TEXT    NOT NULL,
          expiration INTEGER,
          size       INTEGER NOT NULL,
          value      BLOB    NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS entries_expiration ON entries (expiration) WHERE expiration IS NOT NULL",
    };

    private static final String LIVE = "(expiration IS NULL OR expiration > ?)";
    private static final String GET = "SELECT metadata, expiration, value FROM entries WHERE key = ? AND " + LIVE;
    private static final String PUT = """
            INSERT INTO entries (key, metadata, expiration, size, value) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET metadata = excluded.metadata, expiration = excluded.expiration,
              size = excluded.size, value = excluded.value""";
    private static final String DELETE_LIVE = "DELETE FROM entries WHERE key = ? AND " + LIVE;
    private static final String DELETE_ANY = "DELETE FROM entries WHERE key = ?";
    private static final String SWEEP =
            "DELETE FROM entries WHERE rowid IN (SELECT rowid FROM entries WHERE expiration <= ? LIMIT ?)";

    private final Path file;
    private final InstantSource clock;
    private final Conn writer;
    private final ReentrantLock writerLock = new ReentrantLock();
    private final BlockingQueue<Conn> readers;
    private final List<Conn> allReaders;
    private final ScheduledExecutorService sweeper;
    // Operations hold the read side; close() takes the write side, so it never closes a
    // connection in use.
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private boolean closed; // guarded by lifecycle

    private EmbeddedStore(Path file, InstantSource clock, Conn writer, List<Conn> readers, Duration sweepInterval) {
        this.file = file;
        this.clock = clock;
        this.writer = writer;
        this.allReaders = List.copyOf(readers);
        this.readers = new ArrayBlockingQueue<>(readers.size(), false, readers);
        this.sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "regen-embedded-sweep");
            t.setDaemon(true);
            return t;
        });
        long every = sweepInterval.toMillis();
        sweeper.scheduleWithFixedDelay(this::sweepQuietly, every, every, TimeUnit.MILLISECONDS);
    }

    /**
     * Opens the store in {@code dir}, creating the directory and {@value #FILE_NAME} if needed.
     *
     * @throws StoreException naming the file when it cannot be created or opened, is not a SQLite
     *                        database, or was written by a newer Regen
     */
    /**
     * Loads SQLite's native library now (it is unpacked from the jar first: ~0.1-0.2 s on a cold JVM),
     * so a later {@link #open} does not wait for it. Safe to call from any thread, any number of times.
     */
    public static void preload() {
        try {
            org.sqlite.SQLiteJDBCLoader.initialize();
        } catch (Exception e) {
            // open() reports it, with the store's path
        }
    }

    public static EmbeddedStore open(Path dir, InstantSource clock) {
        return open(dir, clock, DEFAULT_SWEEP_INTERVAL);
    }

    static EmbeddedStore open(Path dir, InstantSource clock, Duration sweepInterval) {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(clock, "clock");
        if (sweepInterval.isNegative() || sweepInterval.isZero()) {
            throw new IllegalArgumentException("sweepInterval must be positive: " + sweepInterval);
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new StoreException("cannot create the embedded store directory " + dir + ": " + e, e);
        }
        Path file = dir.resolve(FILE_NAME).toAbsolutePath();
        List<Conn> opened = new ArrayList<>();
        try {
            Conn writer = Conn.open(file);
            opened.add(writer);
            prepareDatabase(writer.connection, file);
            int readerCount = Math.max(2, Math.min(8, Runtime.getRuntime().availableProcessors()));
            List<Conn> readers = new ArrayList<>();
            for (int i = 0; i < readerCount; i++) {
                Conn reader = Conn.open(file);
                opened.add(reader);
                try (Statement s = reader.connection.createStatement()) {
                    s.execute("PRAGMA query_only = 1"); // a guard: writes go through the writer lock
                }
                readers.add(reader);
            }
            return new EmbeddedStore(file, clock, writer, readers, sweepInterval);
        } catch (SQLException e) {
            opened.forEach(Conn::closeQuietly);
            int code = e.getErrorCode() & 0xFF;
            String hint = code == SQLITE_CORRUPT || code == SQLITE_NOTADB
                    ? " (it only holds cached pages: move it away to start empty)"
                    : "";
            throw new StoreException("cannot open the embedded store " + file + ": " + e.getMessage() + hint, e);
        } catch (RuntimeException e) {
            opened.forEach(Conn::closeQuietly);
            throw e;
        }
    }

    private static void prepareDatabase(Connection c, Path file) throws SQLException {
        try (Statement s = c.createStatement()) {
            // WAL: readers work on a snapshot while the one writer appends. With synchronous=NORMAL
            // the WAL is fsynced at checkpoints, not at every commit: the database never corrupts,
            // a process crash (even SIGKILL) loses nothing committed since the OS holds the
            // writes, and a power loss may roll back the last few puts, which a cache can afford.
            String mode = queryString(s, "PRAGMA journal_mode = WAL");
            if (!"wal".equalsIgnoreCase(mode)) {
                log.warn("embedded store {}: the filesystem refused WAL mode (got {}); readers will wait for writers",
                        file, mode);
            }
            s.execute("PRAGMA synchronous = NORMAL");
            // A checkpoint held off by long reads lets the WAL grow; this shrinks it back afterwards.
            s.execute("PRAGMA journal_size_limit = " + (64L << 20));
            int version = Integer.parseInt(queryString(s, "PRAGMA user_version"));
            if (version > SCHEMA_VERSION) {
                throw new StoreException("cannot open the embedded store " + file + ": its schema version " + version
                        + " is newer than this Regen's (" + SCHEMA_VERSION + ")");
            }
            if (version < SCHEMA_VERSION) {
                c.setAutoCommit(false);
                try {
                    for (String ddl : SCHEMA) {
                        s.execute(ddl);
                    }
                    s.execute("PRAGMA user_version = " + SCHEMA_VERSION);
                    c.commit();
                } catch (SQLException e) {
                    c.rollback();
                    throw e;
                } finally {
                    c.setAutoCommit(true);
                }
            }
            String table = queryString(s, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name = 'entries'");
            if (table == null) {
                throw new StoreException("cannot open the embedded store " + file
                        + ": schema version " + version + " but no entries table");
            }
        }
    }

    /** The database file. */
    public Path file() {
        return file;
    }

    @Override
    public KvEntry get(String key) {
        WellFormed.require("key", key);
        long now = millis(clock.instant());
        return read("get", key, c -> {
            PreparedStatement ps = c.prepare(GET);
            ps.setString(1, key);
            ps.setLong(2, now);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                Map<String, String> metadata = decodeMetadata(key, rs.getString(1));
                Instant expiration = instant(rs, 2);
                byte[] value = rs.getBytes(3);
                return new KvEntry(value == null ? new byte[0] : value, metadata, expiration);
            }
        });
    }

    @Override
    public void put(String key, byte[] value, PutOptions options) {
        WellFormed.require("key", key);
        Objects.requireNonNull(value, "value");
        PutOptions opts = options == null ? PutOptions.NONE : options;
        opts.metadata().forEach((k, v) -> {
            WellFormed.require("metadata key", k);
            WellFormed.require("metadata value", v);
        });
        String metadata = MetadataCodec.encode(opts.metadata());
        write("put", key, c -> {
            PreparedStatement ps = c.prepare(PUT);
            ps.setString(1, key);
            ps.setString(2, metadata);
            if (opts.expiration() == null) {
                ps.setNull(3, Types.INTEGER);
            } else {
                ps.setLong(3, millis(opts.expiration()));
            }
            ps.setLong(4, value.length);
            ps.setBytes(5, value);
            return ps.executeUpdate(); // one statement in autocommit: atomic
        });
    }

    @Override
    public boolean delete(String key) {
        WellFormed.require("key", key);
        long now = millis(clock.instant());
        return write("delete", key, c -> {
            PreparedStatement live = c.prepare(DELETE_LIVE);
            live.setString(1, key);
            live.setLong(2, now);
            if (live.executeUpdate() > 0) {
                return true;
            }
            // An expired row may remain until the sweep: remove it too, but report nothing there.
            PreparedStatement any = c.prepare(DELETE_ANY);
            any.setString(1, key);
            any.executeUpdate();
            return false;
        });
    }

    @Override
    public ListPage list(String prefix, String cursor, int limit) {
        if (limit <= 0) {
            throw new IllegalArgumentException("limit must be positive: " + limit);
        }
        String p = prefix == null ? "" : prefix;
        WellFormed.require("prefix", p);
        if (cursor != null) {
            WellFormed.require("cursor", cursor);
        }
        boolean afterCursor = cursor != null && utf8Compare(cursor, p) >= 0; // else start at the prefix
        String lower = afterCursor ? cursor : p;
        String upper = prefixEnd(p);
        long now = millis(clock.instant());
        return read("list", p, c -> {
            // A range on the primary key, not LIKE: LIKE is case-insensitive and treats % and _ as
            // wildcards, and the range uses the key index.
            PreparedStatement ps = c.prepare(listSql(afterCursor, upper != null));
            int i = 1;
            ps.setString(i++, lower);
            if (upper != null) {
                ps.setString(i++, upper);
            }
            ps.setLong(i++, now);
            ps.setLong(i, (long) limit + 1); // one more tells whether the listing is complete
            List<ListedKey> keys = new ArrayList<>(Math.min(limit, 256));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (keys.size() == limit) {
                        return new ListPage(keys, keys.get(keys.size() - 1).name(), false);
                    }
                    String key = rs.getString(1);
                    keys.add(new ListedKey(key, decodeMetadata(key, rs.getString(2)), instant(rs, 3), rs.getLong(4)));
                }
            }
            return new ListPage(keys, null, true);
        });
    }

    /**
     * Deletes expired rows in batches of {@value #SWEEP_BATCH}, releasing the writer between them.
     * Returns how many rows went.
     */
    int sweepExpired() {
        int total = 0;
        while (true) {
            long now = millis(clock.instant());
            int deleted = write("sweep", "expired entries", c -> {
                PreparedStatement ps = c.prepare(SWEEP);
                ps.setLong(1, now);
                ps.setInt(2, SWEEP_BATCH);
                return ps.executeUpdate();
            });
            total += deleted;
            if (deleted < SWEEP_BATCH) {
                return total;
            }
        }
    }

    private void sweepQuietly() {
        try {
            int deleted = sweepExpired();
            if (deleted > 0) {
                log.debug("embedded store {}: swept {} expired entries", file, deleted);
            }
        } catch (IllegalStateException e) {
            // closed meanwhile
        } catch (RuntimeException e) {
            // Retried at the next run; an exception escaping would cancel the schedule.
            log.warn("embedded store {}: sweeping expired entries failed: {}", file, e.getMessage());
        }
    }

    /** Stops the sweep, checkpoints the WAL into the database file and closes every connection. */
    @Override
    public void close() {
        lifecycle.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            sweeper.shutdownNow();
            allReaders.forEach(Conn::closeQuietly);
            try {
                if (!checkpoint(writer)) {
                    log.warn("embedded store {}: WAL checkpoint at close was blocked by another connection", file);
                }
            } catch (SQLException e) {
                log.warn("embedded store {}: WAL checkpoint at close failed: {}", file, e.getMessage());
            }
            writer.closeQuietly();
        } finally {
            lifecycle.writeLock().unlock();
        }
    }

    /**
     * Copies the WAL into the database and empties it; false if a connection's open read kept it
     * from completing. For tests: idle pooled readers must not hold a snapshot.
     */
    boolean checkpoint() {
        return write("checkpoint", "WAL", EmbeddedStore::checkpoint);
    }

    private static boolean checkpoint(Conn c) throws SQLException {
        try (Statement s = c.connection.createStatement();
                ResultSet rs = s.executeQuery("PRAGMA wal_checkpoint(TRUNCATE)")) {
            return rs.next() && rs.getInt(1) == 0;
        }
    }

    // --- plumbing ------------------------------------------------------------------------------

    @FunctionalInterface
    private interface SqlWork<T> {
        T run(Conn c) throws SQLException;
    }

    private <T> T read(String op, String key, SqlWork<T> work) {
        lifecycle.readLock().lock();
        try {
            ensureOpen();
            Conn c = borrowReader();
            try {
                return work.run(c);
            } catch (SQLException e) {
                throw fault(op, key, e);
            } finally {
                readers.add(c);
            }
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    private <T> T write(String op, String key, SqlWork<T> work) {
        lifecycle.readLock().lock();
        try {
            ensureOpen();
            writerLock.lock();
            try {
                return work.run(writer);
            } catch (SQLException e) {
                throw fault(op, key, e);
            } finally {
                writerLock.unlock();
            }
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    private Conn borrowReader() {
        try {
            Conn c = readers.poll(BORROW_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            if (c == null) {
                throw new StoreException("embedded store " + file + ": no reader connection free after "
                        + BORROW_TIMEOUT_SECONDS + " s");
            }
            return c;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException("embedded store " + file + ": interrupted waiting for a connection", e);
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("embedded store " + file + " is closed");
        }
    }

    private StoreException fault(String op, String key, SQLException e) {
        return new StoreException("embedded store " + file + ": " + op + " " + key + " failed: " + e.getMessage(), e);
    }

    private Map<String, String> decodeMetadata(String key, String text) {
        try {
            return MetadataCodec.decode(text == null ? "" : text);
        } catch (IllegalArgumentException e) {
            throw new StoreException("embedded store " + file + ": corrupt metadata under " + key + ": " + e.getMessage());
        }
    }

    private static final String[] LIST_SQL = {
        listSqlText(false, false), listSqlText(false, true), listSqlText(true, false), listSqlText(true, true),
    };

    private static String listSql(boolean afterCursor, boolean bounded) {
        return LIST_SQL[(afterCursor ? 2 : 0) + (bounded ? 1 : 0)];
    }

    private static String listSqlText(boolean afterCursor, boolean bounded) {
        return "SELECT key, metadata, expiration, size FROM entries WHERE key " + (afterCursor ? ">" : ">=") + " ?"
                + (bounded ? " AND key < ?" : "") + " AND " + LIVE + " ORDER BY key LIMIT ?";
    }

    /**
     * The least string greater than every string starting with {@code prefix} in UTF-8 byte order
     * (SQLite's BINARY collation), or null if there is none (empty prefix, or only U+10FFFF).
     */
    static String prefixEnd(String prefix) {
        int end = prefix.length();
        while (end > 0) {
            int cp = prefix.codePointBefore(end);
            int width = Character.charCount(cp);
            if (cp != Character.MAX_CODE_POINT) {
                int next = cp + 1 == Character.MIN_SURROGATE ? 0xE000 : cp + 1; // surrogates are not characters
                return prefix.substring(0, end - width) + new String(Character.toChars(next));
            }
            end -= width;
        }
        return null;
    }

    /** Code point order, which is UTF-8 byte order. */
    private static int utf8Compare(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }


    private static long millis(Instant t) {
        try {
            return t.toEpochMilli();
        } catch (ArithmeticException e) {
            return t.isBefore(Instant.EPOCH) ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }

    private static Instant instant(ResultSet rs, int column) throws SQLException {
        long ms = rs.getLong(column);
        return rs.wasNull() ? null : Instant.ofEpochMilli(ms);
    }

    private static String queryString(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    /** A connection with its prepared statements; used by one thread at a time. */
    private static final class Conn {
        final Connection connection;
        private final Map<String, PreparedStatement> statements = new HashMap<>();

        private Conn(Connection connection) {
            this.connection = connection;
        }

        static Conn open(Path file) throws SQLException {
            Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA busy_timeout = " + BUSY_TIMEOUT_MILLIS); // another process, or a checkpoint
            } catch (SQLException e) {
                c.close();
                throw e;
            }
            return new Conn(c);
        }

        PreparedStatement prepare(String sql) throws SQLException {
            PreparedStatement ps = statements.get(sql);
            if (ps == null) {
                ps = connection.prepareStatement(sql);
                statements.put(sql, ps);
            }
            return ps;
        }

        void closeQuietly() {
            for (PreparedStatement ps : statements.values()) {
                try {
                    ps.close();
                } catch (SQLException ignored) {
                    // closing anyway
                }
            }
            try {
                connection.close();
            } catch (SQLException e) {
                log.debug("closing a connection failed: {}", e.getMessage());
            }
        }
    }
}
