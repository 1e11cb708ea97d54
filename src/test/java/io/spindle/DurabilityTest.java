package io.spindle;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindle.testing.Api;
import io.spindle.testing.ServerProcesses;
import io.spindle.testing.ServerProcesses.Server;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Spindle as a separate process ({@link ServerProcesses}), killed with SIGKILL and started again on
 * the same storage: every answered write must be there afterwards, with exactly the JSON it was
 * answered with. The servers' output goes to {@code target/durability-logs/}.
 */
class DurabilityTest {
    enum Storage { SQLITE, POSTGRESQL }

    @TempDir
    Path dataDir;

    private final List<Thread> workers = new ArrayList<>();
    @AutoClose
    private ServerProcesses servers;

    @AfterEach
    void stopWorkers() throws InterruptedException {
        for (Thread t : workers) {
            t.interrupt();
            t.join(60_000);
        }
    }

    // ---- the scenarios

    @ParameterizedTest
    @EnumSource(value = Storage.class, names = {"SQLITE", "POSTGRESQL"})
    void everyObjectSurvivesAKill(Storage storage) throws Exception {
        begin("objects-" + storage.name().toLowerCase());
        Map<String, String> env = storageEnv(storage);
        Server first = start(env);
        Api api = first.api();

        // Create, modify and delete a bit of everything, remembering each answer.
        Map<String, String> answered = new LinkedHashMap<>();
        List<String> gone = new ArrayList<>();
        Api.Response full = ok(api.post("/v1/assistants", """
                {"model": "gpt-4o", "name": "Full", "description": "every field", "instructions": "Be brief.\\nReally.",
                 "tools": [{"type": "code_interpreter"},
                           {"type": "file_search", "file_search": {"max_num_results": 5, "ranking_options": {"score_threshold": 0.5}}},
                           {"type": "function", "function": {"name": "lookup", "description": "Looks up ✓ 𝄞",
                            "parameters": {"type": "object", "properties": {"q": {"type": "string"}, "n": {"type": "number", "minimum": 1.0, "maximum": 10}},
                                           "required": ["q"]}, "strict": false}}],
                 "top_p": 1, "temperature": 1, "reasoning_effort": "low",
                 "metadata": {"zulu": "1", "alpha": "2", "mike": "3"},
                 "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object"}, "strict": true}}}
                """));
        answered.put("/v1/assistants/" + full.json().get("id").asText(), full.body());
        assertThat(full.body()).contains("\"top_p\":1.0,\"temperature\":1.0,")
                .contains("\"metadata\":{\"zulu\":\"1\",\"alpha\":\"2\",\"mike\":\"3\"}");
        Api.Response minimal = ok(api.post("/v1/assistants", "{\"model\": \"gpt-4o-mini\"}"));
        answered.put("/v1/assistants/" + minimal.json().get("id").asText(), minimal.body());
        String modifiedId = api.post("/v1/assistants", "{\"model\": \"gpt-4o\", \"name\": \"before\"}").ok().get("id").asText();
        Api.Response modified = ok(api.post("/v1/assistants/" + modifiedId,
                "{\"name\": \"after\", \"temperature\": 0.25, \"metadata\": {\"changed\": \"yes\"}}"));
        answered.put("/v1/assistants/" + modifiedId, modified.body());
        String deletedId = api.post("/v1/assistants", "{\"model\": \"gpt-4o\"}").ok().get("id").asText();
        api.delete("/v1/assistants/" + deletedId).ok();
        gone.add("/v1/assistants/" + deletedId);

        JsonNode thread = api.post("/v1/threads", """
                {"messages": [{"role": "user", "content": "first", "metadata": {"b": "1", "a": "2"}},
                              {"role": "assistant", "content": [{"type": "text", "text": "second"}]},
                              {"role": "user", "content": "third"}],
                 "metadata": {"topic": "durability"}}
                """).ok();
        String threadId = thread.get("id").asText();
        Api.Response threadModified = ok(api.post("/v1/threads/" + threadId, "{\"metadata\": {\"topic\": \"changed\"}}"));
        answered.put("/v1/threads/" + threadId, threadModified.body());
        JsonNode initial = api.get("/v1/threads/" + threadId + "/messages?order=asc").ok();
        assertThat(initial.get("data")).hasSize(3);
        for (JsonNode m : initial.get("data")) {
            String path = "/v1/threads/" + threadId + "/messages/" + m.get("id").asText();
            Api.Response one = ok(api.get(path));
            assertThat(one.json()).isEqualTo(m);
            answered.put(path, one.body());
        }
        JsonNode added = api.post("/v1/threads/" + threadId + "/messages", "{\"role\": \"user\", \"content\": \"fourth\"}").ok();
        String addedPath = "/v1/threads/" + threadId + "/messages/" + added.get("id").asText();
        Api.Response addedModified = ok(api.post(addedPath, "{\"metadata\": {\"edited\": \"true\"}}"));
        answered.put(addedPath, addedModified.body());
        String removed = api.post("/v1/threads/" + threadId + "/messages", "{\"role\": \"user\", \"content\": \"removed\"}")
                .ok().get("id").asText();
        api.delete("/v1/threads/" + threadId + "/messages/" + removed).ok();
        gone.add("/v1/threads/" + threadId + "/messages/" + removed);

        String emptyThreadId = api.post("/v1/threads", "{}").ok().get("id").asText();
        answered.put("/v1/threads/" + emptyThreadId, ok(api.get("/v1/threads/" + emptyThreadId)).body());
        JsonNode deletedThread = api.post("/v1/threads", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}").ok();
        String deletedThreadId = deletedThread.get("id").asText();
        String orphan = api.get("/v1/threads/" + deletedThreadId + "/messages").ok().get("data").get(0).get("id").asText();
        api.delete("/v1/threads/" + deletedThreadId).ok();
        gone.add("/v1/threads/" + deletedThreadId);
        gone.add("/v1/threads/" + deletedThreadId + "/messages/" + orphan);

        // Every read agrees with the answers; the lists are snapshotted as they are.
        for (Map.Entry<String, String> e : answered.entrySet()) {
            assertThat(ok(api.get(e.getKey())).body()).as(e.getKey()).isEqualTo(e.getValue());
        }
        List<String> lists = List.of("/v1/assistants?order=asc&limit=100", "/v1/assistants",
                "/v1/threads/" + threadId + "/messages?order=asc", "/v1/threads/" + threadId + "/messages?limit=2",
                "/v1/threads/" + emptyThreadId + "/messages");
        Map<String, String> listBodies = new LinkedHashMap<>();
        for (String path : lists) {
            listBodies.put(path, ok(api.get(path)).body());
        }
        assertThat(api.get("/v1/assistants?order=asc&limit=100").ok().get("data")).hasSize(3);

        kill(first);
        Server second = start(env);

        for (Map.Entry<String, String> e : answered.entrySet()) {
            Api.Response r = second.api().get(e.getKey());
            assertThat(r.status()).as(e.getKey()).isEqualTo(200);
            assertThat(r.body()).as(e.getKey()).isEqualTo(e.getValue());
        }
        for (Map.Entry<String, String> e : listBodies.entrySet()) {
            assertThat(ok(second.api().get(e.getKey())).body()).as(e.getKey()).isEqualTo(e.getValue());
        }
        for (String path : gone) {
            assertThat(second.api().get(path).status()).as(path).isEqualTo(404);
        }
        // The restarted server goes on writing after the recovered objects.
        String next = second.api().post("/v1/assistants", "{\"model\": \"gpt-4o\"}").ok().get("id").asText();
        JsonNode after = second.api().get("/v1/assistants?order=asc&limit=100").ok();
        assertThat(after.get("data")).hasSize(4);
        assertThat(after.get("last_id").asText()).isEqualTo(next);
    }

