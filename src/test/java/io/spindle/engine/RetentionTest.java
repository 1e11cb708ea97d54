package io.spindle.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.spindle.Settings;
import io.spindle.Spindle;
import io.spindle.testing.Api;
import io.spindle.testing.FakeEmbeddings;
import io.spindle.testing.FakeUpstream;
import io.spindle.testing.LogCapture;
import io.spindle.testing.TestPostgres;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Retention on a server whose clock the test moves by days, on SQLite and PostgreSQL: each move makes a sweep due
 * (SPINDLE_RETENTION_SWEEP_SECONDS=1 of the server's clock), and the test waits for the sweep's log line. Every table's
 * rows are counted before and after, so a sweep that deletes too much or leaves rows behind fails.
 */
class RetentionTest {
    enum Storage { SQLITE, POSTGRESQL }

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Instant T0 = Instant.ofEpochSecond(Instant.now().getEpochSecond());
    private static final List<String> THREAD_TABLES = List.of("messages", "runs", "run_steps");

    private final AtomicReference<Instant> now = new AtomicReference<>(T0);
    private final LogCapture log = LogCapture.of(Retention.class.getName(), Level.INFO);
    private final List<AutoCloseable> opened = new ArrayList<>();
    private Path dataDir;
    private Map<String, String> settings;
    private Optional<String> postgres = Optional.empty();
    private FakeUpstream upstream;
    private Spindle spindle;
    private Api api;

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : opened.reversed()) {
            c.close();
        }
        postgres.ifPresent(TestPostgres::dropDatabase);
        log.close();
    }

    private void start(Storage storage, Map<String, String> env) throws Exception {
        upstream = FakeUpstream.start();
        opened.add(upstream);
        dataDir = Files.createTempDirectory("spindle-retention");
        settings = new HashMap<>(env);
        settings.put("SPINDLE_PORT", "0");
        settings.put("SPINDLE_DATA_DIR", dataDir.toString());
        settings.put("SPINDLE_UPSTREAM_URL", upstream.baseUrl());
        settings.put("SPINDLE_SANDBOX", "off");
        settings.put("SPINDLE_RETENTION_SWEEP_SECONDS", "1");
        // runs waiting for outputs stay active across the months the test moves through
        settings.put("SPINDLE_RUN_EXPIRY_SECONDS", "31536000");
        if (storage == Storage.POSTGRESQL) {
            postgres = Optional.of(TestPostgres.freshDatabase());
            settings.put("SPINDLE_DATABASE_URL", postgres.get());
            settings.put("SPINDLE_DATABASE_POOL_SIZE", "4");
        }
        spindle = Spindle.start(Settings.fromEnvironment(settings), now::get);
        opened.add(spindle);
        api = new Api("http://127.0.0.1:" + spindle.port(), null);
    }

    // ---- threads

    @ParameterizedTest
    @EnumSource(Storage.class)
    void threadsIdlePastTheLimitGoWithEveryRowOfThemWhileRequestsAreAnswered(Storage storage) throws Exception {
        start(storage, Map.of("SPINDLE_THREAD_RETENTION_DAYS", "30"));
        sweptSince(0); // the sweep a start makes at once
        String assistant = api.post("/v1/assistants", Map.of("model", "gpt-4o")).ok().get("id").asText();
        String answered = threadWithMessage("an old conversation");
        upstream.enqueue(FakeUpstream.Reply.text("an old answer"));
        awaitRun(answered, api.post("/v1/threads/" + answered + "/runs", Map.of("assistant_id", assistant)).ok(), "completed");
        String waiting = threadWithMessage("call a function");
        upstream.enqueue(FakeUpstream.Reply.toolCalls(new FakeUpstream.ToolCall("call_1", "lookup", "{}")));
        String waitingRun = awaitRun(waiting, api.post("/v1/threads/" + waiting + "/runs", Map.of("assistant_id", assistant,
                "tools", List.of(Map.of("type", "function", "function", Map.of("name", "lookup",
                        "parameters", Map.of("type", "object", "properties", Map.of())))))).ok(), "requires_action");
        String modified = api.post("/v1/threads", Map.of()).ok().get("id").asText();
        String talkedTo = api.post("/v1/threads", Map.of()).ok().get("id").asText();
        List<String> fillers = new ArrayList<>();
        for (int i = 0; i < 250; i++) {
            fillers.add(threadWithMessage("filler " + i));
        }

        // twenty days on: one thread modified, another gets a message; nothing is idle for 30 days yet
        sweepAt(Duration.ofDays(20), "deleted 0 idle thread(s)");
        api.post("/v1/threads/" + modified, Map.of("metadata", Map.of("topic", "kept"))).ok();
        api.post("/v1/threads/" + talkedTo + "/messages", Map.of("role", "user", "content", "still here")).ok();
        Map<String, Long> before = rowCounts();
        Map<String, Long> answeredRows = threadRows(answered);
        assertThat(answeredRows).containsEntry("messages", 2L).containsEntry("runs", 1L).containsEntry("run_steps", 1L);

        // 31 days on: requests keep being answered (writes too) while the sweep deletes 251 threads in batches
        AtomicBoolean sweeping = new AtomicBoolean(true);
        AtomicInteger posted = new AtomicInteger();
        List<Integer> failures = new ArrayList<>();
        Thread requests = Thread.ofVirtual().start(() -> {
            while (sweeping.get()) {
                Api.Response r = api.post("/v1/threads/" + talkedTo + "/messages", Map.of("role", "user", "content", "during the sweep"));
                if (r.status() == 200) {
                    posted.incrementAndGet();
                } else {
                    failures.add(r.status());
                }
            }
        });
        String line = sweepAt(Duration.ofDays(31), "deleted 251 idle thread(s) (252 message(s), 1 run(s), 1 step(s))");
        sweeping.set(false);
        requests.join();
        assertThat(failures).isEmpty();
        assertThat(posted.get()).isPositive();
        assertThat(line).doesNotContain("file");

        assertThat(api.get("/v1/threads/" + answered).status()).isEqualTo(404);
        fillers.forEach(id -> assertThat(api.get("/v1/threads/" + id).status()).isEqualTo(404));
        assertThat(threadRows(answered)).containsOnly(Map.entry("messages", 0L), Map.entry("runs", 0L), Map.entry("run_steps", 0L));
        assertThat(api.get("/v1/threads/" + waiting + "/runs/" + waitingRun).ok().get("status").asText()).isEqualTo("requires_action");
        assertThat(api.get("/v1/threads/" + modified).status()).isEqualTo(200);
        assertThat(api.get("/v1/threads/" + talkedTo).status()).isEqualTo(200);
        Map<String, Long> expected = new TreeMap<>(before);
        expected.merge("threads", -251L, Long::sum);
        expected.merge("messages", -252L + posted.get(), Long::sum);
        expected.merge("runs", -1L, Long::sum);
        expected.merge("run_steps", -1L, Long::sum);
        assertThat(rowCounts()).isEqualTo(expected);
    }

    @ParameterizedTest
    @EnumSource(Storage.class)
    void deletingAThreadThroughTheApiLeavesNoRowOfIt(Storage storage) throws Exception {
        start(storage, Map.of());
        String assistant = api.post("/v1/assistants", Map.of("model", "gpt-4o")).ok().get("id").asText();
        String thread = threadWithMessage("hello");
        upstream.enqueue(FakeUpstream.Reply.text("hi"));
        awaitRun(thread, api.post("/v1/threads/" + thread + "/runs", Map.of("assistant_id", assistant)).ok(), "completed");
        assertThat(threadRows(thread)).containsEntry("messages", 2L).containsEntry("runs", 1L).containsEntry("run_steps", 1L);

        api.delete("/v1/threads/" + thread).ok();

        assertThat(threadRows(thread)).containsOnly(Map.entry("messages", 0L), Map.entry("runs", 0L), Map.entry("run_steps", 0L));
        assertThat(api.post("/v1/threads/" + thread + "/messages", Map.of("role", "user", "content", "late")).status()).isEqualTo(404);
        assertThat(api.post("/v1/threads/" + thread + "/runs", Map.of("assistant_id", assistant)).status()).isEqualTo(404);
        assertThat(threadRows(thread)).containsOnly(Map.entry("messages", 0L), Map.entry("runs", 0L), Map.entry("run_steps", 0L));
    }

    @org.junit.jupiter.api.Test
    void oneNodeOfAClusterSweepsAtATimeAndAnotherTakesOverWhenItStops() throws Exception {
        start(Storage.POSTGRESQL, Map.of("SPINDLE_THREAD_RETENTION_DAYS", "30", "SPINDLE_NODE_ID", "node-a"));
        sweptSince(0);
        Map<String, String> second = new HashMap<>(settings);
        second.put("SPINDLE_NODE_ID", "node-b");
        Spindle nodeB = Spindle.start(Settings.fromEnvironment(second), now::get);
        opened.add(nodeB);
        for (int i = 0; i < 150; i++) {
            threadWithMessage("idle " + i);
        }
        Thread.sleep(3_000); // node-b asked every second: the sweep of node-a's start is not due again
        assertThat(sweepLines()).hasSize(1);

        sweepAt(Duration.ofDays(31), "deleted 150 idle thread(s)");
        Thread.sleep(3_000); // both nodes asked every second; one swept
        assertThat(sweepLines()).hasSize(2);

        spindle.close();
        api = new Api("http://127.0.0.1:" + nodeB.port(), null);
        threadWithMessage("idle since day 31");
        sweepAt(Duration.ofDays(62), "deleted 1 idle thread(s)");
    }

    // ---- files

    @ParameterizedTest
    @EnumSource(Storage.class)
    void filesUnreferencedPastTheLimitGoWithTheirBytes(Storage storage) throws Exception {
        FakeEmbeddings embeddings = FakeEmbeddings.start();
        opened.add(embeddings);
        start(storage, merged(embeddings.settings(), Map.of("SPINDLE_FILE_RETENTION_DAYS", "30")));
        sweptSince(0);
        String loose = upload("loose.txt");
        String inThread = upload("in-thread.txt");
        String droppedFromThread = upload("dropped.txt");
        String attached = upload("attached.txt");
        String inStore = upload("in-store.txt");
        String inExpiredStore = upload("in-expired-store.txt");
        String image = api.uploadFile("vision", "figure.png", "not really a PNG".getBytes(StandardCharsets.UTF_8));
        List<Map<String, Object>> codeTool = List.of(Map.of("type", "code_interpreter"));
        String holder = api.post("/v1/threads", Map.of("tool_resources",
                Map.of("code_interpreter", Map.of("file_ids", List.of(inThread, droppedFromThread))))).ok().get("id").asText();
        String conversation = api.post("/v1/threads", Map.of("messages", List.of(Map.of("role", "user", "content", "see the file",
                "attachments", List.of(Map.of("file_id", attached, "tools", codeTool)))))).ok().get("id").asText();
        api.post("/v1/threads/" + holder + "/messages", Map.of("role", "user", "content",
                List.of(Map.of("type", "image_file", "image_file", Map.of("file_id", image))))).ok();
        String store = api.post("/v1/vector_stores", Map.of("file_ids", List.of(inStore))).ok().get("id").asText();
        String expiring = api.post("/v1/vector_stores", Map.of("file_ids", List.of(inExpiredStore),
                "expires_after", Map.of("anchor", "last_active_at", "days", 1))).ok().get("id").asText();
        for (String s : List.of(store, expiring)) {
            api.await("/v1/vector_stores/" + s, v -> v.get("status").asText().equals("completed"), WAIT);
        }

        // day 1: the sweep sees every file for the first time, and their clocks start; then the thread lets one go
        sweepAt(Duration.ofDays(1), "deleted 0 unreferenced file(s)");
        api.post("/v1/threads/" + holder, Map.of("tool_resources", Map.of("code_interpreter", Map.of("file_ids", List.of(inThread))))).ok();
        sweepAt(Duration.ofDays(20), "deleted 0 unreferenced file(s)");
        Map<String, Long> before = rowCounts();

        // day 32: unreferenced since day 1 -> gone (the expired store no longer counts); referenced -> kept, clock restarted
        sweepAt(Duration.ofDays(32), "deleted 3 unreferenced file(s)");
        for (String gone : List.of(loose, droppedFromThread, inExpiredStore)) {
            assertThat(api.get("/v1/files/" + gone).status()).isEqualTo(404);
            assertThat(bytesKept(gone)).isFalse();
        }
        for (String kept : List.of(inThread, attached, inStore, image)) {
            assertThat(api.get("/v1/files/" + kept).status()).isEqualTo(200);
            assertThat(bytesKept(kept)).isTrue();
        }
        assertThat(api.get("/v1/vector_stores/" + expiring + "/files").ok().get("data")).isEmpty();
        Map<String, Long> expected = new TreeMap<>(before);
        expected.merge("files", -3L, Long::sum);
        expected.merge("deleted_cursors", 3L, Long::sum); // a deleted file keeps its place as a page cursor
        expected.merge("vector_store_files", -1L, Long::sum);
        expected.merge("chunks", -1L, Long::sum);
        expected.merge("index_changes", 1L, Long::sum);
        if (storage == Storage.POSTGRESQL) {
            expected.merge("file_chunks", -3L, Long::sum);
        }
        assertThat(rowCounts()).isEqualTo(expected);

        // the attachment's thread goes on day 32: its file is unreferenced for 18 days on day 50, 31 on day 63
        api.delete("/v1/threads/" + conversation).ok();
        sweepAt(Duration.ofDays(50), "deleted 0 unreferenced file(s)");
        assertThat(api.get("/v1/files/" + attached).status()).isEqualTo(200);
        sweepAt(Duration.ofDays(63), "deleted 1 unreferenced file(s)");
        assertThat(api.get("/v1/files/" + attached).status()).isEqualTo(404);
        assertThat(bytesKept(attached)).isFalse();
        assertThat(api.get("/v1/files/" + inThread).status()).isEqualTo(200);
        assertThat(api.get("/v1/files/" + inStore).status()).isEqualTo(200);
        assertThat(api.get("/v1/files/" + image).status()).isEqualTo(200);
    }

    // ---- helpers

    private String threadWithMessage(String text) {
        return api.post("/v1/threads", Map.of("messages", List.of(Map.of("role", "user", "content", text)))).ok().get("id").asText();
    }

    private String awaitRun(String thread, JsonNode run, String status) throws InterruptedException {
        String id = run.get("id").asText();
        api.await("/v1/threads/" + thread + "/runs/" + id, r -> r.get("status").asText().equals(status), WAIT);
        return id;
    }

    private String upload(String name) {
        return api.uploadFile("assistants", name, ("the text of " + name).getBytes(StandardCharsets.UTF_8));
    }

    /** Moves the clock to {@code T0 + offset} and waits for the sweep that makes due; returns its log line, which must say {@code says}. */
    private String sweepAt(Duration offset, String says) throws InterruptedException {
        int before = sweepLines().size();
        now.set(T0.plus(offset));
        String line = sweptSince(before);
        assertThat(line).contains(says);
        return line;
    }

    private String sweptSince(int linesBefore) throws InterruptedException {
        long until = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < until) {
            List<String> lines = sweepLines();
            if (lines.size() > linesBefore) {
                return lines.get(linesBefore);
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no retention sweep within " + WAIT);
    }

    private List<String> sweepLines() {
        return log.records().stream().map(LogRecord::getMessage).filter(m -> m.startsWith("retention: ")).toList();
    }

    /** The rows of every table of the database. */
    private Map<String, Long> rowCounts() {
        return spindle.database().read(c -> {
            List<String> tables = new ArrayList<>();
            try (ResultSet rs = c.getMetaData().getTables(null, postgres.isPresent() ? "public" : null, "%", new String[] {"TABLE"})) {
                while (rs.next()) {
                    tables.add(rs.getString("TABLE_NAME"));
                }
            }
            Map<String, Long> counts = new TreeMap<>();
            for (String table : tables) {
                counts.put(table, count(c, "SELECT COUNT(*) FROM " + table));
            }
            return counts;
        });
    }

    private Map<String, Long> threadRows(String thread) {
        return spindle.database().read(c -> {
            Map<String, Long> counts = new TreeMap<>();
            for (String table : THREAD_TABLES) {
                counts.put(table, count(c, "SELECT COUNT(*) FROM " + table + " WHERE thread_id = ?", thread));
            }
            return counts;
        });
    }

    /** Whether a file's bytes are still stored: its blob under the data directory (SQLite) or its chunks (PostgreSQL). */
    private boolean bytesKept(String fileId) {
        if (postgres.isEmpty()) {
            return Files.exists(dataDir.resolve("files").resolve(fileId));
        }
        return spindle.database().read(c -> count(c, "SELECT COUNT(*) FROM file_chunks WHERE file_id = ?", fileId)) > 0;
    }

    private static long count(Connection c, String sql, Object... args) throws java.sql.SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static Map<String, String> merged(Map<String, String> a, Map<String, String> b) {
        Map<String, String> out = new HashMap<>(a);
        out.putAll(b);
        return out;
    }
}
