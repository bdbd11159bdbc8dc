package dev.regen.store.embedded;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One SQLite connection with its prepared statements, used by one thread at a time, that heals
 * itself after a fault: a statement that failed is never used again (after SQLITE_FULL, the JDBC
 * driver's statement answers "statement is not executing" forever), a transaction left open is
 * rolled back, and after a fault of the connection itself (I/O error, corruption, a file that went
 * away) the connection is closed and opened again on its next use.
 */
final class Conn {
    private static final Logger log = LoggerFactory.getLogger(Conn.class);

    static final int SQLITE_BUSY = 5;
    static final int SQLITE_LOCKED = 6;
    static final int SQLITE_NOMEM = 7;
    static final int SQLITE_READONLY = 8;
    static final int SQLITE_IOERR = 10;
    static final int SQLITE_CORRUPT = 11;
    static final int SQLITE_FULL = 13;
    static final int SQLITE_CANTOPEN = 14;
    static final int SQLITE_NOTADB = 26;

    private static final int BUSY_TIMEOUT_MILLIS = 5_000;

    private final Path file;
    private final List<String> pragmas;
    private Connection connection;
    private final Map<String, PreparedStatement> statements = new HashMap<>();
    private boolean inTransaction;

    /**
     * @param pragmas run after each (re)open, e.g. {@code query_only = 1}
     */
    private Conn(Path file, List<String> pragmas) {
        this.file = file;
        this.pragmas = List.copyOf(pragmas);
    }

    /** Opens a connection to {@code file} now, so that a database that cannot be opened fails here. */
    static Conn open(Path file, List<String> pragmas) throws SQLException {
        Conn c = new Conn(file, pragmas);
        c.connection();
        return c;
    }

    /** The connection, opened again if a fault closed it. */
    Connection connection() throws SQLException {
        if (connection == null) {
            Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA busy_timeout = " + BUSY_TIMEOUT_MILLIS); // another process, or a checkpoint
                for (String pragma : pragmas) {
                    s.execute("PRAGMA " + pragma);
                }
            } catch (SQLException e) {
                closeQuietly(c);
                throw e;
            }
            connection = c;
        }
        return connection;
    }

    PreparedStatement prepare(String sql) throws SQLException {
        PreparedStatement ps = statements.get(sql);
        if (ps == null) {
            ps = connection().prepareStatement(sql);
            statements.put(sql, ps);
        }
        return ps;
    }

    /** Runs {@code work} in one write transaction: all of it or none of it. */
    <T> T transaction(Work<T> work) throws SQLException {
        prepare("BEGIN IMMEDIATE").execute();
        inTransaction = true;
        T result = work.run(this);
        prepare("COMMIT").execute();
        inTransaction = false;
        return result;
    }

    @FunctionalInterface
    interface Work<T> {
        T run(Conn c) throws SQLException;
    }

    /**
     * Puts the connection back in a usable state after {@code e}: every prepared statement is dropped
     * (they are prepared again on use), an open transaction is rolled back, and the connection itself
     * is closed when the fault may have left it unusable.
     */
    void recover(SQLException e) {
        dropStatements();
        if (connection == null) {
            return;
        }
        boolean reopen = connectionFault(e);
        if (inTransaction && !reopen) {
            try (Statement s = connection.createStatement()) {
                s.execute("ROLLBACK");
            } catch (SQLException r) {
                // "no transaction is active": SQLite rolled back by itself (SQLITE_FULL does); else start afresh
                reopen = !String.valueOf(r.getMessage()).contains("no transaction is active");
            }
        }
        inTransaction = false;
        if (reopen) {
            log.debug("reopening the connection to {} after: {}", file, e.getMessage());
            closeQuietly(connection);
            connection = null;
        }
    }

    /** Whether {@code e} may have left the connection itself broken, not just one statement. */
    static boolean connectionFault(SQLException e) {
        int code = primaryCode(e);
        return code == SQLITE_IOERR
                || code == SQLITE_CORRUPT
                || code == SQLITE_NOTADB
                || code == SQLITE_CANTOPEN
                || code == SQLITE_NOMEM
                || String.valueOf(e.getMessage()).contains("closed");
    }

    /** SQLite's primary result code (the low byte of an extended code), or 0 when not from SQLite. */
    static int primaryCode(SQLException e) {
        return e.getErrorCode() & 0xFF;
    }

    void closeQuietly() {
        dropStatements();
        if (connection != null) {
            closeQuietly(connection);
            connection = null;
        }
    }

    private void dropStatements() {
        for (PreparedStatement ps : statements.values()) {
            try {
                ps.close();
            } catch (SQLException ignored) {
                // dropping it anyway
            }
        }
        statements.clear();
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException e) {
            log.debug("closing a connection failed: {}", e.getMessage());
        }
    }
}
