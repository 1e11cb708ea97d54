package io.spindle.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.spindle.api.Json;
import io.spindle.testing.FakeUpstream;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.FakeUpstream.ToolCall;
import io.spindle.testing.TestServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Runs the Node SDK suite in {@code src/test/node} (runs, file_search and code_interpreter runs, files and vector stores; {@code node --test}, official {@code openai}
 * package pinned in its package.json) against a Spindle server and a fake model started here.
 * Without {@code node} on the PATH the test is skipped, except on CI (env {@code CI} set), where
 * it fails.
 */
class NodeSdkTest {
    private static final Path SUITE = Path.of("src", "test", "node");
    static final String FIXED_ANSWER = "Hello from the fake model. Streaming works, delta by delta!";
    /** The answer to a file_search result comes before the result's first marker, copied exactly (file_search.test.js). */
    static final String CITING_ANSWER_START = "Café crème ☕ 😀🎂 : Filip préfère le gâteau";
    private static final Pattern MARKER = Pattern.compile("【[^】]*】");
    /** The code the model runs when asked to compute, and what it prints (code_interpreter.test.js). */
    static final String COMPUTING_CODE = "squares = [n * n for n in range(1, 5)]\nprint(\"\u03a3 n\u00b2 \ud83d\ude00\", sum(squares))";
    /** The code the model runs when asked to chart: a figure and a CSV file, which its answer links. */
    static final String CHARTING_CODE = "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3, 4], [1, 4, 9, 16])\n"
            + "open('squares.csv', 'w').write('n,square\\n1,1\\n2,4\\n3,9\\n4,16\\n')";
    static final String CHARTED_ANSWER = "Here is the chart \ud83d\udcc8 and [the data](sandbox:/mnt/data/squares.csv).";
    static final String COMPUTED_LOGS = "\u03a3 n\u00b2 \ud83d\ude00 30\n";

    @Test
    void officialNodeSdkDrivesRunsAndStreams() throws Exception {
        String node = onPath("node");
        if (node == null) {
            String why = "node is not on the PATH; the Node SDK suite in " + SUITE + " needs Node 20 or later";
            if (System.getenv("CI") != null) {
                throw new AssertionError(why + " (CI is set, so this is a failure, not a skip)");
            }
            Assumptions.abort(why);
        }
        if (!Files.isDirectory(SUITE.resolve("node_modules").resolve("openai"))) {
            String npm = onPath("npm");
            assertThat(npm).as("npm on the PATH, to install the suite's packages").isNotNull();
            assertThat(run(List.of(npm, "ci", "--no-audit", "--no-fund"), Map.of(), 300)).as("npm ci exit code").isZero();
        }

        try (FakeUpstream fake = FakeUpstream.start();
             TestServer server = TestServer.start(TestServer.Storage.SQLITE, Map.of("SPINDLE_UPSTREAM_URL", fake.baseUrl()))) {
            fake.respondWith(NodeSdkTest::answer);
            int exit = run(List.of(node, "--test", "--test-reporter=spec"), Map.of("SPINDLE_BASE_URL", server.baseUrl()), 120);
            assertThat(exit).as("exit code of node --test (its output is above)").isZero();
            assertThat(fake.requestCount()).as("model calls the suite caused").isGreaterThanOrEqualTo(6);
        }
    }

    /** What the fake model says, from the conversation it is sent. */
    static Reply answer(JsonNode request) {
        JsonNode messages = request.path("messages");
        JsonNode last = messages.path(messages.size() - 1);
        if (last.path("role").asText().equals("tool") && calledBefore(messages, "code_interpreter")) {
            if (last.path("content").asText().contains("sandbox:/mnt/data/squares.csv")) {
                // small pieces, so the link arrives split over several chunks
                return Reply.text(CHARTED_ANSWER).withPieceSize(3);
            }
            return Reply.text("Computed: " + last.path("content").asText().strip() + ".");
        }
        if (last.path("role").asText().equals("tool")) {
            Matcher marker = MARKER.matcher(last.path("content").asText());
            if (marker.find()) {
                // small pieces, so the marker arrives split over several chunks and the emoji's surrogates too
                return Reply.text(CITING_ANSWER_START + marker.group() + ".").withPieceSize(2).withChunkDelay(Duration.ofMillis(5));
            }
            return Reply.text("The weather is " + last.path("content").asText() + ".");
        }
        boolean toolsOffered = request.path("tools").size() > 0;
        if (last.path("role").asText().equals("user") && offers(request, "code_interpreter")
                && last.path("content").toString().contains("chart")) {
            return Reply.toolCalls(new ToolCall("call_fake_chart", "code_interpreter",
                    Json.object().put("code", CHARTING_CODE).toString()));
        }
        if (last.path("role").asText().equals("user") && offers(request, "code_interpreter")
                && last.path("content").toString().contains("compute")) {
            // small pieces, so the code's escapes (\n, \") arrive split over several chunks
            return Reply.toolCalls(new ToolCall("call_fake_code", "code_interpreter",
                    Json.object().put("code", COMPUTING_CODE).toString())).withPieceSize(3);
        }
        if (last.path("role").asText().equals("user") && offers(request, "file_search")) {
            return Reply.toolCalls(new ToolCall("call_fake_search", "file_search", "{\"queries\":[\"Filip favorite food\"]}"));
        }
        if (last.path("role").asText().equals("user") && toolsOffered && last.path("content").toString().contains("weather")) {
            return Reply.toolCalls(new ToolCall("call_fake1", "get_current_weather", "{\"location\":\"Paris\"}"));
        }
        // paced, so each piece reaches the client on its own (pieces that wait for a busy reader join into one delta)
        return Reply.text(FIXED_ANSWER).withChunkDelay(Duration.ofMillis(5));
    }

    /** Whether the message before the last one (the tool result) is the model's call of this function. */
    private static boolean calledBefore(JsonNode messages, String name) {
        return messages.path(messages.size() - 2).path("tool_calls").path(0).path("function").path("name").asText().equals(name);
    }

    /** Whether the request offers the model a function of this name. */
    private static boolean offers(JsonNode request, String name) {
        return request.path("tools").valueStream().anyMatch(t -> t.path("function").path("name").asText().equals(name));
    }

    /** Runs a command in the suite's directory, copying its output into the test log; returns its exit code. */
    private static int run(List<String> command, Map<String, String> env, int timeoutSeconds) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).directory(SUITE.toFile()).redirectErrorStream(true);
        builder.environment().putAll(env);
        System.out.println("$ " + String.join(" ", command));
        Process process = builder.start();
        Thread pump = Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = out.readLine(); line != null; line = out.readLine()) {
                    System.out.println("  " + line);
                }
            } catch (IOException e) {
                System.out.println("  (output lost: " + e + ")");
            }
        });
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish within " + timeoutSeconds + " s");
        }
        pump.join(5_000);
        return process.exitValue();
    }

    /** The full path of an executable on the PATH, or null. */
    private static String onPath(String name) {
        List<Path> dirs = new ArrayList<>();
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty()) {
                dirs.add(Path.of(dir));
            }
        }
        for (Path dir : dirs) {
            Path candidate = dir.resolve(name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        return null;
    }
}
