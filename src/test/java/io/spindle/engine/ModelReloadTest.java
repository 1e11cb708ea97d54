package io.spindle.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.spindle.testing.Api;
import io.spindle.testing.FakeUpstream;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.ServerProcesses;
import io.spindle.testing.ServerProcesses.Server;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -HUP} makes a running server read its models file again: a run whose answer is streaming finishes on
 * the upstream it started with, the next run goes where the new file says, and a broken file changes nothing but a
 * log line. Spindle runs as a separate process; its output goes to {@code target/model-reload-logs/}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ModelReloadTest {
    /** 40 pieces of 3 characters, 100 ms apart: the answer streams for about 4 s. */
    private static final String SLOW_ANSWER = "This answer streams slowly while the models file changes under it, and ends.";

    @TempDir
    Path dir;

    @AutoClose
    private final FakeUpstream oldUpstream = FakeUpstream.start();
    @AutoClose
    private final FakeUpstream newUpstream = FakeUpstream.start();
    @AutoClose
    private ServerProcesses servers;

    @Test
    void aRunStreamingDuringTheReloadEndsOnItsUpstreamAndTheNextRunGoesToTheNewOne() throws Exception {
        Path models = dir.resolve("models.json");
        writeRoute(models, "before", oldUpstream, "");
        servers = new ServerProcesses("model-reload-logs", "reload-during-run");
        Server server = servers.start(Map.of("SPINDLE_DATA_DIR", dir.resolve("data").toString(),
                "SPINDLE_MODELS_FILE", models.toString(), "SPINDLE_UPSTREAM_RETRIES", "0"));
        Api api = server.api();
        String assistantId = api.post("/v1/assistants", Map.of("model", "gpt-4o")).ok().path("id").asText();
        oldUpstream.respondWith(body -> Reply.text(SLOW_ANSWER).withChunkDelay(Duration.ofMillis(100)));
        newUpstream.respondWith(body -> Reply.text("from the new upstream"));

        JsonNode first = startRun(api, assistantId);
        assertThat(oldUpstream.awaitRequests(1, Duration.ofSeconds(20))).as("the first run's call began").isTrue();
        writeRoute(models, "after", newUpstream, ", \"upstream_model\": \"llama3.1:70b\"");
        hangUp(server);
        awaitOwner(api, "after");

        JsonNode firstDone = awaitEnd(api, first);
        assertThat(firstDone.path("status").asText()).as("run %s", firstDone).isEqualTo("completed");
        assertThat(answer(api, first)).isEqualTo(SLOW_ANSWER);
        assertThat(oldUpstream.abortedStreams()).as("the call under way was not cut").isZero();
        assertThat(newUpstream.requestCount()).as("nothing of the first run went to the new upstream").isZero();

        JsonNode second = startRun(api, assistantId);
        assertThat(awaitEnd(api, second).path("status").asText()).isEqualTo("completed");
        assertThat(answer(api, second)).isEqualTo("from the new upstream");
        assertThat(newUpstream.lastRequest().path("model").asText()).isEqualTo("llama3.1:70b");
        assertThat(oldUpstream.requestCount()).isEqualTo(1);

        Files.writeString(models, "{\"routes\": [{\"name\": \"broken\", \"models\": [\"gpt-4o\"], \"kind\": \"bedrock\"}]}");
        hangUp(server);
        String line = awaitLogLine("the models file was not taken");
        assertThat(line).contains("route 'broken': kind must be one of openai, azure, got 'bedrock'");
        assertThat(server.process().isAlive()).as("SIGHUP does not stop a server with a models file").isTrue();
        assertThat(api.get("/v1/models/gpt-4o").ok().path("owned_by").asText()).as("the routes in use stay").isEqualTo("after");
        JsonNode third = startRun(api, assistantId);
        assertThat(awaitEnd(api, third).path("status").asText()).isEqualTo("completed");
        assertThat(newUpstream.requestCount()).isEqualTo(2);
        assertThat(Files.readString(servers.log())).as("no stack trace for a bad file").doesNotContain("\tat ");
    }

    private static void writeRoute(Path models, String name, FakeUpstream upstream, String extra) throws IOException {
        Files.writeString(models, """
                {"routes": [{"name": "%s", "models": ["gpt-4o"], "base_url": "%s"%s}]}
                """.formatted(name, upstream.baseUrl(), extra));
    }

    private void hangUp(Server server) throws IOException, InterruptedException {
        servers.note("SIGHUP to pid " + server.process().pid());
        Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(server.process().pid())).inheritIO().start();
        assertThat(kill.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).isZero();
    }

    /** Waits until gpt-4o belongs to the route {@code name}: the server read the file. */
    private static void awaitOwner(Api api, String name) throws InterruptedException {
        JsonNode model = api.await("/v1/models/gpt-4o", m -> m.path("owned_by").asText().equals(name), Duration.ofSeconds(20));
        assertThat(model.path("owned_by").asText()).isEqualTo(name);
    }

    private String awaitLogLine(String text) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            List<String> hits = Files.readAllLines(servers.log()).stream().filter(l -> l.contains(text)).toList();
            if (!hits.isEmpty()) {
                return hits.getFirst();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no log line with '" + text + "':\n" + Files.readString(servers.log()));
    }

    private static JsonNode startRun(Api api, String assistantId) {
        return api.post("/v1/threads/runs", Map.of("assistant_id", assistantId,
                "thread", Map.of("messages", List.of(Map.of("role", "user", "content", "Hello"))))).ok();
    }

    private static JsonNode awaitEnd(Api api, JsonNode run) throws InterruptedException {
        return api.await(runPath(run), r -> List.of("completed", "failed", "cancelled", "expired", "incomplete")
                .contains(r.path("status").asText()), Duration.ofSeconds(30));
    }

    private static String answer(Api api, JsonNode run) {
        JsonNode messages = api.get("/v1/threads/" + run.path("thread_id").asText() + "/messages?run_id="
                + run.path("id").asText()).ok().path("data");
        return messages.get(0).at("/content/0/text/value").asText();
    }

    private static String runPath(JsonNode run) {
        return "/v1/threads/" + run.path("thread_id").asText() + "/runs/" + run.path("id").asText();
    }
}