    @ParameterizedTest
    @EnumSource(value = Storage.class, names = {"SQLITE", "POSTGRESQL"})
    void answeredWritesSurviveAKillDuringABurst(Storage storage) throws Exception {
        begin("burst-" + storage.name().toLowerCase());
        Map<String, String> env = storageEnv(storage);
        Server first = start(env);
        AtomicInteger answeredCount = new AtomicInteger();
        List<Writer> writers = new ArrayList<>();
        for (int n = 0; n < 8; n++) {
            writers.add(new Writer(n, first.api(), answeredCount));
        }
        for (Writer w : writers) {
            Thread t = Thread.ofPlatform().name("writer-" + w.n).start(w);
            workers.add(t);
        }

        long deadline = System.currentTimeMillis() + 60_000;
        while (answeredCount.get() < 300 && System.currentTimeMillis() < deadline) {
            for (Writer w : writers) {
                if (w.failure != null) {
                    throw new AssertionError("writer " + w.n + " failed before the kill", w.failure);
                }
            }
            Thread.sleep(5);
        }
        kill(first);
        int answeredAtKill = answeredCount.get();
        for (Thread t : workers) {
            t.join(60_000);
            assertThat(t.isAlive()).as("%s stopped", t.getName()).isFalse();
        }
        // Every writer was still busy when the server died, and only the kill stopped it.
        for (Writer w : writers) {
            assertThat(w.failure).as("writer %d", w.n).isInstanceOf(UncheckedIOException.class);
        }
        assertThat(answeredAtKill).isGreaterThanOrEqualTo(40);

        Server second = start(env);
        Api api = second.api();
        int checked = 0;
        for (Writer w : writers) {
            assertThat(w.threadId).as("writer %d got going", w.n).isNotNull();
            for (Map.Entry<String, String> e : w.answered.entrySet()) {
                Api.Response r = api.get(e.getKey());
                if (e.getKey().equals(w.pendingDelete)) {
                    assertThat(r.status()).as(e.getKey()).isIn(200, 404);
                    if (r.status() == 404) {
                        continue;
                    }
                }
                assertThat(r.status()).as(e.getKey()).isEqualTo(200);
                assertThat(r.body()).as(e.getKey()).isEqualTo(e.getValue());
                checked++;
            }
            for (String path : w.deleted) {
                assertThat(api.get(path).status()).as(path).isEqualTo(404);
            }
            // The home assistant holds the last answered change, or the one in flight at the kill.
            JsonNode home = api.get(w.homePath).ok();
            JsonNode lastAnswered = parse(w.homeBody);
            String n = home.path("metadata").path("n").asText(null);
            if (!home.equals(lastAnswered)) {
                assertThat(n).as(w.homePath).isEqualTo(Integer.toString(w.pendingN));
                ((ObjectNode) home).remove("metadata");
                ((ObjectNode) lastAnswered).remove("metadata");
                assertThat(home).isEqualTo(lastAnswered);
            }
            // The writer's own thread lists its answered messages in order, plus at most the one in flight.
            List<String> listed = new ArrayList<>();
            String after = null;
            while (true) {
                JsonNode page = api.get("/v1/threads/" + w.threadId + "/messages?order=asc&limit=100"
                        + (after == null ? "" : "&after=" + after)).ok();
                page.get("data").forEach(m -> listed.add(m.get("id").asText()));
                if (!page.get("has_more").asBoolean()) {
                    break;
                }
                after = page.get("last_id").asText();
            }
            assertThat(listed.size()).isBetween(w.messageIds.size(), w.messageIds.size() + 1);
            assertThat(listed.subList(0, w.messageIds.size())).isEqualTo(w.messageIds);
            // Threads were stored whole: both initial messages or (in flight) nothing.
            for (String threadId : w.threadIds) {
                JsonNode messages = api.get("/v1/threads/" + threadId + "/messages?order=asc").ok().get("data");
                assertThat(messages).hasSize(2);
                assertThat(messages.get(0).at("/content/0/text/value").asText()).isEqualTo("question");
                assertThat(messages.get(1).at("/content/0/text/value").asText()).isEqualTo("answer");
            }
        }
        note("killed after " + answeredAtKill + " answered writes; " + checked + " answered objects checked after the restart");
        assertThat(checked).isGreaterThanOrEqualTo(20);
    }

