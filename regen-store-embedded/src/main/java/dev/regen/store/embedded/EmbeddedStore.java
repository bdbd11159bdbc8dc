package dev.regen.store.embedded;

import dev.regen.store.KvEntry;
import dev.regen.store.KvStore;
import dev.regen.store.ListPage;
import dev.regen.store.ListedKey;
import dev.regen.store.MetadataBytes;
import dev.regen.store.PutOptions;
import dev.regen.store.StoreException;
import dev.regen.store.StoreHealth;
import dev.regen.store.WellFormed;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The default persistent {@link KvStore}: one SQLite database, {@code regen.db}, in a directory,
 * kept under a size budget.
 *
 * <p>SQLite in WAL mode gives what a page cache on one machine needs without a server: each
 * {@link #put} is one transaction, so a crash leaves the old entry or the new one; readers never
 * wait for the writer nor for each other; range scans over the key answer {@link #list}. Values live
 * in their own table, apart from keys and metadata, so that listing a million keys reads only small
 * rows, and evicting or expiring an entry frees its value's pages at once.
 *
 * <p><b>Size budget</b> ({@code maxBytes}: the database and its write-ahead log together). A
 * background thread evicts entries not read lately, down to {@value #LOW_WATER_PERCENT} % of
 * the budget, whenever the store passes {@value #HIGH_WATER_PERCENT} % (it looks every second, and
 * puts nudge it when they see the mark passed); a put that finds the budget
 * full evicts inline before it fails. Entries {@linkplain PutOptions#owner owned} by another go with
 * their owner and are never evicted alone (an owned entry put after its owner went is not stored at
 * all). Which entries were read lately is a bit per entry in memory (see {@link ReferenceBits}): a read
 * never writes to the database, and eviction is a CLOCK over the entries in id order, an
 * approximation of least-recently-used. The default budget is half of what the store
 * could have at open: half of the free space of its filesystem plus what it already uses, so a cache
 * never fills the disk it shares with the site, its logs and its database.
 *
 * <p>Threading: one writer connection behind a lock (SQLite has a single writer anyway) and a
 * small pool of reader connections. Expired rows are hidden on read and deleted by a daemon
 * thread every minute; the same thread keeps the budget. All methods are thread-safe; they throw
 * {@link StoreException} on database faults and {@link IllegalStateException} after {@link #close}.
 *
 * <p>Faults: a failed operation throws (a put that fails never passes for stored) and turns
 * {@link #health} degraded, with the reason and one log line; the connection that met the fault heals
 * itself (see {@link Conn}), so the store works again as soon as the cause goes (disk space freed, a
 * lock released), without a restart. While writes fail, the background thread tries a small write
 * every second, so health turns up again even when no page is being stored.
 */
public final class EmbeddedStore implements KvStore {

    /** The database file created in the store's directory. */
    public static final String FILE_NAME = "regen.db";

    static final int SCHEMA_VERSION = 5;
    static final int HIGH_WATER_PERCENT = 90;
    static final int LOW_WATER_PERCENT = 80;
    /** Rows deleted per transaction by the sweep and the eviction; small so puts are not held up. */
    static final int BATCH = 200;
    /** Entries the eviction's hand looks at between two looks at how much is free. */
    private static final int EVICT_STEP = 8;

    private static final Logger log = LoggerFactory.getLogger(EmbeddedStore.class);

    private static final long BORROW_TIMEOUT_SECONDS = 30;
    private static final long MIN_BUDGET = 1 << 20;

    private static final String[] SCHEMA = {
        """
        CREATE TABLE entries (
          id         INTEGER PRIMARY KEY,
          key        TEXT    NOT NULL UNIQUE,
          metadata   BLOB    NOT NULL,  -- MetadataBytes
          mcrc       INTEGER NOT NULL,  -- CRC32C of the metadata
          expiration INTEGER,
          size       INTEGER NOT NULL,
          crc        INTEGER NOT NULL,  -- CRC32C of the value
          owner      TEXT
        )""",
        // the value of entries.id, when not empty
        "CREATE TABLE bodies (id INTEGER PRIMARY KEY, value BLOB NOT NULL)",
        "CREATE INDEX entries_expiration ON entries (expiration) WHERE expiration IS NOT NULL",
        "CREATE INDEX entries_owner ON entries (owner) WHERE owner IS NOT NULL",
        // one row, rewritten by the recovery probe: a write that needs a little space, like a put
        "CREATE TABLE probe (id INTEGER PRIMARY KEY CHECK (id = 1), at INTEGER NOT NULL)",
    };

    private static final String LIVE = "(e.expiration IS NULL OR e.expiration > ?)";
    private static final String GET = "SELECT e.id, e.metadata, e.expiration, e.size, e.crc, b.value, e.mcrc"
            + " FROM entries e LEFT JOIN bodies b ON b.id = e.id WHERE e.key = ? AND " + LIVE;
    private static final String FIND = "SELECT id, expiration FROM entries WHERE key = ?";
    private static final String UPSERT = """
            INSERT INTO entries (key, metadata, mcrc, expiration, size, crc, owner) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET metadata = excluded.metadata, mcrc = excluded.mcrc,
              expiration = excluded.expiration, size = excluded.size, crc = excluded.crc, owner = excluded.owner
            RETURNING id""";
    /** Metadata, its checksum, expiration and owner of a live row; size, crc and the body stay. */
    private static final String REPLACE_METADATA =
            "UPDATE entries SET metadata = ?, mcrc = ?, expiration = ?, owner = ?"
                    + " WHERE key = ? AND (expiration IS NULL OR expiration > ?)";

    private static final String PUT_BODY = "INSERT OR REPLACE INTO bodies (id, value) VALUES (?, ?)";
    private static final String DELETE_BODY = "DELETE FROM bodies WHERE id = ?";
    private static final String DELETE_ENTRY = "DELETE FROM entries WHERE id = ?";
    private static final String DELETE_OWNED_BODIES =
            "DELETE FROM bodies WHERE id IN (SELECT id FROM entries WHERE owner = ?)";
    private static final String DELETE_OWNED = "DELETE FROM entries WHERE owner = ?";
    private static final String EXPIRED = "SELECT id, key FROM entries WHERE expiration <= ? LIMIT ?";
    /** The clock's next candidates: entries after the hand, in id order; owned ones are never evicted alone. */
    private static final String AFTER_HAND =
            "SELECT id, key FROM entries WHERE id > ? AND owner IS NULL ORDER BY id LIMIT ?";

    private static final String OWNER_EXISTS = "SELECT 1 FROM entries WHERE key = ?";
    private static final String SIZE_AND_CRC = "SELECT id, size, crc FROM entries WHERE key = ?";
    private static final String BODY = "SELECT value FROM bodies WHERE id = ?";
    private static final String PROBE = "INSERT OR REPLACE INTO probe (id, at) VALUES (1, ?)";
    private static final String PAGE_COUNT = "PRAGMA page_count";
    private static final String FREE_PAGES = "PRAGMA freelist_count";
    private static final String USED_PAGES =
            "SELECT p.page_count - f.freelist_count FROM pragma_page_count() p, pragma_freelist_count() f";

    private final Path file;
    private final InstantSource clock;
    private final Budget budget;
    private final Conn writer;
    private final ReentrantLock writerLock = new ReentrantLock();
    private final BlockingQueue<Conn> readers;
    private final List<Conn> allReaders;
    private final ScheduledExecutorService background;
    private final AtomicBoolean maintenanceQueued = new AtomicBoolean();
    private final AtomicLong puts = new AtomicLong();
    private final HealthState health;
    private final ReferenceBits referenced = new ReferenceBits();
    /** The CLOCK's hand: the id after which the next eviction looks. Guarded by the writer lock. */
    private long hand;

    private final Corruption corruption;
    // Operations hold the read side; close() takes the write side, so it never closes a
    // connection in use.
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private boolean closed; // guarded by lifecycle

    /**
     * What can be tuned, for tests; {@link #DEFAULTS} otherwise.
     *
     * @param maxBytes            the budget, or 0 for the default share of the free space
     * @param sweepInterval       how often expired entries are deleted
     * @param maintenanceInterval how often the budget is checked
     */
    record Settings(long maxBytes, Duration sweepInterval, Duration maintenanceInterval) {
        static final Settings DEFAULTS = new Settings(0, Duration.ofSeconds(60), Duration.ofSeconds(1));

        Settings {
            if (maxBytes < 0) {
                throw new IllegalArgumentException("maxBytes must not be negative: " + maxBytes);
            }
            positive("sweepInterval", sweepInterval);
            positive("maintenanceInterval", maintenanceInterval);
        }

        Settings withMaxBytes(long v) {
            return new Settings(v, sweepInterval, maintenanceInterval);
        }

        Settings withSweepInterval(Duration v) {
            return new Settings(maxBytes, v, maintenanceInterval);
        }

        Settings withMaintenanceInterval(Duration v) {
            return new Settings(maxBytes, sweepInterval, v);
        }

        private static void positive(String name, Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive: " + d);
            }
        }
    }

    /**
     * The budget in SQLite's terms: pages for the database file, bytes for its WAL.
     *
     * @param maxBytes the whole budget
     * @param walBytes the share kept for the WAL (at most 64 MiB, at least 256 KiB)
     * @param maxPages the database file's pages: its hard limit ({@code max_page_count})
     */
    record Budget(long maxBytes, long walBytes, long maxPages, int pageSize) {
        static Budget of(long maxBytes, int pageSize) {
            long wal = Math.max(256L << 10, Math.min(64L << 20, maxBytes / 16));
            long pages = Math.max(16, (maxBytes - wal) / pageSize);
            return new Budget(maxBytes, wal, pages, pageSize);
        }

        long highWaterPages() {
            return maxPages * HIGH_WATER_PERCENT / 100;
        }

        long lowWaterPages() {
            return maxPages * LOW_WATER_PERCENT / 100;
        }
    }

    private EmbeddedStore(
            Path file, InstantSource clock, Settings settings, Budget budget, Conn writer, List<Conn> readers) {
        this.file = file;
        this.clock = clock;
        this.budget = budget;
        this.writer = writer;
        this.allReaders = List.copyOf(readers);
        this.readers = new ArrayBlockingQueue<>(readers.size(), false, readers);
        this.health = new HealthState(file.toString());
        this.corruption = new Corruption(file, clock);
        this.background = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "regen-embedded-store");
            t.setDaemon(true);
            return t;
        });
        long sweep = settings.sweepInterval().toMillis();
        // both catch their own failures (one escaping would end the schedule); close() stops them
        ScheduledFuture<?> unusedSweep =
                background.scheduleWithFixedDelay(this::sweepQuietly, sweep, sweep, TimeUnit.MILLISECONDS);
        long every = settings.maintenanceInterval().toMillis();
        ScheduledFuture<?> unusedMaintain =
                background.scheduleWithFixedDelay(this::maintain, every, every, TimeUnit.MILLISECONDS);
    }

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

    /**
     * Opens the store in {@code dir} with the default budget: half of the free space of its
     * filesystem plus what the store already uses.
     *
     * @throws StoreException naming the file when it cannot be created or opened, is not a SQLite
     *                        database, or was written by a newer Regen
     */
    public static EmbeddedStore open(Path dir, InstantSource clock) {
        return open(dir, clock, Settings.DEFAULTS);
    }

    /**
     * Opens the store in {@code dir}, creating the directory and {@value #FILE_NAME} if needed, kept
     * under {@code maxBytes} (the database and its write-ahead log together).
     *
     * @throws IllegalArgumentException if {@code maxBytes} is not positive
     * @throws StoreException           naming the file when it cannot be created or opened, is not a
     *                                  SQLite database, or was written by a newer Regen
     */
    public static EmbeddedStore open(Path dir, InstantSource clock, long maxBytes) {
        if (maxBytes <= 0) {
            throw new IllegalArgumentException("maxBytes must be positive: " + maxBytes);
        }
        return open(dir, clock, Settings.DEFAULTS.withMaxBytes(maxBytes));
    }

    static EmbeddedStore open(Path dir, InstantSource clock, Settings settings) {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(settings, "settings");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new StoreException("cannot create the embedded store directory " + dir + ": " + e, e);
        }
        Path file = dir.resolve(FILE_NAME).toAbsolutePath();
        List<Conn> opened = new ArrayList<>();
        try {
            int pageSize = prepareDatabase(file);
            long maxBytes = settings.maxBytes() > 0 ? settings.maxBytes() : defaultBudget(file);
            Budget budget = Budget.of(maxBytes, pageSize);
            Conn writer = Conn.open(
                    file,
                    List.of(
                            // Per connection. The WAL is fsynced at checkpoints, not at every commit: the
                            // database never corrupts, a process crash (even SIGKILL) loses nothing committed
                            // since the OS holds the writes, and a power loss may roll back the last few puts,
                            // which a cache can afford (a commit costs ~30 µs instead of an fsync's ~200 µs).
                            "synchronous = NORMAL",
                            // the hard limit: SQLite answers SQLITE_FULL rather than grow the file past it
                            "max_page_count = " + budget.maxPages(),
                            // checkpoints before the WAL outgrows its share, then shrinks it back to that
                            "wal_autocheckpoint = " + Math.max(16, budget.walBytes() / 2 / pageSize),
                            "journal_size_limit = " + budget.walBytes()));
            opened.add(writer);
            int readerCount = Math.max(2, Math.min(8, Runtime.getRuntime().availableProcessors()));
            List<Conn> readers = new ArrayList<>();
            for (int i = 0; i < readerCount; i++) {
                // query_only: a guard, writes go through the writer lock
                Conn reader = Conn.open(file, List.of("query_only = 1"));
                opened.add(reader);
                readers.add(reader);
            }
            log.info(
                    "embedded store {}: max size {} ({})",
                    file,
                    mebibytes(maxBytes),
                    settings.maxBytes() > 0
                            ? "configured"
                            : "half of the free space at start, plus what the store held: set max-size to change");
            return new EmbeddedStore(file, clock, settings, budget, writer, readers);
        } catch (SQLException e) {
            opened.forEach(Conn::closeQuietly);
            int code = Conn.primaryCode(e);
            String hint = code == Conn.SQLITE_CORRUPT || code == Conn.SQLITE_NOTADB
                    ? " (it only holds cached pages: move it away to start empty)"
                    : "";
            throw new StoreException("cannot open the embedded store " + file + ": " + e.getMessage() + hint, e);
        } catch (RuntimeException e) {
            opened.forEach(Conn::closeQuietly);
            throw e;
        }
    }

    /**
     * Creates or checks the schema; returns the page size. A database of an older schema holds only
     * cached pages: it is replaced by an empty one rather than converted.
     */
    private static int prepareDatabase(Path file) throws SQLException {
        Conn c = Conn.open(file, List.of());
        try (Statement s = c.connection().createStatement()) {
            int version = Integer.parseInt(queryString(s, "PRAGMA user_version"));
            if (version > SCHEMA_VERSION) {
                throw new StoreException("cannot open the embedded store " + file + ": its schema version " + version
                        + " is newer than this Regen's (" + SCHEMA_VERSION + ")");
            }
            if (version > 0 && version < SCHEMA_VERSION) {
                c.closeQuietly();
                log.info(
                        "embedded store {} was written by an older Regen (schema {}): starting empty, pages are "
                                + "rendered again as they are asked for",
                        file,
                        version);
                deleteDatabaseFiles(file);
                return prepareDatabase(file);
            }
            if (version == 0 && queryString(s, "SELECT name FROM sqlite_schema WHERE type = 'table' LIMIT 1") != null) {
                throw new StoreException("cannot open the embedded store " + file
                        + ": it holds tables but no Regen schema version (not Regen's file?)");
            }
            if (version == 0) {
                // Before the first table: lets the file shrink when the budget is lowered (see maintain).
                s.execute("PRAGMA auto_vacuum = INCREMENTAL");
            }
            // WAL: readers work on a snapshot while the one writer appends (persistent: set once).
            String mode = queryString(s, "PRAGMA journal_mode = WAL");
            if (!"wal".equalsIgnoreCase(mode)) {
                log.warn(
                        "embedded store {}: the filesystem refused WAL mode (got {}); readers will wait for writers",
                        file,
                        mode);
            }
            if (version == 0) {
                c.transaction(t -> {
                    for (String ddl : SCHEMA) {
                        s.execute(ddl);
                    }
                    s.execute("PRAGMA user_version = " + SCHEMA_VERSION);
                    return null;
                });
            }
            return Integer.parseInt(queryString(s, "PRAGMA page_size"));
        } finally {
            c.closeQuietly();
        }
    }

    private static void deleteDatabaseFiles(Path file) {
        for (String suffix : new String[] {"", "-wal", "-shm"}) {
            Path p = file.resolveSibling(file.getFileName() + suffix);
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                throw new StoreException(
                        "cannot replace the embedded store " + file + ": deleting " + p + " failed: " + e, e);
            }
        }
    }

    /** Half of what the store could use at open: the free space of its filesystem plus its own files. */
    private static long defaultBudget(Path file) {
        try {
            long free = Files.getFileStore(file.getParent()).getUsableSpace();
            return Math.max(MIN_BUDGET, (free + filesSize(file)) / 2);
        } catch (IOException e) {
            throw new StoreException("cannot read the free space of " + file.getParent() + ": " + e, e);
        }
    }

    private static long filesSize(Path file) {
        long total = 0;
        for (String suffix : new String[] {"", "-wal"}) {
            try {
                total += Files.size(file.resolveSibling(file.getFileName() + suffix));
            } catch (IOException e) {
                // absent
            }
        }
        return total;
    }

    /** The database file. */
    public Path file() {
        return file;
    }

    /** The size budget in bytes: the database and its write-ahead log together. */
    public long maxBytes() {
        return budget.maxBytes();
    }

    @Override
    public KvEntry get(String key) {
        WellFormed.require("key", key);
        long now = millis(clock.instant());
        KvEntry entry = read("get", key, c -> {
            PreparedStatement ps = c.prepare(GET);
            ps.setString(1, key);
            ps.setLong(2, now);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                long id = rs.getLong(1);
                byte[] metadataBytes = rs.getBytes(2);
                Instant expiration = instant(rs, 3);
                long size = rs.getLong(4);
                long crc = rs.getLong(5);
                byte[] value = rs.getBytes(6);
                value = value == null ? new byte[0] : value;
                String wrong = damage(metadataBytes, rs.getLong(7), value, size, crc);
                Map<String, String> metadata = wrong == null ? tryDecode(metadataBytes) : null;
                if (metadata == null) {
                    corruption.found(id, key, wrong == null ? "unreadable metadata" : wrong);
                    return CORRUPT;
                }
                referenced.set(id);
                return new KvEntry(value, metadata, expiration);
            } catch (SQLException e) {
                if (Conn.primaryCode(e) != Conn.SQLITE_CORRUPT) {
                    throw e;
                }
                // A damaged page of the database: a miss for this key, not a fault of every read.
                c.recover(e);
                corruption.found(-1, key, "SQLite found its database pages damaged");
                return CORRUPT;
            }
        });
        @SuppressWarnings("ReferenceEquality") // the sentinel itself
        boolean corrupt = entry == CORRUPT;
        return corrupt ? null : entry;
    }

    /** What a read of a corrupt entry returns inside the store; callers see a miss. */
    private static final KvEntry CORRUPT = new KvEntry(new byte[0], Map.of(), null);

    @Override
    public void put(String key, byte[] value, PutOptions options) {
        WellFormed.require("key", key);
        Objects.requireNonNull(value, "value");
        PutOptions opts = options == null ? PutOptions.NONE : options;
        if (opts.owner() != null) {
            WellFormed.require("owner", opts.owner());
        }
        long pages = (value.length + key.length() + 1024L) / budget.pageSize() + 1;
        if (pages > budget.maxPages() - budget.lowWaterPages()) {
            throw new StoreException("embedded store " + file + ": put " + key + " refused: a value of " + value.length
                    + " bytes is too large for the store's max size of " + mebibytes(budget.maxBytes()));
        }
        byte[] metadata = MetadataBytes.encode(opts.metadata());
        long crc = crc32c(value);
        long used = write("put", key, c -> {
            try {
                c.transaction(t -> putRow(t, key, value, crc, metadata, opts));
            } catch (SQLException e) {
                c.recover(e);
                if (Conn.primaryCode(e) != Conn.SQLITE_FULL || !atBudget(c, pages)) {
                    throw e;
                }
                // The budget is full and the background thread has not caught up: make room for this
                // value now, then try once more.
                evictLeastRecent(c, pages, Integer.MAX_VALUE);
                c.transaction(t -> putRow(t, key, value, crc, metadata, opts));
            }
            // a look at the budget now and then: the background round looks every second anyway
            return puts.incrementAndGet() % 32 == 0 ? usedPages(c) : 0L;
        });
        if (used > budget.highWaterPages()) {
            queueMaintenance();
        }
    }

    /**
     * One UPDATE of the row's metadata columns: the value, its size and checksum are not touched, so a
     * page re-rendered unchanged costs a small row write, not its body. Budget and faults as in
     * {@link #put}.
     */
    @Override
    public boolean replaceMetadata(String key, PutOptions options) {
        WellFormed.require("key", key);
        PutOptions opts = options == null ? PutOptions.NONE : options;
        if (opts.owner() != null) {
            WellFormed.require("owner", opts.owner());
        }
        byte[] metadata = MetadataBytes.encode(opts.metadata());
        long pages = (metadata.length + key.length() + 1024L) / budget.pageSize() + 1;
        long now = millis(clock.instant());
        long[] used = {0};
        boolean replaced = write("replace metadata of", key, c -> {
            boolean done;
            try {
                done = c.transaction(t -> replaceMetadataRow(t, key, metadata, opts, now));
            } catch (SQLException e) {
                c.recover(e);
                if (Conn.primaryCode(e) != Conn.SQLITE_FULL || !atBudget(c, pages)) {
                    throw e;
                }
                // the metadata grew past a full budget: make room as a put would, then once more
                evictLeastRecent(c, pages, Integer.MAX_VALUE);
                done = c.transaction(t -> replaceMetadataRow(t, key, metadata, opts, now));
            }
            used[0] = puts.incrementAndGet() % 32 == 0 ? usedPages(c) : 0L;
            return done;
        });
        if (used[0] > budget.highWaterPages()) {
            queueMaintenance();
        }
        return replaced;
    }

    private static boolean replaceMetadataRow(Conn c, String key, byte[] metadata, PutOptions opts, long now)
            throws SQLException {
        if (opts.owner() != null && !ownerExists(c, opts.owner())) {
            // its owner was evicted meanwhile: like a put with that owner, the entry is not kept
            PreparedStatement find = c.prepare(FIND);
            find.setString(1, key);
            long id;
            try (ResultSet rs = find.executeQuery()) {
                if (!rs.next()) {
                    return false;
                }
                id = rs.getLong(1);
                long expiration = rs.getLong(2);
                if (!rs.wasNull() && expiration <= now) {
                    return false;
                }
            }
            deleteRow(c, id);
            return true;
        }
        PreparedStatement ps = c.prepare(REPLACE_METADATA);
        ps.setBytes(1, metadata);
        ps.setLong(2, crc32c(metadata));
        if (opts.expiration() == null) {
            ps.setNull(3, Types.INTEGER);
        } else {
            ps.setLong(3, millis(opts.expiration()));
        }
        if (opts.owner() == null) {
            ps.setNull(4, Types.VARCHAR);
        } else {
            ps.setString(4, opts.owner());
        }
        ps.setString(5, key);
        ps.setLong(6, now);
        return ps.executeUpdate() == 1;
    }

    private Void putRow(Conn c, String key, byte[] value, long crc, byte[] metadata, PutOptions opts)
            throws SQLException {
        if (opts.owner() != null && !ownerExists(c, opts.owner())) {
            return null; // its owner was evicted meanwhile: the entry would have gone with it
        }
        boolean sameValue = sameValue(c, key, value, crc);
        PreparedStatement upsert = c.prepare(UPSERT);
        upsert.setString(1, key);
        bindRow(upsert, 2, metadata, opts, value.length, crc);
        long id;
        try (ResultSet rs = upsert.executeQuery()) {
            rs.next();
            id = rs.getLong(1);
        }
        if (sameValue) {
            return null; // a new expiration or metadata only (a page marked stale): the value stays as it is
        }
        if (value.length > 0) {
            PreparedStatement body = c.prepare(PUT_BODY);
            body.setLong(1, id);
            body.setBytes(2, value);
            body.executeUpdate();
        } else {
            update(c, DELETE_BODY, id);
        }
        return null;
    }

    /** Whether {@code key} holds exactly {@code value} already: same size, checksum and bytes. */
    private static boolean sameValue(Conn c, String key, byte[] value, long crc) throws SQLException {
        PreparedStatement ps = c.prepare(SIZE_AND_CRC);
        ps.setString(1, key);
        long id;
        try (ResultSet rs = ps.executeQuery()) {
            if (!rs.next() || rs.getLong(2) != value.length || rs.getLong(3) != crc) {
                return false;
            }
            id = rs.getLong(1);
        }
        if (value.length == 0) {
            return true;
        }
        PreparedStatement body = c.prepare(BODY);
        body.setLong(1, id);
        try (ResultSet rs = body.executeQuery()) {
            return rs.next() && Arrays.equals(rs.getBytes(1), value);
        }
    }

    private static boolean ownerExists(Conn c, String owner) throws SQLException {
        PreparedStatement ps = c.prepare(OWNER_EXISTS);
        ps.setString(1, owner);
        try (ResultSet rs = ps.executeQuery()) {
            return rs.next();
        }
    }

    /** Binds metadata, its checksum, expiration, size, crc, owner from parameter {@code i} on. */
    private static void bindRow(PreparedStatement ps, int i, byte[] metadata, PutOptions opts, long size, long crc)
            throws SQLException {
        ps.setBytes(i, metadata);
        ps.setLong(i + 1, crc32c(metadata));
        if (opts.expiration() == null) {
            ps.setNull(i + 2, Types.INTEGER);
        } else {
            ps.setLong(i + 2, millis(opts.expiration()));
        }
        ps.setLong(i + 3, size);
        ps.setLong(i + 4, crc);
        if (opts.owner() == null) {
            ps.setNull(i + 5, Types.VARCHAR);
        } else {
            ps.setString(i + 5, opts.owner());
        }
    }

    /** The checksum stored with each value and metadata: CRC32C, the CPU's own instruction where there is one. */
    static long crc32c(byte[] bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes);
        return crc.getValue();
    }

    /** What is wrong with a row read back, or null when its value and metadata match their size and checksums. */
    static String damage(byte[] metadata, long mcrc, byte[] value, long size, long crc) {
        if (metadata == null || crc32c(metadata) != mcrc) {
            return "metadata that does not match its checksum";
        }
        if (value.length != size) {
            return "a value of " + value.length + " bytes where " + size + " were stored";
        }
        return crc32c(value) != crc ? "a value that does not match its checksum" : null;
    }

    /** The metadata, or null when the bytes are not {@link MetadataBytes}. */
    static Map<String, String> tryDecode(byte[] metadata) {
        try {
            return MetadataBytes.decode(metadata);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    @Override
    public boolean delete(String key) {
        WellFormed.require("key", key);
        long now = millis(clock.instant());
        return write(
                "delete",
                key,
                c -> c.transaction(t -> {
                    PreparedStatement find = t.prepare(FIND);
                    find.setString(1, key);
                    long id;
                    boolean live;
                    try (ResultSet rs = find.executeQuery()) {
                        if (!rs.next()) {
                            return false;
                        }
                        id = rs.getLong(1);
                        long expiration = rs.getLong(2);
                        live = rs.wasNull() || expiration > now;
                    }
                    deleteRow(t, id);
                    return live; // an expired row may remain until the sweep: removed too, but reported as absent
                }));
    }

    private static void deleteRow(Conn c, long id) throws SQLException {
        update(c, DELETE_BODY, id);
        update(c, DELETE_ENTRY, id);
    }

    /** Deletes an entry the store itself drops (expired, evicted), and the entries it owns. */
    private static void drop(Conn c, long id, String key) throws SQLException {
        deleteRow(c, id);
        update(c, DELETE_OWNED_BODIES, key);
        update(c, DELETE_OWNED, key);
    }

    /** Runs {@code sql} with its one parameter. */
    private static void update(Conn c, String sql, Object parameter) throws SQLException {
        PreparedStatement ps = c.prepare(sql);
        ps.setObject(1, parameter);
        ps.executeUpdate();
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
            // A range on the key, not LIKE: LIKE is case-insensitive and treats % and _ as
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
                    Map<String, String> metadata = tryDecode(rs.getBytes(2));
                    if (metadata == null) {
                        corruption.found(rs.getLong(5), key, "unreadable metadata");
                        continue;
                    }
                    keys.add(new ListedKey(key, metadata, instant(rs, 3), rs.getLong(4)));
                }
            }
            return new ListPage(keys, null, true);
        });
    }

    /**
     * Degraded, with the reason, from a failed operation until one of the same kind succeeds, and for
     * ten minutes after a corrupt entry was found.
     */
    @Override
    public StoreHealth health() {
        StoreHealth h = health.current();
        String corrupt = corruption.recent();
        if (corrupt == null) {
            return h;
        }
        return StoreHealth.degraded(h.up() ? corrupt : h.reason() + "; " + corrupt);
    }

    /**
     * Deletes expired rows (and the rows they own) in batches of {@value #BATCH}, releasing the writer
     * between them. Returns how many rows went, owned ones not counted.
     */
    int sweepExpired() {
        int total = 0;
        while (true) {
            long now = millis(clock.instant());
            int deleted = write(
                    "sweep",
                    "expired entries",
                    c -> c.transaction(t -> {
                        PreparedStatement ps = t.prepare(EXPIRED);
                        ps.setLong(1, now);
                        ps.setInt(2, BATCH);
                        return dropAll(t, ps);
                    }));
            total += deleted;
            if (deleted < BATCH) {
                return total;
            }
        }
    }

    /** Drops every (id, key) row {@code query} returns; returns how many. */
    private static int dropAll(Conn c, PreparedStatement query) throws SQLException {
        List<Object[]> rows = new ArrayList<>();
        try (ResultSet rs = query.executeQuery()) {
            while (rs.next()) {
                rows.add(new Object[] {rs.getLong(1), rs.getString(2)});
            }
        }
        for (Object[] row : rows) {
            drop(c, (Long) row[0], (String) row[1]);
        }
        return rows.size();
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
            // Retried at the next run (health says why); an exception escaping would cancel the schedule.
            log.debug("embedded store {}: sweeping expired entries failed: {}", file, e.getMessage());
        }
    }

    /**
     * The background thread's round: removes entries found corrupt, keeps the budget, and while writes
     * fail tries one small write so that health turns up once they work.
     */
    private void maintain() {
        maintenanceQueued.set(false);
        try {
            removeCorrupt();
            keepBudget();
            if (health.writesFailing()) {
                long now = millis(clock.instant());
                write("probe", "write", c -> {
                    PreparedStatement ps = c.prepare(PROBE);
                    ps.setLong(1, now);
                    return ps.executeUpdate();
                });
            }
        } catch (IllegalStateException e) {
            // closed meanwhile
        } catch (RuntimeException e) {
            // Retried at the next round (health says why); an exception escaping would cancel the schedule.
            log.debug("embedded store {}: maintenance failed: {}", file, e.getMessage());
        }
    }

    /** Deletes the entries found corrupt since the last round, with the entries they own. */
    void removeCorrupt() {
        List<Corruption.Found> found = corruption.drain();
        if (!found.isEmpty()) {
            write(
                    "remove",
                    found.size() + " corrupt entries",
                    c -> c.transaction(t -> {
                        for (Corruption.Found f : found) {
                            // the row may be unreadable: by key, and only if it is still the one found corrupt
                            PreparedStatement ps = t.prepare(FIND);
                            ps.setString(1, f.key());
                            Long id = null;
                            try (ResultSet rs = ps.executeQuery()) {
                                if (rs.next()) {
                                    id = rs.getLong(1);
                                }
                            }
                            if (id != null && (f.id() < 0 || id == f.id())) {
                                drop(t, id, f.key());
                            }
                        }
                        return null;
                    }));
        }
    }

    /**
     * Above {@value #HIGH_WATER_PERCENT} % of the budget, evicts the least recently read entries in
     * batches (the writer is free between them) down to {@value #LOW_WATER_PERCENT} %; then gives the
     * file's free pages back to the filesystem when it is larger than the budget (after the budget was
     * lowered). Returns how many entries were evicted.
     */
    int keepBudget() {
        int evicted = 0;
        int idle = 0;
        while (true) {
            long used = measure(EmbeddedStore::usedPages);
            if (used <= budget.lowWaterPages() || (evicted == 0 && used <= budget.highWaterPages())) {
                break;
            }
            int n = write(
                    "evict",
                    "entries not read lately",
                    c -> evictLeastRecent(c, used - budget.lowWaterPages(), 4 * BATCH));
            // None went: every entry looked at was read lately (spared and unmarked: the next look takes
            // them), or there is nothing left to evict (owned entries only).
            idle = n == 0 ? idle + 1 : 0;
            if (idle > 50) {
                break;
            }
            evicted += n;
        }
        if (evicted > 0) {
            log.debug(
                    "embedded store {}: evicted {} entries not read lately to stay under {}",
                    file,
                    evicted,
                    mebibytes(budget.maxBytes()));
        }
        boolean shrink = measure(c -> pragma(c, PAGE_COUNT)) > budget.maxPages();
        if (shrink || evicted > 0) {
            write("shrink", "the file", c -> {
                if (shrink) {
                    // The driver steps the pragma once, and each step gives one free page back.
                    c.transaction(t -> {
                        try (Statement s = t.connection().createStatement()) {
                            long over = pragma(t, PAGE_COUNT) - budget.maxPages();
                            for (long i = Math.min(over, pragma(t, FREE_PAGES)); i > 0; i--) {
                                s.execute("PRAGMA incremental_vacuum(1)");
                            }
                        }
                        return null;
                    });
                }
                try (Statement s = c.connection().createStatement()) {
                    // it could not be set below the file's size at open
                    s.execute("PRAGMA max_page_count = " + budget.maxPages());
                    // Eviction wrote many pages to the WAL: copy them into the file now, so the WAL goes
                    // back to its share (and, after a shrink, the file is cut at its new end).
                    s.execute("PRAGMA wal_checkpoint(" + (shrink ? "TRUNCATE" : "PASSIVE") + ")");
                }
                return null;
            });
        }
        return evicted;
    }

    /**
     * One eviction transaction (the caller holds the writer): the CLOCK's hand walks the entries in id
     * order, sparing (and unmarking) those read since it last passed, dropping the others, until
     * {@code pages} pages are free, {@value #BATCH} entries went or it looked at {@code maxLooked}.
     * Returns how many entries went.
     */
    private int evictLeastRecent(Conn c, long pages, int maxLooked) throws SQLException {
        return c.transaction(t -> {
            int total = 0;
            int looked = 0;
            int wraps = 0;
            long before = pragma(t, FREE_PAGES);
            PreparedStatement ps = t.prepare(AFTER_HAND);
            while (total < BATCH && looked < maxLooked && pragma(t, FREE_PAGES) - before < pages) {
                ps.setLong(1, hand);
                ps.setInt(2, EVICT_STEP);
                List<Object[]> rows = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        rows.add(new Object[] {rs.getLong(1), rs.getString(2)});
                    }
                }
                if (rows.isEmpty()) {
                    if (hand == 0 || ++wraps > 2) {
                        break; // nothing evictable left (owned entries only), or twice round: done
                    }
                    hand = 0;
                    continue;
                }
                looked += rows.size();
                for (Object[] row : rows) {
                    long id = (Long) row[0];
                    hand = id;
                    if (!referenced.testAndClear(id)) {
                        drop(t, id, (String) row[1]);
                        total++;
                    }
                }
            }
            return total;
        });
    }

    /** Pages holding data: the file's pages minus its free list. */
    private static long usedPages(Conn c) throws SQLException {
        return pragma(c, USED_PAGES);
    }

    /** Whether the file cannot grow by {@code pages} more pages without passing the budget. */
    private boolean atBudget(Conn c, long pages) {
        try {
            return pragma(c, PAGE_COUNT) + pages > budget.maxPages();
        } catch (SQLException e) {
            return false;
        }
    }

    private static long pragma(Conn c, String sql) throws SQLException {
        try (ResultSet rs = c.prepare(sql).executeQuery()) {
            return rs.next() ? rs.getLong(1) : 0;
        }
    }

    /** Past the high-water mark: the background thread evicts now rather than at its next round. */
    private void queueMaintenance() {
        if (maintenanceQueued.compareAndSet(false, true)) {
            try {
                background.execute(this::maintain);
            } catch (RejectedExecutionException e) {
                // closed
            }
        }
    }

    /** Stops the background thread, checkpoints the WAL into the database file and closes every connection. */
    @Override
    public void close() {
        lifecycle.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            background.shutdownNow();
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
        try (Statement s = c.connection().createStatement();
                ResultSet rs = s.executeQuery("PRAGMA wal_checkpoint(TRUNCATE)")) {
            return rs.next() && rs.getInt(1) == 0;
        }
    }

    // --- plumbing ------------------------------------------------------------------------------

    private <T> T read(String op, String key, Conn.Work<T> work) {
        lifecycle.readLock().lock();
        try {
            ensureOpen();
            Conn c = borrowReader();
            try {
                T result = work.run(c);
                health.readSucceeded();
                return result;
            } catch (SQLException e) {
                c.recover(e);
                String why = reason(e, false);
                health.readFailed(why);
                throw fault(op, key, why, e);
            } finally {
                readers.add(c);
            }
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    private <T> T write(String op, String key, Conn.Work<T> work) {
        lifecycle.readLock().lock();
        try {
            ensureOpen();
            writerLock.lock();
            try {
                T result = work.run(writer);
                health.writeSucceeded();
                return result;
            } catch (SQLException e) {
                writer.recover(e);
                String why = reason(e, Conn.primaryCode(e) == Conn.SQLITE_FULL && atBudget(writer, 1));
                health.writeFailed(why);
                throw fault(op, key, why, e);
            } finally {
                writerLock.unlock();
            }
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /** Reads something of the writer's (a pragma) without counting as a write for health. */
    private <T> T measure(Conn.Work<T> work) {
        lifecycle.readLock().lock();
        try {
            ensureOpen();
            writerLock.lock();
            try {
                return work.run(writer);
            } catch (SQLException e) {
                writer.recover(e);
                throw fault("measure", "the file", reason(e, false), e);
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

    private StoreException fault(String op, String key, String why, SQLException e) {
        return new StoreException(
                "embedded store " + file + ": " + op + " " + key + " failed: " + why + " (" + e.getMessage() + ")", e);
    }

    /**
     * A few stable words on what {@code e} means for an operator (no key: one reason per state).
     *
     * @param atBudget SQLITE_FULL came from the store's own size limit, not the disk
     */
    private String reason(SQLException e, boolean atBudget) {
        if (atBudget) {
            return "the store is full at its max size of " + mebibytes(budget.maxBytes());
        }
        return switch (Conn.primaryCode(e)) {
            case Conn.SQLITE_FULL -> "disk full";
            case Conn.SQLITE_BUSY, Conn.SQLITE_LOCKED -> "database locked by another process";
            case Conn.SQLITE_IOERR -> "I/O error";
            case Conn.SQLITE_CORRUPT, Conn.SQLITE_NOTADB -> "database file corrupt (run: regen store check DIR)";
            case Conn.SQLITE_READONLY -> "database is read-only";
            case Conn.SQLITE_CANTOPEN -> "cannot open the database file";
            case Conn.SQLITE_NOMEM -> "out of memory";
            default -> "database error";
        };
    }

    private static final String[] LIST_SQL = {
        listSqlText(false, false), listSqlText(false, true), listSqlText(true, false), listSqlText(true, true),
    };

    private static String listSql(boolean afterCursor, boolean bounded) {
        return LIST_SQL[(afterCursor ? 2 : 0) + (bounded ? 1 : 0)];
    }

    private static String listSqlText(boolean afterCursor, boolean bounded) {
        return "SELECT e.key, e.metadata, e.expiration, e.size, e.id FROM entries e WHERE e.key "
                + (afterCursor ? ">" : ">=") + " ?" + (bounded ? " AND e.key < ?" : "") + " AND " + LIVE
                + " ORDER BY e.key LIMIT ?";
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

    static String mebibytes(long bytes) {
        return bytes >= 10L << 30
                ? (bytes >> 30) + " GiB"
                : String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
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
}
