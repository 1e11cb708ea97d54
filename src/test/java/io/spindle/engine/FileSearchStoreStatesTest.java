package io.spindle.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.spindle.Settings;
import io.spindle.Spindle;
import io.spindle.testing.Api;
import io.spindle.testing.FakeEmbeddings;
import io.spindle.testing.FakeUpstream;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.FakeUpstream.ToolCall;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * file_search against stores that are not simply ready: a store past its expiry fails the run with a message naming
 * it, and a thread's store whose file is still being ingested when the run starts makes the search wait for it. The
 * server's clock is the test's (so a store can expire), and it embeds with {@link FakeEmbeddings}, whose gate keeps a
 * file in progress for exactly as long as the test needs.
 */
class FileSearchStoreStatesTest {
    private static final Duration INGESTED = Duration.ofSeconds(60);
    private static final String FOODS = """
            The favorite food of several people:
            - Summanus Ferdinand: tacos
            - Tekakwitha Effie: pizza
            - Filip Carola: cake
            """;
    private static final Reply SEARCH = Reply.toolCalls(new ToolCall("call_up_search", "file_search",
            "{\"queries\": [\"Filip favorite food\"]}"));

    @TempDir
    Path dataDir;

    // whole seconds, so that the stores' times are exactly the clock's
    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.ofEpochSecond(Instant.now().getEpochSecond()));
    private FakeUpstream model;
    private FakeEmbeddings embeddings;
    private Spindle spindle;
    private Api api;

    @BeforeEach
    void start() {
        model = FakeUpstream.start().respondWith(body -> Reply.error(500, "FakeUpstream: this test scripted no further request"));
        embeddings = FakeEmbeddings.start();
        Map<String, String> env = new HashMap<>(embeddings.settings());
        env.put("SPINDLE_PORT", "0");
        env.put("SPINDLE_DATA_DIR", dataDir.toString());
        env.put("SPINDLE_UPSTREAM_URL", model.baseUrl());
        env.put("SPINDLE_UPSTREAM_RETRIES", "0");
        env.put("SPINDLE_POLL_AFTER_MS", "50");
        spindle = Spindle.start(Settings.fromEnvironment(env), now::get);
        api = new Api("http://127.0.0.1:" + spindle.port(), null);
    }

    @AfterEach
    void stop() {
        // a held ingestion would keep the server's shutdown waiting for it
        embeddings.release();
        try {
            spindle.close();
        } finally {
            embeddings.close();
            model.close();
        }
    }

    @Test
    void aRunsSearchKeepsTheStoreAliveAndARunSearchingItOnceExpiredFailsNamingTheStore() throws InterruptedException {
        String file = api.uploadFile("assistants", "favorite_foods.txt", FOODS.getBytes(StandardCharsets.UTF_8));
        String store = api.post("/v1/vector_stores", Map.of("file_ids", List.of(file),
                "expires_after", Map.of("anchor", "last_active_at", "days", 1))).ok().path("id").asText();
        api.await("/v1/vector_stores/" + store, s -> s.path("status").asText().equals("completed"), INGESTED);
        String assistant = assistantSearching(Map.of("vector_store_ids", List.of(store)));

        // a run searching it 20 hours later moves last_active_at, so 20 hours after that it has not expired
        now.set(now.get().plus(Duration.ofHours(20)));
        long searchedAt = now.get().getEpochSecond();
        model.enqueue(SEARCH, Reply.text("Cake."));
        String earlierThread = threadAsking(Map.of());
        String earlierRun = api.post("/v1/threads/" + earlierThread + "/runs", Map.of("assistant_id", assistant)).ok().path("id").asText();
        assertThat(awaitEnd(earlierThread, earlierRun).path("status").asText()).isEqualTo("completed");
        JsonNode used = api.get("/v1/vector_stores/" + store).ok();
        assertThat(used.path("last_active_at").asLong()).isEqualTo(searchedAt);
        assertThat(used.path("expires_at").asLong()).isEqualTo(searchedAt + Duration.ofDays(1).toSeconds());
        now.set(now.get().plus(Duration.ofHours(20)));
        assertThat(api.get("/v1/vector_stores/" + store).ok().path("status").asText()).isEqualTo("completed");

        now.set(now.get().plus(Duration.ofDays(2)));
        int asked = model.requestCount();
        assertThat(api.get("/v1/vector_stores/" + store).ok().path("status").asText()).isEqualTo("expired");
        model.enqueue(SEARCH);
        String thread = threadAsking(Map.of());
        String runId = api.post("/v1/threads/" + thread + "/runs", Map.of("assistant_id", assistant)).ok().path("id").asText();
        JsonNode run = awaitEnd(thread, runId);

        assertThat(run.path("status").asText()).as("run %s", run).isEqualTo("failed");
        assertThat(run.path("last_error").path("code").asText()).isEqualTo("server_error");
        assertThat(run.path("last_error").path("message").asText()).isEqualTo("Vector store '" + store + "' has expired.");
        assertThat(model.requestCount() - asked).as("the model was not asked again after the failed search").isEqualTo(1);
        JsonNode steps = api.get(runPath(thread, run) + "/steps").ok().path("data");
        assertThat(steps).hasSize(1);
        assertThat(steps.path(0).path("status").asText()).isEqualTo("failed");
        assertThat(steps.path(0).path("last_error")).isEqualTo(run.path("last_error"));
        assertThat(steps.path(0).path("step_details").path("tool_calls").path(0).path("type").asText()).isEqualTo("file_search");
        assertThat(api.get("/v1/vector_stores/" + store).ok().path("status").asText()).as("the run did not revive the store")
                .isEqualTo("expired");
    }

    @Test
    void aRunWaitsForTheFileStillBeingIngestedIntoTheThreadsStore() throws InterruptedException {
        String file = api.uploadFile("assistants", "favorite_foods.txt", FOODS.getBytes(StandardCharsets.UTF_8));
        embeddings.hold("Summanus");
        String store = api.post("/v1/vector_stores", Map.of("file_ids", List.of(file))).ok().path("id").asText();
        String assistant = assistantSearching(null);
        String thread = threadAsking(Map.of("file_search", Map.of("vector_store_ids", List.of(store))));
        String answer = "Filip likes cake【0:0†favorite_foods.txt】.";
        model.enqueue(SEARCH, Reply.text(answer));

        JsonNode created = api.post("/v1/threads/" + thread + "/runs", Map.of("assistant_id", assistant)).ok();
        assertThat(api.get("/v1/vector_stores/" + store).ok().path("status").asText()).isEqualTo("in_progress");
        assertThat(model.awaitRequests(1, Duration.ofSeconds(30))).as("the model asked for the search").isTrue();
        JsonNode searching = api.await(runPath(thread, created) + "/steps", s -> s.path("data").size() == 1, Duration.ofSeconds(30));
        // the run waits: however long it is given, it neither searches nor asks the model again while the file is in progress
        Thread.sleep(1_000);
        assertThat(model.requestCount()).isEqualTo(1);
        JsonNode stillSearching = api.get(runPath(thread, created) + "/steps").ok().path("data").path(0);
        assertThat(stillSearching.path("id")).isEqualTo(searching.path("data").path(0).path("id"));
        assertThat(stillSearching.path("status").asText()).isEqualTo("in_progress");
        assertThat(api.get(runPath(thread, created)).ok().path("status").asText()).isEqualTo("in_progress");
        assertThat(api.get("/v1/vector_stores/" + store).ok().path("status").asText()).isEqualTo("in_progress");

        embeddings.release();
        JsonNode run = awaitEnd(thread, created.path("id").asText());

        assertThat(run.path("status").asText()).as("run %s", run).isEqualTo("completed");
        JsonNode steps = api.get(runPath(thread, run) + "/steps?order=asc").ok().path("data");
        assertThat(steps).extracting(s -> s.path("type").asText()).containsExactly("tool_calls", "message_creation");
        JsonNode results = steps.path(0).path("step_details").path("tool_calls").path(0).path("file_search").path("results");
        assertThat(results).isNotEmpty();
        assertThat(results.path(0).path("file_id").asText()).isEqualTo(file);
        JsonNode toolMessage = model.requests().get(1).path("messages").valueStream()
                .filter(m -> m.path("role").asText().equals("tool")).findFirst().orElseThrow();
        assertThat(toolMessage.path("content").asText()).contains("【0:0†favorite_foods.txt】").contains("Filip Carola: cake");
        JsonNode message = api.get("/v1/threads/" + thread + "/messages/"
                + steps.path(1).path("step_details").path("message_creation").path("message_id").asText()).ok();
        assertThat(message.path("content").path(0).path("text").path("annotations").path(0).path("file_citation")
                .path("file_id").asText()).isEqualTo(file);
    }

    @Test
    void aRunCancelledWhileItWaitsForTheThreadsFilesStopsWaiting() throws InterruptedException {
        String file = api.uploadFile("assistants", "favorite_foods.txt", FOODS.getBytes(StandardCharsets.UTF_8));
        embeddings.hold("Summanus");
        String store = api.post("/v1/vector_stores", Map.of("file_ids", List.of(file))).ok().path("id").asText();
        String thread = threadAsking(Map.of("file_search", Map.of("vector_store_ids", List.of(store))));
        model.enqueue(SEARCH);
        JsonNode created = api.post("/v1/threads/" + thread + "/runs", Map.of("assistant_id", assistantSearching(null))).ok();
        api.await(runPath(thread, created) + "/steps", s -> s.path("data").path(0).path("step_details").path("tool_calls").size() == 1,
                Duration.ofSeconds(30));

        api.post(runPath(thread, created) + "/cancel", Map.of()).ok();
        JsonNode run = awaitEnd(thread, created.path("id").asText());

        assertThat(run.path("status").asText()).as("run %s", run).isEqualTo("cancelled");
        assertThat(api.get("/v1/vector_stores/" + store).ok().path("status").asText()).as("cancelled while the file was held")
                .isEqualTo("in_progress");
        JsonNode steps = api.get(runPath(thread, run) + "/steps").ok().path("data");
        assertThat(steps).extracting(st -> st.path("status").asText()).containsExactly("cancelled");
        assertThat(model.requestCount()).isEqualTo(1);
    }

    /** An assistant with file_search, and these {@code tool_resources.file_search} (or none). */
    private String assistantSearching(Map<String, Object> fileSearchResources) {
        Map<String, Object> body = new HashMap<>(Map.of("model", "gpt-4o", "tools", List.of(Map.of("type", "file_search"))));
        if (fileSearchResources != null) {
            body.put("tool_resources", Map.of("file_search", fileSearchResources));
        }
        return api.post("/v1/assistants", body).ok().path("id").asText();
    }

    private String threadAsking(Map<String, Object> toolResources) {
        return api.post("/v1/threads", Map.of("messages", List.of(Map.of("role", "user", "content", "What's Filip's favorite food?")),
                "tool_resources", toolResources)).ok().path("id").asText();
    }

    /** Waits until the run has ended (or waits for tool outputs). */
    private JsonNode awaitEnd(String thread, String runId) throws InterruptedException {
        return api.await("/v1/threads/" + thread + "/runs/" + runId, r -> !List.of("queued", "in_progress", "cancelling")
                .contains(r.path("status").asText()), Duration.ofSeconds(60));
    }

    private static String runPath(String thread, JsonNode run) {
        return "/v1/threads/" + thread + "/runs/" + run.path("id").asText();
    }
}
