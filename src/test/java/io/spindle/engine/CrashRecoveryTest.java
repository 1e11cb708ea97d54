package io.spindle.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.spindle.testing.Api;
import io.spindle.testing.FakeUpstream;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.FakeUpstream.ToolCall;
import io.spindle.testing.ServerProcesses;
import io.spindle.testing.ServerProcesses.Server;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Runs survive a SIGKILL of the server executing them. Spindle runs as a separate process ({@link ServerProcesses})
 * calling a {@link FakeUpstream} in this JVM; it is killed mid-answer, while function calls stream or while a run waits
 * for tool outputs, then started again on the same storage (as the same node, or another that must wait for the dead
 * node's lease), and every run must end as if nothing happened: one message and one step per turn, never a duplicate,
 * never a leftover of the interrupted answer. Also: a node frozen (SIGSTOP) past its lease is fenced off when it wakes,
 * and a node stopped with SIGTERM hands its run back. The servers' output goes to {@code target/crash-recovery-logs/}.
 */
// A stuck server process must fail its test, never hang the build.
@Timeout(value = 120, unit = java.util.concurrent.TimeUnit.SECONDS)
class CrashRecoveryTest {
    private static final String NODE = "crash-test-node";
    /** The slow first answer: 60 pieces of 3 characters, 100 ms apart, so about 6 s (the server is killed long before). */
    private static final String SLOW_ANSWER = "This first answer streams slowly, piece by piece, and the server that asked for it "
            + "is killed long before it ends, so nobody should ever read a word of it in the thread afterwards.";
    private static final Duration CHUNK_DELAY = Duration.ofMillis(100);

    enum Storage { SQLITE, POSTGRESQL }

    @TempDir
    Path dataDir;

    @AutoClose
    private final FakeUpstream fake = FakeUpstream.start()
            .respondWith(body -> Reply.error(500, "FakeUpstream: this test scripted no further request"));
    @AutoClose
    private ServerProcesses servers;
    private String databaseUrl;

    // ---- a/d: killed mid-answer, restarted as the same node

    @ParameterizedTest
    @EnumSource(value = Storage.class, names = {"SQLITE", "POSTGRESQL"})
    void runKilledMidAnswerCompletesOnceAfterRestart(Storage storage) throws Exception {
        begin("mid-answer-" + storage.name().toLowerCase(), storage);
        Server first = servers.start(env(NODE));
        fake.enqueue(Reply.text(SLOW_ANSWER).withChunkDelay(CHUNK_DELAY));
        Started run = startRun(first.api(), false);

        InFlight inFlight = awaitAnswerInFlight(first.api(), run);
        servers.kill(first);
        assertThat(fake.awaitAbortedStreams(1, Duration.ofSeconds(10))).as("the slow answer was cut off by the kill").isTrue();
        Lease lease = lease(run.runId);
        assertThat(lease.owner).as("the killed node still held the run").isEqualTo(NODE);
        assertThat(lease.until).as("its lease had not run out").isGreaterThan(System.currentTimeMillis() + 10_000);

        String fresh = "The fresh answer, written after the restart.";
        AtomicLong freshAskedAt = answerWith(Reply.text(fresh).withUsage(21, 9));
        Server second = servers.start(env(NODE));

        // The node released its own lease at start-up: the run goes on at once, not when the lease (30 s) runs out.
        JsonNode done = awaitRun(second.api(), run, r -> !active(r), Duration.ofSeconds(15));
        assertThat(freshAskedAt.get()).isPositive().isLessThan(lease.until);
        assertCompletedWithOneAnswer(second.api(), run, done, inFlight, fresh);
        assertThat(done.path("usage").path("prompt_tokens").asLong()).isEqualTo(21);
        assertThat(done.path("usage").path("completion_tokens").asLong()).isEqualTo(9);
        // The model was asked the same question again: no trace of the half answer in the prompt.
        assertThat(fake.requests()).hasSize(2);
        assertThat(fake.requests().get(1)).isEqualTo(fake.requests().get(0));
    }

    // ---- b: killed while the run waits for tool outputs

    @ParameterizedTest
    @EnumSource(value = Storage.class, names = "SQLITE")
    void runKilledWhileWaitingForToolOutputsCompletesAfterRestart(Storage storage) throws Exception {
        begin("requires-action-" + storage.name().toLowerCase(), storage);
        Server first = servers.start(env(NODE));
        fake.enqueue(Reply.toolCalls(new ToolCall("up_1", "get_weather", "{\"city\":\"Paris\"}"),
                new ToolCall("up_2", "get_weather", "{\"city\":\"Tokyo\"}")));
        Started run = startRun(first.api(), true);

        JsonNode waiting = awaitRun(first.api(), run, r -> !r.path("status").asText().equals("queued")
                && !r.path("status").asText().equals("in_progress"), Duration.ofSeconds(20));
        assertThat(waiting.path("status").asText()).isEqualTo("requires_action");
        JsonNode calls = waiting.at("/required_action/submit_tool_outputs/tool_calls");
        assertThat(calls).hasSize(2);
        servers.kill(first);

        String fresh = "Sunny in Paris, rainy in Tokyo.";
        fake.enqueue(Reply.text(fresh));
        Server second = servers.start(env(NODE));
        Api api = second.api();
        JsonNode afterRestart = api.get(runPath(run)).ok();
        assertThat(afterRestart.path("status").asText()).isEqualTo("requires_action");
        assertThat(afterRestart.path("required_action")).isEqualTo(waiting.path("required_action"));
        assertThat(fake.requestCount()).as("nothing was asked while the run waited").isEqualTo(1);

        String paris = calls.get(0).path("id").asText();
        String tokyo = calls.get(1).path("id").asText();
        JsonNode submitted = api.post(runPath(run) + "/submit_tool_outputs", """
                {"tool_outputs": [{"tool_call_id": "%s", "output": "sunny, 24 C"}, {"tool_call_id": "%s", "output": "rain, 18 C"}]}
                """.formatted(paris, tokyo)).ok();
        assertThat(submitted.path("status").asText()).isEqualTo("queued");

        JsonNode done = awaitRun(api, run, r -> !active(r), Duration.ofSeconds(20));
        assertThat(done.path("status").asText()).as("run %s", done).isEqualTo("completed");
        assertThat(done.path("last_error").isNull()).isTrue();

        JsonNode steps = api.get(runPath(run) + "/steps?order=asc").ok().path("data");
        assertThat(steps).hasSize(2);
        JsonNode toolStep = steps.get(0);
        assertThat(toolStep.path("type").asText()).isEqualTo("tool_calls");
        assertThat(toolStep.path("status").asText()).isEqualTo("completed");
        JsonNode stepCalls = toolStep.at("/step_details/tool_calls");
        assertThat(stepCalls).hasSize(2);
        assertThat(stepCalls.get(0).path("id").asText()).isEqualTo(paris);
        assertThat(stepCalls.get(0).at("/function/name").asText()).isEqualTo("get_weather");
        assertThat(stepCalls.get(0).at("/function/arguments").asText()).isEqualTo("{\"city\":\"Paris\"}");
        assertThat(stepCalls.get(0).at("/function/output").asText()).isEqualTo("sunny, 24 C");
        assertThat(stepCalls.get(1).path("id").asText()).isEqualTo(tokyo);
        assertThat(stepCalls.get(1).at("/function/output").asText()).isEqualTo("rain, 18 C");
        JsonNode messageStep = steps.get(1);
        assertThat(messageStep.path("type").asText()).isEqualTo("message_creation");
        assertThat(messageStep.path("status").asText()).isEqualTo("completed");

        List<JsonNode> answers = assistantMessages(api, run);
        assertThat(answers).hasSize(1);
        assertThat(answers.getFirst().path("id").asText()).isEqualTo(messageStep.at("/step_details/message_creation/message_id").asText());
        assertThat(answers.getFirst().path("status").asText()).isEqualTo("completed");
        assertThat(answers.getFirst().at("/content/0/text/value").asText()).isEqualTo(fresh);

        // The second model call carried both calls and their outputs.
        assertThat(fake.requests()).hasSize(2);
        JsonNode prompt = fake.requests().get(1).path("messages");
        List<String> toolMessages = new ArrayList<>();
        prompt.forEach(m -> {
            if (m.path("role").asText().equals("tool")) {
                toolMessages.add(m.path("tool_call_id").asText() + "=" + m.path("content").asText());
            }
        });
        assertThat(toolMessages).containsExactly(paris + "=sunny, 24 C", tokyo + "=rain, 18 C");
    }

    // ---- c: killed mid-answer; another node, up before the kill, waits for the dead node's lease

    /**
     * The replacement node (another SPINDLE_NODE_ID, 3 s leases) is started while node-a still writes the answer, then
     * node-a is killed: a JVM here takes longer than a 3 s lease to start, so only a node already up can show that it
     * waits for the lease and does not take the run over at once. Two live nodes share PostgreSQL only: a second
     * process on a SQLite data directory is refused (StartupTest).
     */
    @ParameterizedTest
    @EnumSource(value = Storage.class, names = "POSTGRESQL")
    void anotherNodeTakesTheRunOverOnceTheLeaseRunsOut(Storage storage) throws Exception {
        begin("lease-takeover-" + storage.name().toLowerCase(), storage);
        Map<String, String> nodeA = env("node-a");
        nodeA.put("SPINDLE_LEASE_SECONDS", "3");
        Server first = servers.start(nodeA);
        // Streams slowly, then never finishes: node-a is mid-answer for as long as the test needs.
        fake.enqueue(Reply.text(SLOW_ANSWER).withChunkDelay(CHUNK_DELAY).thenHang());
        Started run = startRun(first.api(), false);
        InFlight inFlight = awaitAnswerInFlight(first.api(), run);

        String fresh = "Node B finished what node A started.";
        AtomicLong freshAskedAt = answerWith(Reply.text(fresh));
        Map<String, String> nodeB = env("node-b");
        nodeB.put("SPINDLE_LEASE_SECONDS", "3");
        Server second = servers.start(nodeB);
        // node-b polls every 500 ms: while node-a lives (and renews its lease), node-b leaves the run alone.
        Thread.sleep(2_000);
        assertThat(fake.requestCount()).as("node-b did not take a live node's run").isEqualTo(1);
        assertThat(second.api().get(runPath(run)).ok().path("status").asText()).isEqualTo("in_progress");
        assertThat(fake.abortedStreams()).isZero();

        servers.kill(first);
        long killedAt = System.currentTimeMillis();
        assertThat(fake.awaitAbortedStreams(1, Duration.ofSeconds(10))).as("the answer was cut off by the kill").isTrue();
        Lease lease = lease(run.runId);
        assertThat(lease.owner).isEqualTo("node-a");
        // Claimed or renewed by the heartbeat (every second) at most a little over a second before the kill.
        assertThat(lease.until).isBetween(killedAt + 1_000, killedAt + 3_000);
        servers.note("node-a killed; its lease runs out " + (lease.until - killedAt) + " ms later");

        JsonNode done = awaitRun(second.api(), run, r -> !active(r), Duration.ofMillis(lease.until - killedAt + 10_000));
        long asked = freshAskedAt.get();
        servers.note("node-b asked the model " + (asked - lease.until) + " ms after the lease ran out");
        assertThat(asked).as("node-b called the model").isPositive();
        // Not before the lease ran out (a live-looking lease is never stolen) ...
        assertThat(asked).as("asked %d ms after the lease ran out", asked - lease.until).isGreaterThanOrEqualTo(lease.until);
        assertThat(asked - killedAt).as("not at once after the kill").isGreaterThanOrEqualTo(1_000);
        // ... but soon after it (node-b polls every 500 ms).
        assertThat(asked).isLessThanOrEqualTo(lease.until + 3_000);
        assertCompletedWithOneAnswer(second.api(), run, done, inFlight, fresh);
        assertThat(fake.requests()).hasSize(2);
        assertThat(fake.requests().get(1)).isEqualTo(fake.requests().get(0));
    }

    // ---- a node frozen (SIGSTOP) past its lease: another node takes over, and the frozen one is fenced off

    @ParameterizedTest
    @EnumSource(value = Storage.class, names = "POSTGRESQL")
    void aFrozenNodeThatLostItsLeaseCannotWriteWhenItWakesUp(Storage storage) throws Exception {
        begin("frozen-node-" + storage.name().toLowerCase(), storage);
        List<String> fineEngineLog = fineEngineLogging();
        Map<String, String> nodeA = env("node-a");
        nodeA.put("SPINDLE_LEASE_SECONDS", "3");
        Map<String, String> nodeB = env("node-b");
        nodeB.put("SPINDLE_LEASE_SECONDS", "3");
        Server a = servers.start(nodeA, fineEngineLog);
        Server b = servers.start(nodeB, fineEngineLog);
        // About 10 s of answer: it goes on streaming into the frozen node's socket and ends after the takeover.
        fake.enqueue(Reply.text(SLOW_ANSWER).withChunkDelay(Duration.ofMillis(150)));
        Started run = startRun(a.api(), false);
        InFlight inFlight = awaitAnswerInFlight(a.api(), run);
        // Either node may have claimed the run (node-a was woken by the create; node-b polls): freeze the one that did.
        String owner = lease(run.runId).owner;
        assertThat(owner).isIn("node-a", "node-b");
        Server frozen = owner.equals("node-a") ? a : b;
        Server other = owner.equals("node-a") ? b : a;
        String fresh = "The other node's answer.";
        AtomicLong freshAskedAt = answerWith(Reply.text(fresh));

        servers.pause(frozen);
        long frozenAt = System.currentTimeMillis();
        JsonNode done = awaitRun(other.api(), run, r -> !active(r), Duration.ofSeconds(20));
        assertThat(freshAskedAt.get() - frozenAt).as("taken over once the lease ran out, not at once").isGreaterThanOrEqualTo(1_000);
        assertCompletedWithOneAnswer(other.api(), run, done, inFlight, fresh);
        assertThat(fake.abortedStreams()).as("the frozen node's answer is still streaming").isZero();

        servers.resume(frozen);
        // It reads the rest of its answer, then finds that its lease token no longer matches: nothing is written.
        awaitLog("run " + run.runId + " was taken over; stopping here", Duration.ofSeconds(30));
        assertThat(frozen.process().isAlive()).isTrue();
        assertThat(fake.abortedStreams()).as("the woken node read its answer to the end").isZero();
        JsonNode after = other.api().get(runPath(run)).ok();
        assertThat(after).isEqualTo(done);
        assertThat(frozen.api().get(runPath(run)).ok()).isEqualTo(done);
        assertCompletedWithOneAnswer(other.api(), run, after, inFlight, fresh);
        assertThat(fake.requests()).hasSize(2);
    }

    // ---- stopped gracefully (SIGTERM) mid-answer: the run is handed back, any node resumes it at once

    @ParameterizedTest
    @EnumSource(value = Storage.class, names = "SQLITE")
    void aStoppedNodeHandsItsRunBackForAnyNodeToResumeAtOnce(Storage storage) throws Exception {
        begin("graceful-stop-" + storage.name().toLowerCase(), storage);
        Server first = servers.start(env("node-a"));
        fake.enqueue(Reply.text(SLOW_ANSWER).withChunkDelay(CHUNK_DELAY));
        Started run = startRun(first.api(), false);
        InFlight inFlight = awaitAnswerInFlight(first.api(), run);

        servers.stop(first);
        assertThat(first.process().exitValue()).as("exit status after SIGTERM").isEqualTo(128 + 15);
        assertThat(fake.awaitAbortedStreams(1, Duration.ofSeconds(10))).as("the model call was aborted").isTrue();
        Lease lease = lease(run.runId);
        assertThat(lease.owner).as("the lease was handed back").isNull();

        String fresh = "Resumed by another node right away.";
        fake.enqueue(Reply.text(fresh));
        // Another node, with the default 30 s lease: it needs no lease to run out.
        Server second = servers.start(env("node-b"));
        JsonNode done = awaitRun(second.api(), run, r -> !active(r), Duration.ofSeconds(15));
        assertCompletedWithOneAnswer(second.api(), run, done, inFlight, fresh);
        assertThat(fake.requests()).hasSize(2);
        assertThat(fake.requests().get(1)).isEqualTo(fake.requests().get(0));
    }

    // ---- killed while function calls stream (after some text), restarted as the same node

    @ParameterizedTest
    @EnumSource(value = Storage.class, names = "SQLITE")
    void runKilledWhileCallsStreamAfterTextResumesWithoutDuplicates(Storage storage) throws Exception {
        begin("calls-after-text-" + storage.name().toLowerCase(), storage);
        Server first = servers.start(env(NODE));
        String longArguments = "{\"city\":\"Paris\",\"why\":\"" + "the arguments stream slowly ".repeat(6) + "\"}";
        fake.enqueue(Reply.textThenToolCalls("Let me look.", new ToolCall("up_1", "get_weather", longArguments))
                .withChunkDelay(CHUNK_DELAY));
        Started run = startRun(first.api(), true);

        assertThat(fake.awaitRequests(1, Duration.ofSeconds(20))).isTrue();
        JsonNode steps = awaitSteps(first.api(), run, s -> s.size() == 2 && s.get(1).path("status").asText().equals("in_progress"));
        assertThat(steps.get(0).path("type").asText()).isEqualTo("message_creation");
        assertThat(steps.get(1).path("type").asText()).isEqualTo("tool_calls");
        servers.kill(first);
        assertThat(fake.awaitAbortedStreams(1, Duration.ofSeconds(10))).as("the calls were cut off by the kill").isTrue();

        fake.enqueue(Reply.textThenToolCalls("Let me look.", new ToolCall("up_2", "get_weather", "{\"city\":\"Paris\"}")));
        Server second = servers.start(env(NODE));
        Api api = second.api();
        JsonNode waiting = awaitRun(api, run, r -> !r.path("status").asText().equals("in_progress"), Duration.ofSeconds(15));
        assertThat(waiting.path("status").asText()).as("run %s", waiting).isEqualTo("requires_action");
        JsonNode calls = waiting.at("/required_action/submit_tool_outputs/tool_calls");
        assertThat(calls).hasSize(1);
        assertThat(calls.get(0).at("/function/arguments").asText()).isEqualTo("{\"city\":\"Paris\"}");

        List<JsonNode> answers = assistantMessages(api, run);
        assertThat(answers).as("assistant messages %s", answers).hasSize(1);
        assertThat(answers.getFirst().at("/content/0/text/value").asText()).isEqualTo("Let me look.");
        JsonNode after = api.get(runPath(run) + "/steps?order=asc").ok().path("data");
        assertThat(after).as("steps %s", after).hasSize(2);
        assertThat(after.get(0).path("type").asText()).isEqualTo("message_creation");
        assertThat(after.get(1).path("type").asText()).isEqualTo("tool_calls");
        assertThat(after.get(1).path("id").asText()).isEqualTo(steps.get(1).path("id").asText());
        assertThat(after.get(1).at("/step_details/tool_calls")).hasSize(1);
        // The text of the interrupted answer is not in the prompt: the model answers the same question afresh.
        assertThat(fake.requests()).hasSize(2);
        assertThat(fake.requests().get(1)).isEqualTo(fake.requests().get(0));
    }

    // ---- killed mid-text; after the restart the model calls a function instead

    @ParameterizedTest
    @EnumSource(value = Storage.class, names = "SQLITE")
    void runKilledMidTextThenAnsweredWithCallsLeavesNoEmptyMessage(Storage storage) throws Exception {
        begin("text-then-calls-" + storage.name().toLowerCase(), storage);
        Server first = servers.start(env(NODE));
        fake.enqueue(Reply.text(SLOW_ANSWER).withChunkDelay(CHUNK_DELAY));
        Started run = startRun(first.api(), true);
        awaitAnswerInFlight(first.api(), run);
        servers.kill(first);

        fake.enqueue(Reply.toolCalls(new ToolCall("up_1", "get_weather", "{\"city\":\"Paris\"}")));
        Server second = servers.start(env(NODE));
        Api api = second.api();
        JsonNode waiting = awaitRun(api, run, r -> !r.path("status").asText().equals("in_progress"), Duration.ofSeconds(15));
        assertThat(waiting.path("status").asText()).as("run %s", waiting).isEqualTo("requires_action");
        List<JsonNode> answers = assistantMessages(api, run);
        JsonNode after = api.get(runPath(run) + "/steps?order=asc").ok().path("data");
        assertThat(answers).as("assistant messages %s", answers).isEmpty();
        assertThat(after).as("steps %s", after).hasSize(1);
        assertThat(after.get(0).path("type").asText()).isEqualTo("tool_calls");
        assertThat(fake.requests().get(1)).isEqualTo(fake.requests().get(0));
    }

    // ---- killed while function calls stream (no text); the new answer has text

    enum NewAnswer { TEXT, TEXT_THEN_CALLS }

    @ParameterizedTest
    @EnumSource(NewAnswer.class)
    void runKilledWhileCallsStreamThenAnsweredWithTextKeepsStepsInOrder(NewAnswer newAnswer) throws Exception {
        begin("calls-then-text-" + newAnswer.name().toLowerCase(), Storage.SQLITE);
        Server first = servers.start(env(NODE));
        String longArguments = "{\"city\":\"Paris\",\"why\":\"" + "the arguments stream slowly ".repeat(6) + "\"}";
        fake.enqueue(Reply.toolCalls(new ToolCall("up_1", "get_weather", longArguments)).withChunkDelay(CHUNK_DELAY));
        Started run = startRun(first.api(), true);
        assertThat(fake.awaitRequests(1, Duration.ofSeconds(20))).isTrue();
        JsonNode steps = awaitSteps(first.api(), run, s -> s.size() == 1);
        assertThat(steps.get(0).path("type").asText()).isEqualTo("tool_calls");
        assertThat(steps.get(0).path("status").asText()).isEqualTo("in_progress");
        servers.kill(first);
        assertThat(fake.awaitAbortedStreams(1, Duration.ofSeconds(10))).as("the calls were cut off by the kill").isTrue();

        String fresh = "Paris is sunny, I believe.";
        fake.enqueue(newAnswer == NewAnswer.TEXT ? Reply.text(fresh)
                : Reply.textThenToolCalls(fresh, new ToolCall("up_2", "get_weather", "{\"city\":\"Paris\"}")));
        Server second = servers.start(env(NODE));
        Api api = second.api();
        JsonNode stopped = awaitRun(api, run, r -> !r.path("status").asText().equals("in_progress"), Duration.ofSeconds(15));
        JsonNode after = api.get(runPath(run) + "/steps?order=asc").ok().path("data");
        List<JsonNode> answers = assistantMessages(api, run);
        assertThat(answers).as("assistant messages %s", answers).hasSize(1);
        assertThat(answers.getFirst().at("/content/0/text/value").asText()).isEqualTo(fresh);
        assertThat(after.get(0).path("type").asText()).as("steps %s", after).isEqualTo("message_creation");
        assertThat(after.get(0).at("/step_details/message_creation/message_id").asText()).isEqualTo(answers.getFirst().path("id").asText());
        if (newAnswer == NewAnswer.TEXT) {
            assertThat(stopped.path("status").asText()).as("run %s", stopped).isEqualTo("completed");
            assertThat(after).as("no step left of the abandoned calls: %s", after).hasSize(1);
        } else {
            assertThat(stopped.path("status").asText()).as("run %s", stopped).isEqualTo("requires_action");
            assertThat(after).as("steps %s", after).hasSize(2);
            assertThat(after.get(1).path("type").asText()).isEqualTo("tool_calls");
            assertThat(after.get(1).at("/step_details/tool_calls")).hasSize(1);
            assertThat(after.get(1).at("/step_details/tool_calls/0/function/arguments").asText()).isEqualTo("{\"city\":\"Paris\"}");
        }
        assertThat(fake.requests().get(1)).isEqualTo(fake.requests().get(0));
    }

    /** JVM options for a server that also logs its run executions' FINE lines (e.g. a lost lease). */
    private List<String> fineEngineLogging() throws IOException {
        String config;
        try (var in = io.spindle.Main.class.getResourceAsStream("/logging.properties")) {
            config = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        Path file = dataDir.resolve("fine-engine-logging.properties");
        Files.writeString(file, config + "\nio.spindle.engine.RunExecution.level=FINE\n");
        return List.of("-Djava.util.logging.config.file=" + file);
    }

    /** Waits until the servers' output contains {@code text}. */
    private void awaitLog(String text, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!Files.readString(servers.log()).contains(text)) {
            if (System.nanoTime() > deadline) {
                fail("the servers never logged '" + text + "'; output:\n" + Files.readString(servers.log()));
            }
            Thread.sleep(100);
        }
    }

    /** Polls the run's steps (oldest first) until {@code until} holds. */
    private JsonNode awaitSteps(Api api, Started run, Predicate<JsonNode> until) throws Exception {
        long deadline = System.currentTimeMillis() + 20_000;
        while (true) {
            JsonNode steps = api.get(runPath(run) + "/steps?order=asc").ok().path("data");
            if (until.test(steps)) {
                return steps;
            }
            if (System.currentTimeMillis() > deadline) {
                fail("steps never matched: " + steps + "\nserver output:\n" + Files.readString(servers.log()));
            }
            Thread.sleep(20);
        }
    }

    // ---- scenario helpers

    private record Started(String threadId, String runId, String assistantId) {}

    /** The assistant message and message_creation step that the run showed while the first answer streamed. */
    private record InFlight(String messageId, String stepId) {}

    /** Creates an assistant (with a function tool or not), a thread with one question, and a run on it. */
    private Started startRun(Api api, boolean withTool) {
        String tools = withTool ? """
                , "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
                   "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]"""
                : "";
        String assistant = api.post("/v1/assistants", "{\"model\": \"gpt-4o\", \"instructions\": \"Be brief.\"" + tools + "}")
                .ok().path("id").asText();
        String thread = api.post("/v1/threads", "{\"messages\": [{\"role\": \"user\", \"content\": \"How is the weather?\"}]}")
                .ok().path("id").asText();
        JsonNode run = api.post("/v1/threads/" + thread + "/runs", "{\"assistant_id\": \"" + assistant + "\"}").ok();
        return new Started(thread, run.path("id").asText(), assistant);
    }

    /**
     * Waits until the upstream was asked and the run shows its answer being written: run in_progress, an assistant
     * message in_progress and its message_creation step in_progress.
     */
    private InFlight awaitAnswerInFlight(Api api, Started run) throws Exception {
        assertThat(fake.awaitRequests(1, Duration.ofSeconds(20))).as("the upstream was asked").isTrue();
        long deadline = System.currentTimeMillis() + 20_000;
        while (true) {
            JsonNode current = api.get(runPath(run)).ok();
            List<JsonNode> answers = assistantMessages(api, run);
            JsonNode steps = api.get(runPath(run) + "/steps").ok().path("data");
            if (current.path("status").asText().equals("in_progress") && answers.size() == 1 && steps.size() == 1) {
                JsonNode message = answers.getFirst();
                JsonNode step = steps.get(0);
                assertThat(message.path("status").asText()).isEqualTo("in_progress");
                assertThat(message.path("run_id").asText()).isEqualTo(run.runId);
                assertThat(step.path("type").asText()).isEqualTo("message_creation");
                assertThat(step.path("status").asText()).isEqualTo("in_progress");
                assertThat(step.at("/step_details/message_creation/message_id").asText()).isEqualTo(message.path("id").asText());
                assertThat(fake.abortedStreams()).as("the slow answer is still streaming").isZero();
                servers.note("answer in flight: run " + run.runId + ", message " + message.path("id").asText());
                return new InFlight(message.path("id").asText(), step.path("id").asText());
            }
            if (!active(current) || System.currentTimeMillis() > deadline) {
                fail("the answer never showed as in flight; run " + current + ", messages " + answers + ", steps " + steps
                        + "\nserver output:\n" + Files.readString(servers.log()));
            }
            Thread.sleep(20);
        }
    }

    /** The run completed with exactly one assistant message (the in-flight one, reused) holding the fresh answer. */
    private void assertCompletedWithOneAnswer(Api api, Started run, JsonNode done, InFlight inFlight, String fresh) {
        assertThat(done.path("status").asText()).as("run %s", done).isEqualTo("completed");
        assertThat(done.path("last_error").isNull()).isTrue();
        assertThat(done.path("completed_at").isIntegralNumber()).isTrue();

        List<JsonNode> answers = assistantMessages(api, run);
        assertThat(answers).as("assistant messages of the run").hasSize(1);
        JsonNode answer = answers.getFirst();
        assertThat(answer.path("id").asText()).as("the in-flight message was reused").isEqualTo(inFlight.messageId);
        assertThat(answer.path("status").asText()).isEqualTo("completed");
        assertThat(answer.path("run_id").asText()).isEqualTo(run.runId);
        assertThat(answer.path("content")).hasSize(1);
        assertThat(answer.at("/content/0/text/value").asText()).isEqualTo(fresh);
        assertThat(api.get("/v1/threads/" + run.threadId + "/messages/" + inFlight.messageId).ok()).isEqualTo(answer);

        JsonNode all = api.get("/v1/threads/" + run.threadId + "/messages?order=asc&limit=100").ok().path("data");
        assertThat(all).as("the question and the one answer").hasSize(2);

        JsonNode steps = api.get(runPath(run) + "/steps?order=asc").ok().path("data");
        assertThat(steps).as("steps of the run").hasSize(1);
        JsonNode step = steps.get(0);
        assertThat(step.path("id").asText()).as("the in-flight step was reused").isEqualTo(inFlight.stepId);
        assertThat(step.path("type").asText()).isEqualTo("message_creation");
        assertThat(step.path("status").asText()).isEqualTo("completed");
        assertThat(step.at("/step_details/message_creation/message_id").asText()).isEqualTo(inFlight.messageId);
    }

    /** From now on the upstream answers {@code reply} (once) and remembers when it was asked (epoch millis). */
    private AtomicLong answerWith(Reply reply) {
        AtomicLong askedAt = new AtomicLong();
        fake.respondWith(body -> {
            if (!askedAt.compareAndSet(0, System.currentTimeMillis())) {
                return Reply.error(500, "FakeUpstream: asked again");
            }
            return reply;
        });
        return askedAt;
    }

    /** Polls the run until {@code until} holds; fails with the server output after {@code timeout}. */
    private JsonNode awaitRun(Api api, Started run, Predicate<JsonNode> until, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            JsonNode current = api.get(runPath(run)).ok();
            if (until.test(current)) {
                return current;
            }
            if (System.nanoTime() > deadline) {
                fail("run still " + current.path("status").asText() + " after " + timeout + ": " + current
                        + "\nserver output:\n" + Files.readString(servers.log()));
            }
            Thread.sleep(50);
        }
    }

    private static List<JsonNode> assistantMessages(Api api, Started run) {
        List<JsonNode> out = new ArrayList<>();
        api.get("/v1/threads/" + run.threadId + "/messages?order=asc&limit=100").ok().path("data").forEach(m -> {
            if (m.path("role").asText().equals("assistant")) {
                out.add(m);
            }
        });
        return out;
    }

    private static boolean active(JsonNode run) {
        return List.of("queued", "in_progress", "requires_action", "cancelling").contains(run.path("status").asText());
    }

    private static String runPath(Started run) {
        return "/v1/threads/" + run.threadId + "/runs/" + run.runId;
    }

    // ---- servers and storage

    private void begin(String name, Storage storage) {
        servers = new ServerProcesses("crash-recovery-logs", name);
        databaseUrl = storage == Storage.POSTGRESQL ? servers.freshPostgres() : null;
    }

    /** The settings of a server on this test's storage, calling the fake upstream without retries. */
    private Map<String, String> env(String node) {
        Map<String, String> env = new HashMap<>();
        env.put("SPINDLE_DATA_DIR", dataDir.toString());
        if (databaseUrl != null) {
            env.put("SPINDLE_DATABASE_URL", databaseUrl);
        }
        env.put("SPINDLE_UPSTREAM_URL", fake.baseUrl());
        env.put("SPINDLE_NODE_ID", node);
        env.put("SPINDLE_UPSTREAM_RETRIES", "0");
        return env;
    }

    private record Lease(String owner, long until) {}

    /** The run's lease as stored, read straight from the database while no server runs. */
    private Lease lease(String runId) throws SQLException {
        String url = databaseUrl != null ? databaseUrl : "jdbc:sqlite:" + dataDir.resolve("spindle.db").toAbsolutePath();
        try (Connection c = DriverManager.getConnection(url);
             PreparedStatement ps = c.prepareStatement("SELECT lease_owner, lease_until FROM runs WHERE id = ?")) {
            ps.setString(1, runId);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).as("run %s is stored", runId).isTrue();
                return new Lease(rs.getString(1), rs.getLong(2));
            }
        }
    }
}
