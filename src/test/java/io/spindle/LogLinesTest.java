package io.spindle;

import static io.spindle.testing.SdkRuns.assistant;
import static io.spindle.testing.SdkRuns.createRun;
import static io.spindle.testing.SdkRuns.pollFor;
import static io.spindle.testing.SdkThreads.threadWith;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.models.beta.threads.runs.Run;
import com.openai.models.beta.threads.runs.RunStatus;
import io.spindle.testing.FakeUpstream;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.StreamHandler;
import org.junit.jupiter.api.Test;

/**
 * The log lines of a server with {@code SPINDLE_LOG_FORMAT=json}, written by its own formatter on the threads that log:
 * one JSON object per line, naming the node and the request, project, thread and run the line is about; and neither the
 * clients' keys nor the upstream key in any line of either format, whatever provoked it (an upstream that refuses the
 * key and echoes it, one that fails, a client with a wrong key, a body that is not JSON, a client that leaves mid-body, a
 * line that names them).
 */
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
class LogLinesTest {
    private static final String CLIENT_KEY = "client-key-alpha-123456";
    private static final String UPSTREAM_KEY = "sk-upstream-secret-987654";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void jsonLinesSayWhatTheyAreAboutAndNoLineShowsAKey() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        Map<String, String> env = new HashMap<>();
        env.put("SPINDLE_API_KEYS", CLIENT_KEY + ":proj1");
        env.put("SPINDLE_UPSTREAM_API_KEY", UPSTREAM_KEY);
        env.put("SPINDLE_UPSTREAM_RETRIES", "0");
        env.put("SPINDLE_POLL_AFTER_MS", "50");
        env.put("SPINDLE_LOG_FORMAT", "json");
        env.put("SPINDLE_NODE_ID", "node-a");
        ByteArrayOutputStream jsonOut = new ByteArrayOutputStream();
        ByteArrayOutputStream textOut = new ByteArrayOutputStream();
        Logger root = Logger.getLogger("");
        Logger http = Logger.getLogger("io.spindle.http");
        Level httpLevel = http.getLevel();
        String threadId;
        Run refused;
        try (FakeUpstream upstream = FakeUpstream.start()) {
            env.put("SPINDLE_UPSTREAM_URL", upstream.baseUrl());
            Settings settings = Settings.fromEnvironment(env);
            Handler json = capture(jsonOut, LogFormat.of(settings));
            Handler text = capture(textOut, new LogFormat("node-a", false, settings.secrets()));
            root.addHandler(json);
            root.addHandler(text);
            http.setLevel(Level.FINE);
            try (TestServer server = TestServer.start(TestServer.Storage.SQLITE, env)) {
                upstream.respondWith(body -> calls.incrementAndGet() == 1
                        ? Reply.errorEchoingHeaders(401, "Incorrect API key provided") : Reply.error(500, "upstream broke"));
                OpenAIClient sdk = server.sdk();
                String assistantId = assistant(sdk, null).id();
                threadId = threadWith(sdk, "Hello?");
                refused = pollFor(sdk, createRun(sdk, threadId, assistantId), RunStatus.FAILED);
                pollFor(sdk, createRun(sdk, threadId, assistantId), RunStatus.FAILED);
                server.api().withKey(CLIENT_KEY + "-wrong").get("/v1/assistants").error(401);
                server.api().send("POST", "/v1/threads", "{\"metadata\": " + CLIENT_KEY).error(400);
                leaveMidBody(server.spindle().port(), threadId);
                awaitLine(jsonOut, "stopped sending the body");
                logOffTheConsole(Level.WARNING, "keys " + CLIENT_KEY + " and " + UPSTREAM_KEY,
                        new IllegalStateException("thrown with " + UPSTREAM_KEY), json, text);
                sdk.close();
            } finally {
                root.removeHandler(json);
                root.removeHandler(text);
                http.setLevel(httpLevel);
            }
            json.flush();
            text.flush();
        }

