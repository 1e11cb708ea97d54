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
    void createsAMissingDataDirectory() {
        Path nested = dataDir.resolve("a/b/c");
        try (Database other = Database.sqlite(nested)) {
            JdbcStore otherStore = new JdbcStore(other);
            assertThat(otherStore.ping()).isTrue();
            assertThat(Files.isRegularFile(nested.resolve("spindle.db"))).isTrue();
        }
    }
}
