package io.spindle.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.Statement;
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
    void theWalIsCheckpointedInTheBackgroundAndReusedRatherThanGrowing() throws Exception {
        db.write(c -> Sql.update(c, "CREATE TABLE filler (n INTEGER, text TEXT)"));
        Path wal = dataDir.resolve("spindle.db-wal");
        writeRows(2_000);
        long afterFirst = Files.size(wal);
        assertThat(afterFirst).as("2,000 commits of a page or more each").isGreaterThan(2_000L * 4_096);
        Thread.sleep(1_000); // a checkpoint copies the WAL into the database file; the next writer starts it over
        writeRows(2_000);
        assertThat(Files.size(wal)).as("WAL size after 2,000 more commits").isLessThanOrEqualTo(afterFirst + 64 * 4_096);
    }

    private void writeRows(int n) {
        for (int i = 0; i < n; i++) {
            int row = i;
            db.write(c -> Sql.update(c, "INSERT INTO filler (n, text) VALUES (?, ?)", row, "row " + row));
        }
    }

    @Test
    void createsAMissingDataDirectory() {
        Path nested = dataDir.resolve("a/b/c");
        try (Database other = Database.sqlite(nested)) {
            JdbcStore otherStore = new JdbcStore(other);
            assertThat(otherStore.ping()).isTrue();
            assertThat(Files.isRegularFile(nested.resolve("spindle.db"))).isTrue();
        }
    }
}
