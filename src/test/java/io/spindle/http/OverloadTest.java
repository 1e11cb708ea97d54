package io.spindle.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.spindle.testing.Api;
import io.spindle.testing.TestPostgres;
import io.spindle.testing.TestServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A node whose database connections are all busy answers 503 (which the SDKs retry), not 500. */
class OverloadTest {

    @Test
    void aRequestThatFindsNoDatabaseConnectionFreeGets503AndTheOthersGoThrough() throws Exception {
        String url = TestPostgres.freshDatabase();
        // 3 connections: one listens for notifications, two are left for requests
        try (TestServer server = TestServer.start(TestServer.Storage.POSTGRESQL,
                Map.of("SPINDLE_DATABASE_URL", url, "SPINDLE_DATABASE_POOL_SIZE", "3"));
             Connection blocker = DriverManager.getConnection(url);
             ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            Api api = server.api();
            String thread = api.post("/v1/threads", "{}").ok().path("id").asText();

            blocker.setAutoCommit(false);
            try (Statement s = blocker.createStatement()) {
                s.execute("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE");
            }
            List<Future<Api.Response>> waiting = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                waiting.add(clients.submit(() -> api.post("/v1/threads/" + thread + "/messages",
                        "{\"role\": \"user\", \"content\": \"waits for the lock\"}")));
            }
            awaitWaitingOnLock(blocker, 2);

            Api.Response busy = api.get("/v1/threads/" + thread);
            JsonNode error = busy.error(503);
            assertThat(error.path("type").asText()).isEqualTo("server_error");
            assertThat(error.path("message").asText()).contains("overloaded").contains("Retry");
            assertThat(busy.header("retry-after")).isEqualTo("1");

            blocker.rollback();
            for (Future<Api.Response> f : waiting) {
                assertThat(f.get(30, TimeUnit.SECONDS).ok().path("thread_id").asText()).isEqualTo(thread);
            }
            assertThat(api.get("/v1/threads/" + thread + "/messages").ok().path("data").size()).isEqualTo(2);
        } finally {
            TestPostgres.dropDatabase(url);
        }
    }

    /** Until {@code n} other sessions of this database wait for a lock (each holds one of Spindle's connections). */
    private static void awaitWaitingOnLock(Connection c, int n) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try (Statement s = c.createStatement()) {
                s.execute("SELECT pg_stat_clear_snapshot()"); // activity is read once per transaction otherwise
            }
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")) {
                rs.next();
                if (rs.getInt(1) >= n) {
                    return;
                }
            }
            assertThat(System.nanoTime()).as("requests waiting on the lock").isLessThan(deadline);
            Thread.sleep(20);
        }
    }
}
