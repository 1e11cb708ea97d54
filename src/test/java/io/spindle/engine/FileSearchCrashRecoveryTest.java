package io.spindle.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.spindle.testing.Api;
import io.spindle.testing.FakeEmbeddings;
import io.spindle.testing.FakeUpstream;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.FakeUpstream.ToolCall;
import io.spindle.testing.ServerProcesses;
import io.spindle.testing.ServerProcesses.Server;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs that use file_search survive a SIGKILL of their server (a separate process, {@link ServerProcesses}) on SQLite:
 * killed after the search step completed, while the model is asked the next question, or killed during the search
 * itself, while it waits for a file still in ingestion (held by {@link FakeEmbeddings}). Restarted on the same data,
 * each run completes with one search step, one message step and one answer, its citation intact. The servers' output
 * goes to {@code target/crash-recovery-logs/}.
 */
// A stuck server process must fail its test, never hang the build.
@Timeout(value = 150, unit = java.util.concurrent.TimeUnit.SECONDS)
class FileSearchCrashRecoveryTest {
    private static final String NODE = "crash-test-node";
    private static final String FOODS = """
            The favorite food of several people:
            - Summanus Ferdinand: tacos
            - Tekakwitha Effie: pizza
            - Filip Carola: cake
            """;
    private static final String MARKER = "【0:0†favorite_foods.txt】";
    private static final String ANSWER = "Filip likes cake" + MARKER + ".";
    private static final Reply SEARCH = Reply.toolCalls(new ToolCall("call_up_search", "file_search",
            "{\"queries\": [\"Filip favorite food\"]}"));
    private static final Duration WAIT = Duration.ofSeconds(45);

    @TempDir
    Path dataDir;

    @AutoClose
    private final FakeUpstream model = FakeUpstream.start()
            .respondWith(body -> Reply.error(500, "FakeUpstream: this test scripted no further request"));
    @AutoClose
    private final FakeEmbeddings embeddings = FakeEmbeddings.start();
    @AutoClose
    private ServerProcesses servers;

    @Test
    void killedAfterTheSearchWhileTheModelIsAskedAgainTheRunCompletesWithTheSearchKept() throws Exception {
        servers = new ServerProcesses("crash-recovery-logs", "file-search-after-search");
        Server first = servers.start(env());
        Api api = first.api();
        String file = api.uploadFile("assistants", "favorite_foods.txt", FOODS.getBytes(StandardCharsets.UTF_8));
        String store = api.post("/v1/vector_stores", Map.of("file_ids", List.of(file))).ok().path("id").asText();
        api.await("/v1/vector_stores/" + store, s -> s.path("status").asText().equals("completed"), WAIT);
        String assistant = api.post("/v1/assistants", Map.of("model", "gpt-4o", "tools", List.of(Map.of("type", "file_search")),
                "tool_resources", Map.of("file_search", Map.of("vector_store_ids", List.of(store))))).ok().path("id").asText();
        String thread = threadAsking(api, Map.of());
        model.enqueue(SEARCH, Reply.hang());
        String run = api.post("/v1/threads/" + thread + "/runs", Map.of("assistant_id", assistant)).ok().path("id").asText();

        assertThat(model.awaitRequests(2, WAIT)).as("the model was asked again after the search").isTrue();
        JsonNode before = steps(api, thread, run);
        assertThat(before).hasSize(1);
        assertThat(before.path(0).path("status").asText()).isEqualTo("completed");
        servers.kill(first);
        assertThat(model.awaitAbortedStreams(1, Duration.ofSeconds(10))).as("the hanging answer was cut off by the kill").isTrue();

        model.enqueue(Reply.text(ANSWER));
        Server second = servers.start(env());
        JsonNode done = awaitEnd(second.api(), thread, run);

        assertThat(done.path("status").asText()).as("run %s", done).isEqualTo("completed");
        JsonNode after = assertOneSearchThenOneAnswer(second.api(), thread, run, file);
        for (String field : List.of("id", "step_details", "completed_at", "usage")) {
            assertThat(after.path(0).path(field)).as("the search step's %s, as before the kill", field).isEqualTo(before.path(0).path(field));
        }
        assertThat(model.requests()).hasSize(3);
        assertThat(model.requests().get(2)).as("the same question again, the search replayed, not run again")
                .isEqualTo(model.requests().get(1));
    }

    @Test
    void killedDuringTheSearchWhileItWaitsForAFileTheRunCompletesWithoutDuplicates() throws Exception {
        servers = new ServerProcesses("crash-recovery-logs", "file-search-during-search");
        Server first = servers.start(env());
        Api api = first.api();
        String file = api.uploadFile("assistants", "favorite_foods.txt", FOODS.getBytes(StandardCharsets.UTF_8));
        embeddings.hold("Summanus");
        String store = api.post("/v1/vector_stores", Map.of("file_ids", List.of(file))).ok().path("id").asText();
        String assistant = api.post("/v1/assistants", Map.of("model", "gpt-4o", "tools", List.of(Map.of("type", "file_search"))))
                .ok().path("id").asText();
        String thread = threadAsking(api, Map.of("file_search", Map.of("vector_store_ids", List.of(store))));
        model.enqueue(SEARCH);
        String run = api.post("/v1/threads/" + thread + "/runs", Map.of("assistant_id", assistant)).ok().path("id").asText();

        JsonNode searching = awaitSearchWaiting(api, thread, run, 1);
        servers.kill(first);

        // the model, asked again after the restart, searches again; the search waits for the file again
        model.enqueue(SEARCH, Reply.text(ANSWER));
        Server second = servers.start(env());
        JsonNode again = awaitSearchWaiting(second.api(), thread, run, 2);
        assertThat(again.path("id")).as("the interrupted search step is reused").isEqualTo(searching.path("id"));
        embeddings.release();
        JsonNode done = awaitEnd(second.api(), thread, run);

        assertThat(done.path("status").asText()).as("run %s", done).isEqualTo("completed");
        JsonNode after = assertOneSearchThenOneAnswer(second.api(), thread, run, file);
        assertThat(after.path(0).path("id")).isEqualTo(searching.path("id"));
        assertThat(model.requests()).hasSize(3);
        assertThat(model.requests().get(1)).as("the same question again: the interrupted search is not in the prompt")
                .isEqualTo(model.requests().get(0));
    }

