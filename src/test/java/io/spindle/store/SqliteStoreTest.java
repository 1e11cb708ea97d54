package io.spindle.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store contract on SQLite, one data directory per test. */
class SqliteStoreTest extends StoreContract {
    @TempDir
    Path dataDir;

    @Override
    protected Database openDatabase() {
        return Database.sqlite(dataDir);
    }

    @Test
    void databaseIsOneFileInWalMode() {
        assertThat(db.dialect()).isEqualTo(Database.Dialect.SQLITE);
        assertThat(Files.isRegularFile(dataDir.resolve("spindle.db"))).isTrue();
        String mode = db.read(c -> {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("PRAGMA journal_mode")) {
                rs.next();
                return rs.getString(1);
            }
        });
        assertThat(mode).isEqualToIgnoringCase("wal");
    }

    @Test
    void writesWaitingTogetherCommitTogetherAndAFailingOneRollsBackAlone() throws Exception {
        db.write(c -> Sql.update(c, "CREATE TABLE filler (n INTEGER PRIMARY KEY, text TEXT)"));
        CountDownLatch slowStarted = new CountDownLatch(1);
        List<Future<Integer>> results = new ArrayList<>();
        try (ExecutorService writers = Executors.newVirtualThreadPerTaskExecutor()) {
            // a slow write holds the writer while 40 more queue up; they then run as groups
            results.add(writers.submit(() -> db.write(c -> {
                slowStarted.countDown();
                sleep(300);
                return Sql.update(c, "INSERT INTO filler (n, text) VALUES (?, ?)", 0, "slow");
            })));
            slowStarted.await();
            for (int i = 1; i <= 40; i++) {
                int n = i;
                results.add(writers.submit(() -> db.write(c -> {
                    int inserted = Sql.update(c, "INSERT INTO filler (n, text) VALUES (?, ?)", n, "row " + n);
                    if (n % 10 == 0) {
                        throw new IllegalStateException("write " + n + " fails after its insert");
                    }
                    if (n % 10 == 5) {
                        Sql.update(c, "INSERT INTO filler (n, text) VALUES (?, ?)", 0, "duplicate key"); // SQLException
                    }
                    if (n % 10 == 7) {
                        throw new AssertionError("write " + n + " dies of an Error after its insert");
                    }
                    return inserted;
                })));
            }
        }
        for (int n = 0; n <= 40; n++) {
            Future<Integer> f = results.get(n);
            if (n % 10 == 0 && n > 0) {
                assertThatThrownBy(f::get).hasCauseInstanceOf(IllegalStateException.class).hasMessageContaining("write " + n);
            } else if (n % 10 == 5) {
                assertThatThrownBy(f::get).hasCauseInstanceOf(StoreException.class);
            } else if (n % 10 == 7) {
                assertThatThrownBy(f::get).hasCauseInstanceOf(AssertionError.class).hasMessageContaining("write " + n);
            } else {
                assertThat(f.get()).isEqualTo(1);
            }
        }
        List<Integer> stored = db.read(c -> {
            List<Integer> out = new ArrayList<>();
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT n FROM filler ORDER BY n")) {
                while (rs.next()) {
                    out.add(rs.getInt(1));
                }
            }
            return out;
        });
        assertThat(stored).isEqualTo(IntStream.rangeClosed(0, 40).filter(n -> n == 0 || n % 5 != 0 && n % 10 != 7).boxed().toList());
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void createsAMissingDataDirectory() {
        Path nested = dataDir.resolve("a/b/c");
        try (Database other = Database.sqlite(nested)) {
            JdbcStore otherStore = new JdbcStore(other, new VectorStoreRepository(other, InstantSource.system(), "test-model"), InstantSource.system());
            assertThat(otherStore.ping()).isTrue();
            assertThat(Files.isRegularFile(nested.resolve("spindle.db"))).isTrue();
        }
    }
}