    /**
     * One client writing in a loop until the server goes away: creates assistants, messages and
     * threads, modifies its home assistant and deletes its own assistants. It records every answer
     * and the one write that may have been in flight.
     */
    private static final class Writer implements Runnable {
        final int n;
        final Api api;
        final AtomicInteger answeredCount;
        final Map<String, String> answered = new LinkedHashMap<>();
        final List<String> deleted = new ArrayList<>();
        final List<String> messageIds = new ArrayList<>();
        final List<String> threadIds = new ArrayList<>();
        final List<String> assistants = new ArrayList<>();
        String threadId;
        String homePath;
        String homeBody;
        int pendingN = -1;
        String pendingDelete;
        volatile Throwable failure;

        Writer(int n, Api api, AtomicInteger answeredCount) {
            this.n = n;
            this.api = api;
            this.answeredCount = answeredCount;
        }

        @Override
        public void run() {
            try {
                Api.Response home = ok(api.post("/v1/assistants", "{\"model\": \"gpt-4o\", \"name\": \"home " + n + "\"}"));
                homePath = "/v1/assistants/" + home.json().get("id").asText();
                homeBody = home.body();
                threadId = api.post("/v1/threads", "{}").ok().get("id").asText();
                for (int i = 0; i < 100_000 && !Thread.currentThread().isInterrupted(); i++) {
                    step(i);
                    answeredCount.incrementAndGet();
                }
                failure = new AssertionError("writer " + n + " ran out of work before the kill");
            } catch (Throwable t) {
                failure = t;
            }
        }

