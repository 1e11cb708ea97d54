package io.spindle.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.spindle.testing.Api;
import io.spindle.testing.ServerProcesses;
import io.spindle.testing.ServerProcesses.Server;
import io.spindle.testing.TestServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A file's ingestion survives its node stopping mid-way: shut down (three times, which must not count as failed
 * attempts) or killed with SIGKILL, the restarted node ingests the file again, and it ends with exactly the chunks a
 * clean ingestion of the same file gives. The file is large enough (about 80 chunks of 512 tokens) that ingesting it
 * takes seconds, and each stop happens while a job holds it (its lease is in the database). Server processes log to
 * {@code target/ingestion-recovery-logs/}.
 */
@Timeout(value = 300, unit = java.util.concurrent.TimeUnit.SECONDS)
class IngestionRecoveryTest {
    /** How long ingestion may take on a loaded machine. */
    private static final Duration INGESTED = Duration.ofSeconds(180);
    private static final String NODE = "ingestion-test-node";
    private static final Map<String, Object> CHUNKING = Map.of("type", "static",
            "static", Map.of("max_chunk_size_tokens", 512, "chunk_overlap_tokens", 0));

    enum Storage { SQLITE, POSTGRESQL }

    @TempDir
    Path dataDir;

    private ServerProcesses servers;

    @AfterEach
    void cleanUp() throws Exception {
        if (servers != null) {
            servers.close();
        }
    }

    @Test
    void shutdownsMidIngestionAreNotCountedAsFailedAttempts() throws Exception {
        Map<String, String> env = Map.of("SPINDLE_DATA_DIR", dataDir.toString(), "SPINDLE_NODE_ID", NODE);
        String fileId;
        String store;
        String token;
        try (TestServer server = TestServer.start(TestServer.Storage.SQLITE, env)) {
            fileId = server.api().uploadFile("assistants", "spindles.txt", document());
            store = storeWith(server.api(), fileId);
            token = waitForNewJob(sqlite(), fileId, null);
        }
        // Ingestion.MAX_ATTEMPTS is 3: three shutdowns counted as attempts would fail the file on the fourth start
        for (int restart = 0; restart < 2; restart++) {
            try (TestServer server = TestServer.start(TestServer.Storage.SQLITE, env)) {
                token = waitForNewJob(sqlite(), fileId, token);
            }
        }
        try (TestServer server = TestServer.start(TestServer.Storage.SQLITE, env)) {
            assertIngestedOnceAsACleanIngestion(server.api(), sqlite(), store, fileId);
        }
    }

    @ParameterizedTest
    @EnumSource(Storage.class)
    void aFileKilledMidIngestionCompletesWithEachChunkOnce(Storage storage) throws Exception {
        servers = new ServerProcesses("ingestion-recovery-logs", "killed-" + storage.name().toLowerCase());
        Map<String, String> env = new HashMap<>();
        env.put("SPINDLE_DATA_DIR", dataDir.toString());
        env.put("SPINDLE_NODE_ID", NODE);
        String url = "jdbc:sqlite:" + dataDir.resolve("spindle.db").toAbsolutePath();
        if (storage == Storage.POSTGRESQL) {
            url = servers.freshPostgres();
            env.put("SPINDLE_DATABASE_URL", url);
        }
        Server first = servers.start(env);
        String fileId = first.api().uploadFile("assistants", "spindles.txt", document());
        String store = storeWith(first.api(), fileId);
        waitForNewJob(url, fileId, null);
        servers.kill(first);
        assertThat(status(url, fileId)).isEqualTo("in_progress");

        Server second = servers.start(env);
        assertIngestedOnceAsACleanIngestion(second.api(), url, store, fileId);
    }

