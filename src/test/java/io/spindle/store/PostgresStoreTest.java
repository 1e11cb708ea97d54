package io.spindle.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spindle.testing.TestPostgres;
import java.net.ServerSocket;
import java.sql.Connection;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The store contract on PostgreSQL, one fresh database per test (dropped afterwards). */
class PostgresStoreTest extends StoreContract {
    private final String url = TestPostgres.freshDatabase();

    @Override
    protected Database openDatabase() {
        return Database.postgres(url, 4);
    }

    @Override
    protected void afterClose() {
        TestPostgres.dropDatabase(url);
    }

    @Test
    void dialectIsPostgresql() {
        assertThat(db.dialect()).isEqualTo(Database.Dialect.POSTGRESQL);
    }

    @Test
    void aWriteThatDiesOfAnErrorCommitsNothing() {
        db.write(c -> Sql.update(c, "CREATE TABLE filler (n INTEGER PRIMARY KEY)"));
        assertThatThrownBy(() -> db.write(c -> {
            Sql.update(c, "INSERT INTO filler (n) VALUES (1)");
            throw new AssertionError("dies after its insert");
        })).isInstanceOf(AssertionError.class);
        boolean committed = db.read(c -> Sql.exists(c, "SELECT 1 FROM filler"));
        assertThat(committed).isFalse();
    }

    @Test
    void openingAnUnreachableDatabaseFailsAtOnce() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        long started = System.nanoTime();
        assertThatThrownBy(() -> Database.postgres(
                "postgresql://postgres@127.0.0.1:" + closedPort + "/nowhere?connectTimeout=2", 2).close())
                .isInstanceOf(RuntimeException.class);
        assertThat((System.nanoTime() - started) / 1_000_000).isLessThan(15_000);
    }

    @Test
    void aPoolOfOneStillOpens() {
        long started = System.nanoTime();
        try (Database one = Database.postgres(url, 1)) {
            JdbcStore oneStore = new JdbcStore(one, new VectorStoreRepository(one, InstantSource.system(), "test-model"), InstantSource.system());
            assertThat(oneStore.ping()).isTrue();
            assertThat(oneStore.assistants(P1, asc(1, null, null)).data()).isEmpty();
        }
        assertThat((System.nanoTime() - started) / 1_000_000).isLessThan(10_000);
    }

    @Test
    void acceptsPostgresqlSchemeUrls() {
        // postgresql://user@host:port/db?params, as SPINDLE_DATABASE_URL documents it.
        String user = url.replaceFirst(".*[?&]user=([^&]*).*", "$1");
        String plain = url.substring("jdbc:".length()).replace("postgresql://", "postgresql://" + user + "@")
                .replaceFirst("\\?.*", "");
        assertThat(plain).startsWith("postgresql://" + user + "@127.0.0.1:").doesNotContain("?");
        try (Database other = Database.postgres(plain, 2)) {
            assertThat(new JdbcStore(other, new VectorStoreRepository(other, InstantSource.system(), "test-model"), InstantSource.system()).ping()).isTrue();
        }
    }

    @Test
    void aBusyPoolFailsARequestAfterItsWaitButLetsPatientWorkWaitAsLongAsItTakes() throws Exception {
        try (Database two = Database.postgres(url, 2, Duration.ofMillis(250))) {
            Connection first = two.transaction();
            Connection second = two.transaction();
            assertThatThrownBy(() -> two.read(c -> Sql.exists(c, "SELECT 1"))).isInstanceOf(StoreException.class)
                    .matches(e -> ((StoreException) e).noConnection(), "no connection came free");

            CompletableFuture<Boolean> patient = new CompletableFuture<>();
            Thread.ofVirtual().start(() -> Database.patiently(() -> {
                try {
                    patient.complete(two.read(c -> Sql.exists(c, "SELECT 1")));
                } catch (RuntimeException e) {
                    patient.completeExceptionally(e);
                }
            }));
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!two.saturated() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(two.saturated()).as("a caller waits for a connection").isTrue();
            Thread.sleep(1_000); // four times the wait: a caller that was not patient would have failed by now
            assertThat(patient).isNotDone();

            Database.release(first);
            assertThat(patient.get(10, TimeUnit.SECONDS)).isTrue();
            assertThat(two.saturated()).isFalse();
            Database.release(second);
        }
    }
}