        private void step(int i) {
            switch (i % 5) {
                case 0 -> {
                    Api.Response a = ok(api.post("/v1/assistants", "{\"model\": \"gpt-4o\", \"name\": \"w" + n + "-" + i
                            + "\", \"top_p\": 1, \"metadata\": {\"writer\": \"" + n + "\", \"i\": \"" + i + "\"}}"));
                    String path = "/v1/assistants/" + a.json().get("id").asText();
                    answered.put(path, a.body());
                    assistants.add(path);
                }
                case 1 -> {
                    Api.Response m = ok(api.post("/v1/threads/" + threadId + "/messages",
                            "{\"role\": \"user\", \"content\": \"writer " + n + " message " + i + "\"}"));
                    String id = m.json().get("id").asText();
                    answered.put("/v1/threads/" + threadId + "/messages/" + id, m.body());
                    messageIds.add(id);
                }
                case 2 -> {
                    pendingN = i;
                    homeBody = ok(api.post(homePath, "{\"metadata\": {\"n\": \"" + i + "\"}}")).body();
                    pendingN = -1;
                }
                case 3 -> {
                    Api.Response t = ok(api.post("/v1/threads", "{\"messages\": [{\"role\": \"user\", \"content\": \"question\"}, "
                            + "{\"role\": \"assistant\", \"content\": \"answer\"}], \"metadata\": {\"i\": \"" + i + "\"}}"));
                    String id = t.json().get("id").asText();
                    answered.put("/v1/threads/" + id, t.body());
                    threadIds.add(id);
                }
                default -> {
                    // Deletes every other assistant this writer created.
                    if (assistants.size() >= 2) {
                        String path = assistants.remove(assistants.size() - 2);
                        pendingDelete = path;
                        api.delete(path).ok();
                        answered.remove(path);
                        deleted.add(path);
                        pendingDelete = null;
                    }
                }
            }
        }
    }

    // ---- running servers

    private Map<String, String> storageEnv(Storage storage) {
        Map<String, String> env = new HashMap<>();
        env.put("SPINDLE_DATA_DIR", dataDir.toString());
        if (storage == Storage.POSTGRESQL) {
            env.put("SPINDLE_DATABASE_URL", servers.freshPostgres());
        }
        return env;
    }

    /** Starts {@code java io.spindle.Main serve} on a free port and waits until /readyz answers 200. */
    private Server start(Map<String, String> settings) throws IOException, InterruptedException {
        return servers.start(settings);
    }

    /** SIGKILL: no shutdown hook runs, nothing is flushed or closed. */
    private void kill(Server server) throws InterruptedException, IOException {
        servers.kill(server);
    }

    /** A line in the test's server log, between the servers' own output. */
    private void note(String line) throws IOException {
        servers.note(line);
    }

    /** Names the test's server log ({@code target/durability-logs/<name>.log}) and starts it afresh. */
    private void begin(String name) {
        servers = new ServerProcesses("durability-logs", name);
    }

    private static JsonNode parse(String body) {
        return io.spindle.api.Json.read(body, JsonNode.class);
    }

    /** The response, after checking it is a 200. */
    private static Api.Response ok(Api.Response response) {
        response.ok();
        return response;
    }
}