        String jsonLog = jsonOut.toString(StandardCharsets.UTF_8);
        String textLog = textOut.toString(StandardCharsets.UTF_8);
        assertThat(jsonLog + textLog).doesNotContain(CLIENT_KEY).doesNotContain(UPSTREAM_KEY);
        List<JsonNode> lines = jsonLog.lines().map(LogLinesTest::parse).toList();
        assertThat(lines).hasSizeGreaterThanOrEqualTo(4).allSatisfy(line -> {
            assertThat(line.path("node").asText()).isEqualTo("node-a");
            assertThat(line.path("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
            assertThat(line.path("level").asText()).isNotEmpty();
            assertThat(line.path("logger").asText()).isNotEmpty();
            assertThat(line.has("message")).isTrue();
        });

        JsonNode runFailed = line(lines, "run " + refused.id() + " failed");
        assertThat(runFailed.path("run_id").asText()).isEqualTo(refused.id());
        assertThat(runFailed.path("thread_id").asText()).isEqualTo(threadId);
        assertThat(runFailed.path("project").asText()).isEqualTo("proj1");
        assertThat(runFailed.path("level").asText()).isEqualTo("WARNING");
        assertThat(runFailed.has("request_id")).isFalse();

        JsonNode leftMidBody = line(lines, "stopped sending the body");
        assertThat(leftMidBody.path("request_id").asText()).startsWith("req_");
        assertThat(leftMidBody.path("project").asText()).isEqualTo("proj1");
        assertThat(leftMidBody.path("thread_id").asText()).isEqualTo(threadId);
        assertThat(leftMidBody.has("run_id")).isFalse();

        JsonNode named = line(lines, "keys [redacted]");
        assertThat(named.path("message").asText()).isEqualTo("keys [redacted] and [redacted]");
        assertThat(named.path("thrown").asText()).startsWith("java.lang.IllegalStateException: thrown with [redacted]")
                .contains("\n\tat io.spindle.LogLinesTest.");
        assertThat(named.has("request_id")).isFalse();
        assertThat(textLog).contains("[node-a] io.spindle.test: keys [redacted] and [redacted]");
    }

    @Test
    void aFormatOtherThanTextOrJsonStopsStartWithOneLine() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Settings.fromEnvironment(Map.of("SPINDLE_LOG_FORMAT", "xml")))
                .isInstanceOf(Settings.Invalid.class).hasMessage("SPINDLE_LOG_FORMAT must be text or json, got 'xml'");
        assertThat(Settings.fromEnvironment(Map.of()).telemetry().jsonLogs()).as("text by default").isFalse();
    }

    /** A line of this test's own, through the capturing handlers only (its stack trace is expected). */
    private static void logOffTheConsole(Level level, String message, Throwable thrown, Handler... handlers) {
        Logger own = Logger.getLogger("io.spindle.test");
        own.setUseParentHandlers(false);
        for (Handler h : handlers) {
            own.addHandler(h);
        }
        try {
            own.log(level, message, thrown);
        } finally {
            for (Handler h : handlers) {
                own.removeHandler(h);
            }
            own.setUseParentHandlers(true);
        }
    }

    private static Handler capture(OutputStream out, LogFormat format) {
        StreamHandler handler = new StreamHandler(out, format) {
            @Override
            public synchronized void publish(LogRecord record) {
                super.publish(record);
                flush();
            }
        };
        handler.setLevel(Level.ALL);
        return handler;
    }

    /** Sends a message's headers and part of its body, then closes the connection. */
    private static void leaveMidBody(int port, String threadId) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.getOutputStream().write(("POST /v1/threads/" + threadId + "/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Authorization: Bearer " + CLIENT_KEY + "\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                    + "{\"role\": ").getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitLine(ByteArrayOutputStream out, String text) throws InterruptedException {
        for (int i = 0; i < 250 && !out.toString(StandardCharsets.UTF_8).contains(text); i++) {
            Thread.sleep(20);
        }
    }

    private static JsonNode line(List<JsonNode> lines, String text) {
        return lines.stream().filter(l -> l.path("message").asText().contains(text)).findFirst()
                .orElseThrow(() -> new AssertionError("no line with '" + text + "' in " + lines));
    }

    private static JsonNode parse(String line) {
        try {
            return JSON.readTree(line);
        } catch (IOException e) {
            throw new AssertionError("not a JSON line: " + line, e);
        }
    }
}
