package io.spindle.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;
import com.zaxxer.hikari.metrics.MetricsTrackerFactory;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import org.flywaydb.core.Flyway;

/**
 * A pooled connection to SQLite or PostgreSQL with its migrations applied. Reads run in
 * auto-commit; each write runs in a transaction. On SQLite, writes go through {@link SqliteWriter}:
 * SQLite has one writer at a time, and queueing in Java is fairer and cheaper than SQLite's
 * busy-retry loop.
 */
public final class Database implements AutoCloseable {

    /**
     * Where SQLite and PostgreSQL differ for us, in one place. SQLite has one writer at a time, so it needs no row locks
     * and takes the {@code FOR ...} clauses as nothing; its commits never wait for the disk ({@code synchronous=NORMAL}).
     */
    public enum Dialect {
        SQLITE("classpath:db/sqlite", "", "", "") {
            @Override
            void commitWithoutWaitingForDisk(Connection c) {
            }

            @Override
            void serialize(Connection c, long key) {
            }
        },
        POSTGRESQL("classpath:db/postgresql", " FOR UPDATE", " FOR SHARE", " FOR UPDATE SKIP LOCKED") {
            @Override
            void commitWithoutWaitingForDisk(Connection c) throws SQLException {
                Sql.execute(c, "SET LOCAL synchronous_commit = off");
            }

            @Override
            void serialize(Connection c, long key) throws SQLException {
                Sql.execute(c, "SELECT pg_advisory_xact_lock(?)", key);
            }
        };

        final String migrations;
        /** Appended to a SELECT: locks the rows read until the transaction ends. */
        final String forUpdate;
        /** Appended to a SELECT: keeps the rows read from changing until the transaction ends. */
        final String forShare;
        /** Appended to a SELECT: locks the rows read, passing over those another transaction holds. */
        final String forUpdateSkipLocked;

        Dialect(String migrations, String forUpdate, String forShare, String forUpdateSkipLocked) {
            this.migrations = migrations;
            this.forUpdate = forUpdate;
            this.forShare = forShare;
            this.forUpdateSkipLocked = forUpdateSkipLocked;
        }

        /** This transaction's commit returns before its log reaches the disk (a database crash may lose it, nothing else). */
        abstract void commitWithoutWaitingForDisk(Connection c) throws SQLException;

        /** Transactions that call this with the same key run one after the other from here on. */
        abstract void serialize(Connection c, long key) throws SQLException;
    }

    @FunctionalInterface
    public interface Work<T> {
        T run(Connection connection) throws SQLException;
    }

    private final HikariDataSource pool;
    private final Dialect dialect;
    /** SQLite's writes, one transaction at a time (group commit); null on PostgreSQL. */
    private final SqliteWriter sqliteWriter;
    /** What closing releases besides the pool: SQLite's data directory lock. */
    private final Runnable release;

