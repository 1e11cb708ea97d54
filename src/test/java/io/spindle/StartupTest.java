package io.spindle;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.spindle.testing.Api;
import io.spindle.testing.FakeUpstream;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.ServerProcesses;
import io.spindle.testing.TestServer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Starting Spindle where another one already runs, on unusable data directories, and what it
 * leaves on disk. The servers are separate processes ({@link ServerProcesses}), so what reaches
 * the terminal is what a user would see.
 */
class StartupTest {
    /** 30 pieces of 3 characters, 300 ms apart: the first server is mid-answer while the second starts. */
    private static final String SLOW_ANSWER = "The first server streams this answer slowly, to the end, unharmed.";
    private static final Duration BETWEEN_PIECES = Duration.ofMillis(300);

    @TempDir
    Path tmp;
    private ServerProcesses servers;
    private FakeUpstream fake;

    @BeforeEach
    void start(TestInfo test) {
        String method = test.getTestMethod().orElseThrow().getName();
        String parameters = test.getDisplayName().startsWith("[") ? test.getDisplayName().replaceAll("[^A-Za-z0-9]+", "-") : "";
        servers = new ServerProcesses("startup-logs", method + parameters);
        fake = FakeUpstream.start().enqueue(Reply.text(SLOW_ANSWER).withChunkDelay(BETWEEN_PIECES));
    }

    @AfterEach
    void stop() throws InterruptedException {
        try {
            servers.close();
        } finally {
            fake.close();
        }
    }

    // ---- one server per port and per data directory

    /**
     * The second server shares the first's database and node id, as a second {@code ./spindle serve} in the same
     * place does; on PostgreSQL no data directory lock protects the first, only binding the port first does.
     */
    @Test
    void aSecondServerOnTheSamePortExitsWithOneLineAndTheFirstKeepsItsRun() throws Exception {
        Map<String, String> env = env("shared-node");
        env.put("SPINDLE_DATABASE_URL", servers.freshPostgres());
        ServerProcesses.Server first = servers.start(env);
        Started run = startSlowRun(first.api());

        ServerProcesses.Exited second = servers.startExpectingExit(env, first.port());

        assertOneLineRefusal(second, "spindle: port " + first.port() + " on 127.0.0.1 is already in use (SPINDLE_PORT)");
        assertRunCompletesOnTheFirst(first, run);
    }

    @Test
    void aSecondServerOnTheSameDataDirExitsWithOneLineNamingItAndTheFirstKeepsItsRun() throws Exception {
        Map<String, String> env = env("shared-node");
        ServerProcesses.Server first = servers.start(env);
        Started run = startSlowRun(first.api());

        ServerProcesses.Exited second = servers.startExpectingExit(env, freePort());

        assertOneLineRefusal(second, "spindle: SPINDLE_DATA_DIR " + tmp.resolve("data").toAbsolutePath().normalize()
                + " is in use by another Spindle process");
        assertRunCompletesOnTheFirst(first, run);
        // the first still writes to its database
        assertThat(first.api().post("/v1/threads/" + run.threadId() + "/messages",
                "{\"role\": \"user\", \"content\": \"still here\"}").status()).isEqualTo(200);
    }

    @Test
    void theDataDirIsFreeAgainOnceTheFirstServerStopped() throws Exception {
        Map<String, String> env = env("node-a");
        ServerProcesses.Server first = servers.start(env);
        String thread = first.api().post("/v1/threads", "{}").ok().path("id").asText();
        servers.stop(first);

        ServerProcesses.Server again = servers.start(env);

        assertThat(again.api().get("/v1/threads/" + thread).status()).isEqualTo(200);
    }

    // ---- unusable data directories

    @ParameterizedTest
    @ValueSource(strings = {"regular-file", "under-a-regular-file", "/proc/spindle-cannot-create-this", "/proc/self"})
    void anUnusableDataDirStopsStartUpWithOneLineNamingIt(String kind) throws Exception {
        Path file = Files.writeString(tmp.resolve("a-file"), "not a directory");
        Path dataDir = switch (kind) {
            case "regular-file" -> file;
            case "under-a-regular-file" -> file.resolve("data");
            default -> Path.of(kind); // nobody may create files under /proc, root included
        };
        Map<String, String> env = env("node-a");
        env.put("SPINDLE_DATA_DIR", dataDir.toString());

        ServerProcesses.Exited exited = servers.startExpectingExit(env, 0);

        assertThat(exited.status()).as("exit status; stderr: %s", exited.stderr()).isEqualTo(2);
        assertThat(exited.stdout()).isEmpty();
        assertThat(exited.stderr()).hasSize(1);
        assertThat(exited.stderr().getFirst()).startsWith("spindle: SPINDLE_DATA_DIR " + dataDir + " ");
    }

    // ---- files on disk

    @Test
    void theDataDirAndTheDatabaseFilesAreOwnerOnly() throws Exception {
        Path dataDir = tmp.resolve("new/data");
        try (TestServer server = TestServer.start(TestServer.Storage.SQLITE, Map.of("SPINDLE_DATA_DIR", dataDir.toString()))) {
            // a write, so that the WAL and its index exist
            assertThat(server.api().post("/v1/threads", "{}").status()).isEqualTo(200);

            assertThat(mode(dataDir)).isEqualTo("rwx------");
            assertThat(mode(dataDir.getParent())).as("parents created with it").isEqualTo("rwx------");
            for (String file : List.of("spindle.db", "spindle.db-wal", "spindle.db-shm", "spindle.lock")) {
                assertThat(mode(dataDir.resolve(file))).as(file).isEqualTo("rw-------");
            }
        }
    }

