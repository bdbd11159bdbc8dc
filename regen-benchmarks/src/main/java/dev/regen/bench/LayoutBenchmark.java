package dev.regen.bench;

import dev.regen.store.embedded.EmbeddedStore;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.InstantSource;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Storage layouts for the embedded store, compared on what a page served from the store costs: a
 * random read of one of 5,000 pages of 20 KB (the working set of {@code bench/l2.sh}) with its
 * metadata, the checksum verified where the layout has one. Each candidate reads the same pages the
 * same way (one prepared statement per lookup, values copied into a new array: the store SPI hands
 * out {@code byte[]}).
 * <ul>
 *   <li>{@link #embeddedStore}: the store as built (SQLite: small rows of keys and metadata, values
 *       in their own table, CRC32C checked);
 *   <li>{@link #sqliteRow}: the value in the row with the key and metadata (the layout before);
 *   <li>{@link #sqliteSplit}: the store's layout and query alone, without the store around it;
 *   <li>{@link #sqliteMmap}: the same read through SQLite's memory-mapped I/O;
 *   <li>{@link #filePerValue}: keys and metadata in SQLite, each value in its own file (nginx);
 *   <li>{@link #segmentMmap}: keys, metadata and an offset in SQLite, values appended to one file read
 *       through a memory map (a log-structured store).
 * </ul>
 * Run: {@code java -jar regen-benchmarks/target/benchmarks.jar LayoutBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class LayoutBenchmark {
    static final int PAGES = 5000;
    static final String METADATA = "e=%22x%22&h=Content-Type:text/html; charset=utf-8%0A&r=1764662400000&s=200&v=60000";

    private Path dir;
    private EmbeddedStore store;
    private Connection db;
    private PreparedStatement row;
    private PreparedStatement splitRow;
    private PreparedStatement mmapRow;
    private PreparedStatement index;
    private MappedByteBuffer segment;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("regen-layout");
        store = EmbeddedStore.open(dir.resolve("store"), InstantSource.system(), 1L << 30);
        db = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("layouts.db"));
        try (Statement s = db.createStatement()) {
            s.execute("PRAGMA journal_mode = WAL");
            s.execute("PRAGMA synchronous = NORMAL");
            s.execute("CREATE TABLE row_layout (key TEXT PRIMARY KEY, metadata TEXT NOT NULL, expiration INTEGER,"
                    + " size INTEGER NOT NULL, value BLOB NOT NULL)");
            s.execute("CREATE TABLE index_layout (key TEXT PRIMARY KEY, metadata TEXT NOT NULL, expiration INTEGER,"
                    + " offset INTEGER NOT NULL, size INTEGER NOT NULL, crc INTEGER NOT NULL)");
        }
        Path segmentFile = dir.resolve("segment");
        long offset = 0;
        db.setAutoCommit(false);
        try (FileChannel out = FileChannel.open(segmentFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                PreparedStatement putRow = db.prepareStatement("INSERT INTO row_layout VALUES (?, ?, ?, ?, ?)");
                PreparedStatement putIndex =
                        db.prepareStatement("INSERT INTO index_layout VALUES (?, ?, ?, ?, ?, ?)")) {
            for (int i = 0; i < PAGES; i++) {
                byte[] body = Pages.page("/p/" + i).body();
                String key = "page:/p/" + i;
                store.put(
                        key,
                        body,
                        dev.regen.store.PutOptions.metadata(java.util.Map.of("h", "Content-Type:text/html")));
                putRow.setString(1, key);
                putRow.setString(2, METADATA);
                putRow.setNull(3, Types.INTEGER);
                putRow.setLong(4, body.length);
                putRow.setBytes(5, body);
                putRow.executeUpdate();
                putIndex.setString(1, key);
                putIndex.setString(2, METADATA);
                putIndex.setNull(3, Types.INTEGER);
                putIndex.setLong(4, offset);
                putIndex.setLong(5, body.length);
                putIndex.setLong(6, crc(body));
                putIndex.executeUpdate();
                out.write(ByteBuffer.wrap(body), offset);
                offset += body.length;
                Files.write(dir.resolve("v" + i), body);
            }
        }
        db.commit();
        db.setAutoCommit(true);
        try (FileChannel in = FileChannel.open(segmentFile, StandardOpenOption.READ)) {
            segment = in.map(FileChannel.MapMode.READ_ONLY, 0, offset);
        }
        row = db.prepareStatement("SELECT metadata, expiration, value FROM row_layout WHERE key = ?"
                + " AND (expiration IS NULL OR expiration > ?)");
        index = db.prepareStatement("SELECT metadata, expiration, offset, size, crc FROM index_layout WHERE key = ?"
                + " AND (expiration IS NULL OR expiration > ?)");
        String split = "SELECT e.metadata, e.expiration, e.size, e.crc, b.value FROM entries e"
                + " LEFT JOIN bodies b ON b.id = e.id WHERE e.key = ? AND (e.expiration IS NULL OR e.expiration > ?)";
        splitRow = DriverManager.getConnection(
                        "jdbc:sqlite:" + dir.resolve("store").resolve("regen.db"))
                .prepareStatement(split);
        Connection mapped = DriverManager.getConnection(
                "jdbc:sqlite:" + dir.resolve("store").resolve("regen.db"));
        try (Statement s = mapped.createStatement()) {
            s.execute("PRAGMA mmap_size = " + (1L << 30));
        }
        mmapRow = mapped.prepareStatement(split);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws SQLException {
        store.close();
        db.close();
        mmapRow.getConnection().close();
        splitRow.getConnection().close();
    }

    private static String key() {
        return "page:/p/" + ThreadLocalRandom.current().nextInt(PAGES);
    }

    @Benchmark
    public Object embeddedStore() {
        return store.get(key());
    }

    @Benchmark
    public byte[] sqliteRow() throws SQLException {
        row.setString(1, key());
        row.setLong(2, System.currentTimeMillis());
        try (ResultSet rs = row.executeQuery()) {
            rs.next();
            rs.getString(1);
            rs.getLong(2);
            return rs.getBytes(3);
        }
    }

    @Benchmark
    public byte[] sqliteSplit() throws SQLException {
        return split(splitRow);
    }

    @Benchmark
    public byte[] sqliteMmap() throws SQLException {
        return split(mmapRow);
    }

    private static byte[] split(PreparedStatement ps) throws SQLException {
        ps.setString(1, key());
        ps.setLong(2, System.currentTimeMillis());
        try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            rs.getBytes(1);
            rs.getLong(2);
            byte[] value = rs.getBytes(5);
            return crc(value) == rs.getLong(4) ? value : null;
        }
    }

    @Benchmark
    public byte[] filePerValue() throws Exception {
        String key = key();
        index.setString(1, key);
        index.setLong(2, System.currentTimeMillis());
        long crc;
        try (ResultSet rs = index.executeQuery()) {
            rs.next();
            rs.getString(1);
            rs.getLong(2);
            crc = rs.getLong(5);
        }
        try (FileChannel in = FileChannel.open(dir.resolve("v" + key.substring("page:/p/".length())))) {
            ByteBuffer value = ByteBuffer.allocate((int) in.size());
            in.read(value, 0);
            return crc(value.array()) == crc ? value.array() : null;
        }
    }

    @Benchmark
    public byte[] segmentMmap() throws SQLException {
        index.setString(1, key());
        index.setLong(2, System.currentTimeMillis());
        try (ResultSet rs = index.executeQuery()) {
            rs.next();
            rs.getString(1);
            rs.getLong(2);
            byte[] value = new byte[rs.getInt(4)];
            segment.get((int) rs.getLong(3), value);
            return crc(value) == rs.getLong(5) ? value : null;
        }
    }

    private static long crc(byte[] value) {
        CRC32C crc = new CRC32C();
        crc.update(value);
        return crc.getValue();
    }
}
