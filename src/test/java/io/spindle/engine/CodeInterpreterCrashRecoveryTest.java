package io.spindle.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.spindle.api.Json;
import io.spindle.sandbox.RealSandbox;
import io.spindle.testing.Api;
import io.spindle.testing.FakeUpstream;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.FakeUpstream.ToolCall;
import io.spindle.testing.ServerProcesses;
import io.spindle.testing.ServerProcesses.Server;
import io.spindle.testing.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A SIGKILL of the server (a separate process, {@link ServerProcesses}) while a code_interpreter cell runs: the
 * sandbox dies with it (bwrap's {@code --die-with-parent}, no process of the thread's session is left), and the server
 * restarted on the same data resumes the run, asks the model again and completes it with one code step, one message
 * step and one answer, on SQLite and on PostgreSQL. The servers' output goes to {@code target/crash-recovery-logs/}.
 */
// A stuck server process must fail its test, never hang the build.
@Timeout(value = 150, unit = java.util.concurrent.TimeUnit.SECONDS)
@ParameterizedClass(name = "{0}")
@EnumSource(value = TestServer.Storage.class, names = {"SQLITE", "POSTGRESQL"})
class CodeInterpreterCrashRecoveryTest {
    private static final String NODE = "crash-test-node";
    private static final String SLEEPING = "import time\ntime.sleep(600)";
    private static final String AFTER_RESTART = "print(6 * 7)";
    private static final String ANSWER = "It is 42.";
    private static final Duration WAIT = Duration.ofSeconds(45);
    /** How long the sandbox may outlive its server. */
    private static final Duration TEARDOWN = Duration.ofSeconds(5);

    @Parameter
    TestServer.Storage storage;

    @TempDir
    Path dataDir;

    @AutoClose
    private final FakeUpstream model = FakeUpstream.start()
            .respondWith(body -> Reply.error(500, "FakeUpstream: this test scripted no further request"));
    @AutoClose
    private ServerProcesses servers;
    private String databaseUrl;

    @Test
    void killedWhileACellRunsTheSandboxDiesWithTheServerAndTheRunCompletesOnceAfterRestart() throws Exception {
        RealSandbox.assumeWorks();
        servers = new ServerProcesses("crash-recovery-logs", "code-interpreter-during-cell-" + storage.name().toLowerCase());
        databaseUrl = storage == TestServer.Storage.POSTGRESQL ? servers.freshPostgres() : null;
        Server first = servers.start(env());
        Api api = first.api();
        String assistant = api.post("/v1/assistants", Map.of("model", "gpt-4o", "tools", List.of(Map.of("type", "code_interpreter"))))
                .ok().path("id").asText();
        String thread = api.post("/v1/threads", Map.of("messages", List.of(Map.of("role", "user", "content", "What is 6 times 7?"))))
                .ok().path("id").asText();
        model.enqueue(code(SLEEPING));
        String run = api.post("/v1/threads/" + thread + "/runs", Map.of("assistant_id", assistant)).ok().path("id").asText();

        JsonNode running = awaitSteps(api, thread, run, s -> s.size() == 1 && s.path(0).path("status").asText().equals("in_progress")
                && s.path(0).path("step_details").path("tool_calls").size() == 1);
        List<Long> sandbox = await("the thread's sandbox running the cell", () -> RealSandbox.pidsOfKey(thread),
                CodeInterpreterCrashRecoveryTest::sleeping, WAIT);
        servers.note("run " + run + " sleeps in its cell; sandbox pids " + sandbox);
        servers.kill(first);

        List<Long> left = await("no sandbox process left", () -> Stream.concat(sandbox.stream(), RealSandbox.pidsOfKey(thread).stream())
                .distinct().filter(CodeInterpreterCrashRecoveryTest::running).toList(), List::isEmpty, TEARDOWN);
        assertThat(left).isEmpty();

        // the model, asked again after the restart, writes other code; it runs in a fresh session
        model.enqueue(code(AFTER_RESTART), Reply.text(ANSWER));
        Server second = servers.start(env());
        JsonNode done = awaitEnd(second.api(), thread, run);

        assertThat(done.path("status").asText()).as("run %s", done).isEqualTo("completed");
        JsonNode steps = steps(second.api(), thread, run);
        assertThat(steps).extracting(s -> s.path("type").asText() + ":" + s.path("status").asText())
                .containsExactly("tool_calls:completed", "message_creation:completed");
        assertThat(steps.path(0).path("id")).as("the interrupted code step is reused").isEqualTo(running.path(0).path("id"));
        JsonNode calls = steps.path(0).path("step_details").path("tool_calls");
        assertThat(calls).hasSize(1);
        assertThat(calls.path(0).path("code_interpreter").path("input").asText()).isEqualTo(AFTER_RESTART);
        assertThat(calls.path(0).path("code_interpreter").path("outputs"))
                .extracting(o -> o.path("type").asText() + ":" + o.path("logs").asText()).containsExactly("logs:42\n");

        JsonNode messages = second.api().get("/v1/threads/" + thread + "/messages?order=asc").ok().path("data");
        assertThat(messages).extracting(m -> m.path("role").asText()).containsExactly("user", "assistant");
        assertThat(messages.path(1).path("id").asText())
                .isEqualTo(steps.path(1).path("step_details").path("message_creation").path("message_id").asText());
        assertThat(messages.path(1).path("content").path(0).path("text").path("value").asText()).isEqualTo(ANSWER);
        assertThat(model.requests()).hasSize(3);
        assertThat(model.requests().get(1)).as("the same question again: the interrupted cell is not in the prompt")
                .isEqualTo(model.requests().get(0));
    }