    @Test
    void databaseFilesReadableByOthersAreMadeOwnerOnly() throws Exception {
        Path dataDir = tmp.resolve("old");
        Map<String, String> env = Map.of("SPINDLE_DATA_DIR", dataDir.toString());
        try (TestServer server = TestServer.start(TestServer.Storage.SQLITE, env)) {
            assertThat(server.api().post("/v1/threads", "{}").status()).isEqualTo(200);
        }
        // as a Spindle from before owner-only files left them
        Path database = dataDir.resolve("spindle.db");
        Files.setPosixFilePermissions(database, PosixFilePermissions.fromString("rw-r--r--"));

        try (TestServer server = TestServer.start(TestServer.Storage.SQLITE, env)) {
            assertThat(server.api().post("/v1/threads", "{}").status()).isEqualTo(200);

            for (String file : List.of("spindle.db", "spindle.db-wal", "spindle.db-shm")) {
                assertThat(mode(dataDir.resolve(file))).as(file).isEqualTo("rw-------");
            }
        }
    }

    // ---- start-up warnings

    @Test
    void startUpWarnsOnceWhenRunsWouldGoToOpenAiWithoutAKey() {
        assertThat(startUpWarnings(Map.of()))
                .filteredOn(line -> line.contains("api.openai.com"))
                .singleElement().asString()
                .contains("SPINDLE_UPSTREAM_API_KEY").contains("OPENAI_API_KEY");
        assertThat(startUpWarnings(Map.of("SPINDLE_UPSTREAM_API_KEY", "sk-test"))).noneMatch(l -> l.contains("api.openai.com"));
        assertThat(startUpWarnings(Map.of("OPENAI_API_KEY", "sk-test"))).noneMatch(l -> l.contains("api.openai.com"));
        assertThat(startUpWarnings(Map.of("SPINDLE_UPSTREAM_URL", fake.baseUrl()))).noneMatch(l -> l.contains("UPSTREAM"));
    }

    /** The WARNING lines Spindle logs while an in-JVM server starts with these settings (and no others). */
    private static List<String> startUpWarnings(Map<String, String> env) {
        Logger logger = Logger.getLogger(Spindle.class.getName());
        Level level = logger.getLevel();
        List<String> warnings = new ArrayList<>();
        Handler handler = new Handler() {
            @Override
            public synchronized void publish(LogRecord record) {
                if (record.getLevel() == Level.WARNING) {
                    warnings.add(record.getMessage());
                }
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        logger.setLevel(Level.INFO);
        logger.setUseParentHandlers(false);
        logger.addHandler(handler);
        try (TestServer ignored = TestServer.start(TestServer.Storage.SQLITE, env)) {
            synchronized (handler) {
                return List.copyOf(warnings);
            }
        } finally {
            logger.removeHandler(handler);
            logger.setUseParentHandlers(true);
            logger.setLevel(level);
        }
    }

    // ---- helpers

    /** A server on this test's data directory, calling the fake upstream without retries. */
    private Map<String, String> env(String node) {
        Map<String, String> env = new HashMap<>();
        env.put("SPINDLE_DATA_DIR", tmp.resolve("data").toString());
        env.put("SPINDLE_UPSTREAM_URL", fake.baseUrl());
        env.put("SPINDLE_UPSTREAM_RETRIES", "0");
        env.put("SPINDLE_NODE_ID", node);
        return env;
    }

    private record Started(String threadId, String runId) {}

    /** Creates a run and waits until the first server executes it (its slow answer has begun). */
    private Started startSlowRun(Api api) throws InterruptedException {
        String assistant = api.post("/v1/assistants", "{\"model\": \"gpt-4o\"}").ok().path("id").asText();
        JsonNode run = api.post("/v1/threads/runs", "{\"assistant_id\": \"" + assistant
                + "\", \"thread\": {\"messages\": [{\"role\": \"user\", \"content\": \"Say something slowly.\"}]}}").ok();
        assertThat(fake.awaitRequests(1, Duration.ofSeconds(60))).as("the first server called the model").isTrue();
        return new Started(run.path("thread_id").asText(), run.path("id").asText());
    }

    private static void assertOneLineRefusal(ServerProcesses.Exited second, String line) {
        assertThat(second.status()).as("exit status; stderr: %s", second.stderr()).isEqualTo(2);
        assertThat(second.stdout()).isEmpty();
        assertThat(second.stderr()).containsExactly(line);
    }

    /** The run ends completed with the whole answer, from the one model call the first server made. */
    private void assertRunCompletesOnTheFirst(ServerProcesses.Server first, Started run) throws InterruptedException {
        Api api = first.api();
        String path = "/v1/threads/" + run.threadId() + "/runs/" + run.runId();
        long deadline = System.currentTimeMillis() + 120_000;
        JsonNode current = api.get(path).ok();
        while (List.of("queued", "in_progress").contains(current.path("status").asText()) && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
            current = api.get(path).ok();
        }
        assertThat(current.path("status").asText()).as("run %s", current).isEqualTo("completed");
        JsonNode answer = api.get("/v1/threads/" + run.threadId() + "/messages?run_id=" + run.runId()).ok().path("data");
        assertThat(answer).hasSize(1);
        assertThat(answer.get(0).path("content").get(0).path("text").path("value").asText()).isEqualTo(SLOW_ANSWER);
        assertThat(fake.requestCount()).as("model calls: only the first server's").isEqualTo(1);
        assertThat(first.process().isAlive()).isTrue();
    }

    private static String mode(Path path) throws java.io.IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
    }

    private static int freePort() throws java.io.IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
