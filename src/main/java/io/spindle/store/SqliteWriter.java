package io.spindle.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import javax.sql.DataSource;

/**
 * SQLite's single writer, with group commit. A write joins a queue; whichever caller holds the
 * lock runs every queued write in one transaction, each inside a savepoint so that a failing write
 * rolls back alone, and commits once; each caller returns when its write committed (or failed).
 * One write at a time under a lock spent a quarter of the lock's time handing it to the next
 * waiting thread, and a commit per write; a group pays both once.
 *
 * <p>The transaction is spelled out: {@code BEGIN IMMEDIATE} takes SQLite's write lock at once (a
 * transaction begun deferred that reads first fails with SQLITE_BUSY, without waiting, when it then
 * writes on a stale snapshot), and the driver is not left to begin the next one after each commit.
 */
final class SqliteWriter {
    /** A waiting write: done once its group committed or it failed. */
    private static final class Pending<T> {
        final Database.Work<T> work;
        final CountDownLatch done = new CountDownLatch(1);
        T result;
        Throwable failure;

        Pending(Database.Work<T> work) {
            this.work = work;
        }

        void run(Connection c) throws SQLException {
            result = work.run(c);
        }
    }

    private final DataSource pool;
    private final ReentrantLock lock = new ReentrantLock();
    private final ConcurrentLinkedQueue<Pending<?>> queue = new ConcurrentLinkedQueue<>();

    SqliteWriter(DataSource pool) {
        this.pool = pool;
    }

    <T> T write(Database.Work<T> work) {
        Pending<T> mine = new Pending<>(work);
        queue.add(mine);
        boolean interrupted = false;
        combine(mine);
        while (mine.done.getCount() > 0) {
            // another caller holds the lock and may take this write with its group
            try {
                mine.done.await(1, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                interrupted = true; // the write may commit yet: wait for it all the same
            }
            combine(mine);
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return switch (mine.failure) {
            case null -> mine.result;
            case RuntimeException e -> throw e;
            case Error e -> throw e;
            case SQLException e -> throw new StoreException(e);
            default -> throw new IllegalStateException(mine.failure);
        };
    }

    /**
     * Commits the queued writes as one group when the lock is free, until the caller's own write is
     * done: a caller never keeps committing others' writes under a steady load. Writers whose group
     * is left queued take the lock themselves when they wake.
     */
    private void combine(Pending<?> mine) {
        while (mine.done.getCount() > 0 && lock.tryLock()) {
            try {
                List<Pending<?>> group = takeAll();
                if (!group.isEmpty()) {
                    commit(group);
                }
            } finally {
                lock.unlock();
            }
        }
    }

    private List<Pending<?>> takeAll() {
        List<Pending<?>> group = new ArrayList<>();
        for (Pending<?> p = queue.poll(); p != null; p = queue.poll()) {
            group.add(p);
        }
        return group;
    }

    private void commit(List<Pending<?>> group) {
        boolean alone = group.size() == 1;
        try (Connection c = pool.getConnection()) {
            execute(c, "BEGIN IMMEDIATE");
            try {
                for (Pending<?> p : group) {
                    if (alone) {
                        p.run(c);
                    } else {
                        runInSavepoint(c, p);
                    }
                }
                execute(c, "COMMIT");
            } catch (SQLException | RuntimeException | Error e) {
                rollback(c, e);
                throw e;
            }
        } catch (SQLException | RuntimeException | Error e) {
            // nothing of the group committed: every write fails, with its own failure if it had one
            for (Pending<?> p : group) {
                if (p.failure == null) {
                    p.failure = e;
                }
            }
        } finally {
            group.forEach(p -> p.done.countDown());
        }
    }

    private static void runInSavepoint(Connection c, Pending<?> p) throws SQLException {
        execute(c, "SAVEPOINT write");
        try {
            p.run(c);
        } catch (SQLException | RuntimeException | Error e) {
            // an Error too (a StackOverflowError in one write): it fails that write, not the group
            p.failure = e;
            execute(c, "ROLLBACK TO write");
        }
        execute(c, "RELEASE write");
    }

    /** Rolls back; a failure to do so (SQLite may have rolled back already) is kept with the cause. */
    private static void rollback(Connection c, Throwable cause) {
        try {
            execute(c, "ROLLBACK");
        } catch (SQLException e) {
            cause.addSuppressed(e);
        }
    }

    private static void execute(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }
}