    private static Reply code(String python) {
        return Reply.toolCalls(new ToolCall("call_up_code", "code_interpreter", Json.object().put("code", python).toString()));
    }

    /** Whether one of these processes sleeps in {@code clock_nanosleep}: the cell's {@code time.sleep}. */
    private static boolean sleeping(List<Long> pids) {
        return pids.stream().anyMatch(pid -> {
            try {
                return Files.readString(Path.of("/proc", pid.toString(), "wchan")).contains("nanosleep");
            } catch (java.io.IOException ended) {
                return false;
            }
        });
    }

    /** Whether the process still runs: neither gone nor a zombie waiting for its new parent to reap it. */
    private static boolean running(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state != 'Z' && state != 'X';
        } catch (java.io.IOException gone) {
            return false;
        }
    }

    private <T> T await(String what, Supplier<T> current, Predicate<T> until, Duration limit) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (true) {
            T value = current.get();
            if (until.test(value)) {
                return value;
            }
            if (System.nanoTime() > deadline) {
                fail(what + ": not within " + limit.toSeconds() + " s, still " + value + "\nserver output:\n"
                        + Files.readString(servers.log()));
            }
            Thread.sleep(50);
        }
    }

    private static JsonNode steps(Api api, String thread, String run) {
        return api.get("/v1/threads/" + thread + "/runs/" + run + "/steps?order=asc").ok().path("data");
    }

    private JsonNode awaitSteps(Api api, String thread, String run, Predicate<JsonNode> until) throws Exception {
        return await("the run's steps", () -> steps(api, thread, run), until, WAIT);
    }

    private JsonNode awaitEnd(Api api, String thread, String run) throws Exception {
        return await("the run's end", () -> api.get("/v1/threads/" + thread + "/runs/" + run).ok(),
                r -> !List.of("queued", "in_progress", "cancelling").contains(r.path("status").asText()), WAIT);
    }

    /** A server on this test's storage, calling the fake model without retries. */
    private Map<String, String> env() {
        Map<String, String> env = new HashMap<>(Map.of("SPINDLE_DATA_DIR", dataDir.toString(), "SPINDLE_UPSTREAM_URL", model.baseUrl(),
                "SPINDLE_NODE_ID", NODE, "SPINDLE_UPSTREAM_RETRIES", "0"));
        if (databaseUrl != null) {
            env.put("SPINDLE_DATABASE_URL", databaseUrl);
        }
        return env;
    }
}