    private Database(HikariDataSource pool, Dialect dialect, Runnable release) {
        this.pool = pool;
        this.dialect = dialect;
        this.release = release;
        this.sqliteWriter = dialect == Dialect.SQLITE ? new SqliteWriter(pool) : null;
        try {
            Flyway.configure().dataSource(pool).locations(dialect.migrations).load().migrate();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * SQLite in {@code dataDir/spindle.db}: WAL, so an answered write survives a kill -9. The
     * directory stays locked to this process until {@link #close} ({@link DataDir}).
     *
     * @throws DataDir.Unusable when the directory cannot be created, written or locked
     */
    public static Database sqlite(Path dataDir) {
        DataDir dir = DataDir.open(dataDir);
        try {
            return sqlite(dir);
        } catch (RuntimeException e) {
            dir.close();
            throw e;
        }
    }

    private static Database sqlite(DataDir dir) {
        HikariConfig config = new HikariConfig();
        config.setPoolName("spindle-sqlite");
        config.setJdbcUrl("jdbc:sqlite:" + dir.databaseFile());
        config.addDataSourceProperty("journal_mode", "WAL");
        // NORMAL in WAL mode loses nothing on a process crash; only a power cut can drop the last commits.
        config.addDataSourceProperty("synchronous", "NORMAL");
        config.addDataSourceProperty("busy_timeout", "30000");
        config.addDataSourceProperty("foreign_keys", "true");
        config.setMaximumPoolSize(8);
        return new Database(new HikariDataSource(config), Dialect.SQLITE, dir::close);
    }

    /** PostgreSQL from a {@code postgresql://user:pass@host:port/db} or {@code jdbc:postgresql://} URL. */
    public static Database postgres(String url, int poolSize) {
        return postgres(url, poolSize, Duration.ofSeconds(5));
    }

    /**
     * {@link #postgres(String, int)} whose callers wait at most {@code wait} for a pooled connection; past it a call
     * fails with {@link StoreException#noConnection()}, unless it runs {@link #patiently}.
     */
    public static Database postgres(String url, int poolSize, Duration wait) {
        HikariConfig config = new HikariConfig();
        config.setPoolName("spindle-postgres");
        if (url.startsWith("jdbc:")) {
            config.setJdbcUrl(url);
        } else {
            URI uri = URI.create(url);
            int port = uri.getPort() < 0 ? 5432 : uri.getPort();
            String query = uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery();
            config.setJdbcUrl("jdbc:postgresql://" + uri.getHost() + ":" + port + uri.getRawPath() + query);
            if (uri.getRawUserInfo() != null) {
                String[] userInfo = uri.getRawUserInfo().split(":", 2);
                config.setUsername(URLDecoder.decode(userInfo[0], StandardCharsets.UTF_8));
                if (userInfo.length > 1) {
                    config.setPassword(URLDecoder.decode(userInfo[1], StandardCharsets.UTF_8));
                }
            }
        }
        // Flyway holds two connections while it migrates PostgreSQL; a pool of one would wait for itself.
        config.setMaximumPoolSize(Math.max(2, poolSize));
        // Open connections as load needs them (idle ones close after 10 minutes) rather than holding the
        // whole pool open from the start: several nodes (and test suites) share one server's connection limit.
        config.setMinimumIdle(Math.min(2, poolSize));
        // Fail fast when the database is away or the pool busy, so /readyz and requests answer within seconds.
        config.setConnectionTimeout(Math.max(250, wait.toMillis()));
        return new Database(new HikariDataSource(config), Dialect.POSTGRESQL, () -> { });
    }

    public Dialect dialect() {
        return dialect;
    }

    /** Makes the pool report its connections (in use, idle, waited for, timed out) to {@code tracker}; once. */
    public void measurePool(MetricsTrackerFactory tracker) {
        pool.setMetricsTrackerFactory(tracker);
    }

    private static final ThreadLocal<Boolean> PATIENT = ThreadLocal.withInitial(() -> false);

    /**
     * Runs {@code work} with every call of this thread waiting for a pooled connection as long as it takes, instead of
     * failing once the pool stayed busy past its wait: background work (a run, an ingestion) slows down under load but
     * never fails for it. A closed pool still fails at once.
     */
    public static void patiently(Runnable work) {
        PATIENT.set(true);
        try {
            work.run();
        } finally {
            PATIENT.remove();
        }
    }

    /** Whether calls are waiting for a pooled connection right now: this node works at its pool's limit. */
    public boolean saturated() {
        HikariPoolMXBean stats = pool.getHikariPoolMXBean();
        return stats != null && stats.getThreadsAwaitingConnection() > 0;
    }

    private Connection connection() throws SQLException {
        while (true) {
            try {
                return pool.getConnection();
            } catch (SQLTransientConnectionException busy) {
                if (!PATIENT.get() || pool.isClosed()) {
                    throw busy;
                }
            }
        }
    }

    /** A connection held for long (the LISTEN connection); it goes back to the pool when closed. */
    Connection dedicatedConnection() throws SQLException {
        return pool.getConnection();
    }

    /**
     * A pooled connection with a transaction begun, for a write that spans more than one call (a
     * file streamed into PostgreSQL). Give it back with {@link #release}, committed or not.
     */
    Connection transaction() {
        try {
            Connection c = connection();
            c.setAutoCommit(false);
            return c;
        } catch (SQLException e) {
            throw new StoreException(e);
        }
    }

    /** Rolls back what a {@link #transaction} did not commit and hands its connection back to the pool. */
    static void release(Connection c) {
        try (c) {
            c.rollback();
            c.setAutoCommit(true);
        } catch (SQLException e) {
            // a broken connection: closing it above lets the pool discard it
        }
    }

    public <T> T read(Work<T> work) {
        try (Connection c = connection()) {
            return work.run(c);
        } catch (SQLException e) {
            throw new StoreException(e);
        }
    }

    public <T> T write(Work<T> work) {
        if (sqliteWriter != null) {
            return sqliteWriter.write(work);
        }
        try (Connection c = connection()) {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException | Error e) {
                // an Error too: setAutoCommit(true) below would otherwise commit the half-done transaction
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new StoreException(e);
        }
    }

    /**
     * A write of one statement, atomic by itself: on PostgreSQL it runs without a transaction around it, which saves
     * the round trip of a COMMIT (SQLite's writes all go through its writer).
     */
    public <T> T writeOne(Work<T> work) {
        if (sqliteWriter != null) {
            return sqliteWriter.write(work);
        }
        return read(work);
    }

    @Override
    public void close() {
        pool.close();
        release.run();
    }
}