    /**
     * The file completes in {@code store}; then the same file is ingested into a fresh store without interruption,
     * and both have the same chunks, each once (the content endpoint and the {@code chunks} rows agree).
     */
    private static void assertIngestedOnceAsACleanIngestion(Api api, String url, String store, String fileId) throws Exception {
        JsonNode done = api.await("/v1/vector_stores/" + store + "/files/" + fileId, f -> !f.get("status").asText().equals("in_progress"), INGESTED);
        assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("completed");
        String clean = storeWith(api, fileId);
        JsonNode cleanDone = api.await("/v1/vector_stores/" + clean + "/files/" + fileId, f -> !f.get("status").asText().equals("in_progress"), INGESTED);
        assertThat(cleanDone.get("status").asText()).isEqualTo("completed");

        List<String> recovered = texts(api.get("/v1/vector_stores/" + store + "/files/" + fileId + "/content").ok());
        List<String> expected = texts(api.get("/v1/vector_stores/" + clean + "/files/" + fileId + "/content").ok());
        assertThat(expected).hasSizeGreaterThan(50);
        assertThat(recovered).isEqualTo(expected);
        assertThat(chunkRows(url, store, fileId)).isEqualTo(expected.size());
        assertThat(done.get("usage_bytes").asLong()).isEqualTo(cleanDone.get("usage_bytes").asLong());
    }

    private String sqlite() {
        return "jdbc:sqlite:" + dataDir.resolve("spindle.db").toAbsolutePath();
    }

    /** About 40,000 tokens of varied English text. */
    private static byte[] document() {
        StringBuilder text = new StringBuilder();
        String[] verbs = {"winds", "spins", "twists", "carries", "guides", "pulls"};
        String[] things = {"wool", "cotton", "linen", "silk", "flax", "hemp"};
        for (int i = 0; i < 2_000; i++) {
            text.append("Section ").append(i).append(" says the spindle ").append(verbs[i % verbs.length]).append(" the ")
                    .append(things[(i / 6) % things.length]).append(" thread number ").append(i * 7)
                    .append(" onto its bobbin, slowly and evenly, before the weaver starts.");
            text.append(i % 10 == 9 ? "\n\n" : " ");
        }
        return text.toString().getBytes(StandardCharsets.UTF_8);
    }


    /** A new store with the file attached (ingestion starts at once). */
    private static String storeWith(Api api, String fileId) {
        String store = api.post("/v1/vector_stores", "{}").ok().get("id").asText();
        api.post("/v1/vector_stores/" + store + "/files", Map.of("file_id", fileId, "chunking_strategy", CHUNKING)).ok();
        return store;
    }

    /**
     * Waits until a job holds the file's row under a lease other than {@code previousToken} and has counted its
     * attempt; returns the lease token.
     */
    private static String waitForNewJob(String url, String fileId, String previousToken) throws Exception {
        long until = System.nanoTime() + 120_000_000_000L;
        while (System.nanoTime() < until) {
            try (Connection c = DriverManager.getConnection(url);
                 PreparedStatement ps = c.prepareStatement("SELECT lease_token, attempts, status FROM vector_store_files WHERE file_id = ?")) {
                ps.setString(1, fileId);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    String token = rs.getString(1);
                    assertThat(rs.getString(3)).as("the file is still being ingested").isEqualTo("in_progress");
                    if (token != null && !token.equals(previousToken) && rs.getInt(2) >= 1) {
                        return token;
                    }
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no job claimed " + fileId + " in time");
    }

    private static String status(String url, String fileId) throws SQLException {
        try (Connection c = DriverManager.getConnection(url);
             PreparedStatement ps = c.prepareStatement("SELECT status FROM vector_store_files WHERE file_id = ?")) {
            ps.setString(1, fileId);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                return rs.getString(1);
            }
        }
    }

    private static int chunkRows(String url, String store, String fileId) throws SQLException {
        try (Connection c = DriverManager.getConnection(url);
             PreparedStatement ps = c.prepareStatement("SELECT COUNT(*), COUNT(DISTINCT ordinal) FROM chunks WHERE vector_store_id = ? AND file_id = ?")) {
            ps.setString(1, store);
            ps.setString(2, fileId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                assertThat(rs.getInt(2)).as("distinct ordinals").isEqualTo(rs.getInt(1));
                return rs.getInt(1);
            }
        }
    }

    private static List<String> texts(JsonNode content) {
        assertThat(content.get("has_more").asBoolean()).isFalse();
        return content.get("data").findValuesAsText("text");
    }

}