    /**
     * Waits until the model was asked {@code requests} times and the run's one step holds the search call, in
     * progress: the search waits for the held file. Returns that step.
     */
    private JsonNode awaitSearchWaiting(Api api, String thread, String run, int requests) throws Exception {
        assertThat(model.awaitRequests(requests, WAIT)).as("the model was asked %d times", requests).isTrue();
        JsonNode steps = awaitSteps(api, thread, run, s -> s.size() == 1 && s.path(0).path("step_details").path("tool_calls").size() == 1);
        JsonNode step = steps.path(0);
        assertThat(step.path("status").asText()).isEqualTo("in_progress");
        assertThat(step.path("step_details").path("tool_calls").path(0).path("type").asText()).isEqualTo("file_search");
        assertThat(api.get("/v1/threads/" + thread + "/runs/" + run).ok().path("status").asText()).isEqualTo("in_progress");
        JsonNode store = api.get("/v1/threads/" + thread).ok().path("tool_resources").path("file_search").path("vector_store_ids");
        assertThat(api.get("/v1/vector_stores/" + store.path(0).asText()).ok().path("status").asText()).isEqualTo("in_progress");
        servers.note("run " + run + " waits in its search step " + step.path("id").asText());
        return step;
    }

    /** The run's steps: one file_search step that found the file, then one message step; one cited answer. */
    private static JsonNode assertOneSearchThenOneAnswer(Api api, String thread, String run, String file) {
        JsonNode steps = steps(api, thread, run);
        assertThat(steps).extracting(s -> s.path("type").asText() + ":" + s.path("status").asText())
                .containsExactly("tool_calls:completed", "message_creation:completed");
        JsonNode calls = steps.path(0).path("step_details").path("tool_calls");
        assertThat(calls).hasSize(1);
        assertThat(calls.path(0).path("type").asText()).isEqualTo("file_search");
        assertThat(calls.path(0).path("file_search").path("results").path(0).path("file_id").asText()).isEqualTo(file);

        JsonNode messages = api.get("/v1/threads/" + thread + "/messages?order=asc").ok().path("data");
        assertThat(messages).extracting(m -> m.path("role").asText()).containsExactly("user", "assistant");
        JsonNode answer = messages.path(1);
        assertThat(answer.path("id").asText()).isEqualTo(steps.path(1).path("step_details").path("message_creation")
                .path("message_id").asText());
        assertThat(answer.path("status").asText()).isEqualTo("completed");
        JsonNode text = answer.path("content").path(0).path("text");
        assertThat(text.path("value").asText()).isEqualTo(ANSWER);
        assertThat(text.path("annotations")).hasSize(1);
        assertThat(text.path("annotations").path(0).path("text").asText()).isEqualTo(MARKER);
        assertThat(text.path("annotations").path(0).path("file_citation").path("file_id").asText()).isEqualTo(file);
        return steps;
    }

    private static String threadAsking(Api api, Map<String, Object> toolResources) {
        return api.post("/v1/threads", Map.of("messages", List.of(Map.of("role", "user", "content", "What's Filip's favorite food?")),
                "tool_resources", toolResources)).ok().path("id").asText();
    }

    private static JsonNode steps(Api api, String thread, String run) {
        return api.get("/v1/threads/" + thread + "/runs/" + run + "/steps?order=asc").ok().path("data");
    }

    private JsonNode awaitSteps(Api api, String thread, String run, Predicate<JsonNode> until) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            JsonNode steps = steps(api, thread, run);
            if (until.test(steps)) {
                return steps;
            }
            if (System.nanoTime() > deadline) {
                fail("steps never as expected: " + steps + "\nserver output:\n" + Files.readString(servers.log()));
            }
            Thread.sleep(50);
        }
    }

    private JsonNode awaitEnd(Api api, String thread, String run) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            JsonNode current = api.get("/v1/threads/" + thread + "/runs/" + run).ok();
            if (!List.of("queued", "in_progress", "cancelling").contains(current.path("status").asText())) {
                return current;
            }
            if (System.nanoTime() > deadline) {
                fail("run still " + current.path("status").asText() + ": " + current + "\nserver output:\n"
                        + Files.readString(servers.log()));
            }
            Thread.sleep(50);
        }
    }

    /** A server on this test's SQLite data, calling the fake model without retries and embedding with the fake. */
    private Map<String, String> env() {
        Map<String, String> env = new HashMap<>(embeddings.settings());
        env.put("SPINDLE_DATA_DIR", dataDir.toString());
        env.put("SPINDLE_UPSTREAM_URL", model.baseUrl());
        env.put("SPINDLE_NODE_ID", NODE);
        env.put("SPINDLE_UPSTREAM_RETRIES", "0");
        return env;
    }
}
