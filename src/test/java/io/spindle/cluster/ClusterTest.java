package io.spindle.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.beta.assistants.Assistant;
import com.openai.models.beta.assistants.AssistantStreamEvent;
import com.openai.models.beta.threads.messages.Message;
import com.openai.models.beta.threads.runs.Run;
import com.openai.models.beta.threads.runs.RunCreateParams;
import com.openai.models.beta.threads.runs.RunStatus;
import com.openai.models.beta.threads.runs.RunSubmitToolOutputsParams;
import com.openai.models.beta.threads.runs.steps.RunStep;
import io.spindle.testing.Api;
import io.spindle.testing.FakeUpstream;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.FakeUpstream.ToolCall;
import io.spindle.testing.Sdk;
import io.spindle.testing.SdkJson;
import io.spindle.testing.SdkRuns;
import io.spindle.testing.SdkThreads;
import io.spindle.testing.ServerProcesses;
import io.spindle.testing.ServerProcesses.Server;
import io.spindle.testing.SseEvents;
import io.spindle.testing.StreamReplay;
import io.spindle.testing.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;

/**
 * Several Spindle nodes on one PostgreSQL database. Each test has a database of its own, a {@link FakeUpstream} that
 * echoes the token of the thread's question ({@code [tok-N]}), and nodes started for it: in this JVM
 * ({@link TestServer}) where nothing is killed, as processes ({@link ServerProcesses}) where one is. Every node calls
 * the fake with an upstream key of its own ({@code key-<node id>}), so the fake's requests show which node executed
 * what. Roles are forced with {@code SPINDLE_MAX_CONCURRENT_RUNS=0} (an API-only node) or by starting the node that
 * should take a run over only after another claimed it. The processes' output goes to {@code target/cluster-logs/}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClusterTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private static final Pattern TOKEN = Pattern.compile("\\[tok-[0-9a-z-]+]");
    private static final String WEATHER = "get_weather";
    /** About 10 s of answer (70 pieces of 3 characters, 150 ms apart): the node writing it is stopped long before. */
    private static final String SLOW_ANSWER = "This first answer streams slowly, piece by piece, and the node that asked "
            + "for it is stopped long before it ends, so that nobody reads all of it.";

    private FakeUpstream fake;
    private ServerProcesses servers;
    private String databaseUrl;
    private final List<TestServer> nodes = new ArrayList<>();
    /** Model requests per question token, counted by the echo responder. */
    private final Map<String, AtomicInteger> asked = new ConcurrentHashMap<>();

    @BeforeEach
    void begin(TestInfo test) {
        fake = FakeUpstream.start().respondWith(body -> Reply.error(500, "ClusterTest: no answer scripted"));
        servers = new ServerProcesses("cluster-logs", test.getTestMethod().orElseThrow().getName());
        databaseUrl = servers.freshPostgres();
    }

    @AfterEach
    void end() throws Exception {
        try {
            for (TestServer node : nodes.reversed()) {
                node.close();
            }
        } finally {
            try {
                servers.close(); // kills the processes left, drops the database
            } finally {
                fake.close();
            }
        }
    }

    // ---- 1: many runs over three nodes

    /**
     * Runs are created from six client threads, each on the next node in turn; all three nodes execute. Which node
     * executed a run shows in the upstream key of its model request (the engine logs no claims).
     */
    @Test
    void twoHundredRunsCreatedRoundRobinOverThreeNodesEachExecuteExactlyOnce() throws Exception {
        int runs = 200;
        fake.respondWith(this::echo);
        List<Api> apis = List.of(node("node-1", 1000).api(), node("node-2", 1000).api(), node("node-3", 1000).api());
        String assistant = assistant(apis.get(0), false);

        long start = System.nanoTime();
        List<Created> created = Collections.synchronizedList(new ArrayList<>());
        try (ExecutorService clients = Executors.newFixedThreadPool(6)) {
            List<Future<?>> sent = new ArrayList<>();
            for (int i = 0; i < runs; i++) {
                int n = i;
                sent.add(clients.submit(() -> {
                    String token = "[tok-" + n + "]";
                    JsonNode run = apis.get(n % 3).post("/v1/threads/runs", """
                            {"assistant_id": "%s", "thread": {"messages": [{"role": "user", "content": "Say %s back."}]}}"""
                            .formatted(assistant, token)).ok();
                    assertThat(run.path("status").asText()).isEqualTo("queued");
                    created.add(new Created(n % 3, token, run.path("thread_id").asText(), run.path("id").asText()));
                }));
            }
            for (Future<?> f : sent) {
                f.get(60, TimeUnit.SECONDS);
            }
        }
        long createdMs = millisSince(start);
        assertThat(created).hasSize(runs);
        assertThat(fake.awaitRequests(runs, Duration.ofSeconds(60))).as("the fake was asked once per run").isTrue();

        Map<String, Integer> executedBy = new TreeMap<>();
        for (Created c : created) {
            Api other = apis.get((c.node + 1) % 3); // not the node it was created on
            JsonNode run = awaitRun(other, c.thread, c.run, r -> !active(r), Duration.ofSeconds(30));
            assertThat(run.path("status").asText()).as("run %s", run).isEqualTo("completed");
            JsonNode messages = other.get("/v1/threads/" + c.thread + "/messages?order=asc").ok().path("data");
            assertThat(messages).as("messages of %s", c.token).hasSize(2);
            assertThat(messages.get(1).path("role").asText()).isEqualTo("assistant");
            assertThat(messages.get(1).path("run_id").asText()).isEqualTo(c.run);
            assertThat(StreamReplay.text(messages.get(1))).isEqualTo("Echo " + c.token);
            JsonNode steps = other.get("/v1/threads/" + c.thread + "/runs/" + c.run + "/steps").ok().path("data");
            assertThat(steps).as("steps of %s", c.token).hasSize(1);
            assertThat(steps.get(0).path("status").asText()).isEqualTo("completed");
        }
        long doneMs = millisSince(start);
        Thread.sleep(500); // a second execution of some run would ask the fake again by now
        assertThat(fake.requestCount()).isEqualTo(runs);
        assertThat(asked).hasSize(runs);
        assertThat(asked.values()).allSatisfy(n -> assertThat(n.get()).isEqualTo(1));
        for (FakeUpstream.Received r : fake.received()) {
            executedBy.merge(r.header("authorization"), 1, Integer::sum);
        }
        System.out.println("ClusterTest: " + runs + " runs created in " + createdMs + " ms, all checked at " + doneMs
                + " ms; model requests per node: " + executedBy);
        assertThat(executedBy.keySet()).as("nodes that executed runs: %s", executedBy)
                .hasSizeGreaterThan(1).allSatisfy(key -> assertThat(key).matches("Bearer key-node-[123]"));
    }

    private record Created(int node, String token, String thread, String run) {}

    // ---- 2: a stream on an API-only node for a run another node executes

    /** Every event reaches A through PostgreSQL (B executes); the checks are those of the single-node stream tests. */
    @Test
    void aStreamOnAnApiOnlyNodeSeesEveryEventOfARunExecutedElsewhereInOrder() throws Exception {
        Cluster cluster = rolesCluster();
        fake.respondWith(body -> lastRole(body).equals("tool")
                ? Reply.text("The tool said " + lastContent(body) + " for " + token(body) + ".").withChunkDelay(Duration.ofMillis(5))
                : token(body).contains("tool") ? Reply.toolCalls(new ToolCall("up_1", WEATHER, "{\"city\":\"Oslo\"}"))
                : echo(body).withChunkDelay(Duration.ofMillis(5)));

        // plain text, the stream opened on A
        String assistant = assistant(cluster.a, true);
        String thread = thread(cluster.c, "[tok-text]");
        List<SseEvents.Event> text = stream(cluster.a, "/v1/threads/" + thread + "/runs",
                "{\"assistant_id\": \"" + assistant + "\", \"stream\": true}").toEnd(Duration.ofSeconds(20));
        assertThat(StreamReplay.order(text)).containsExactly(
                "thread.run.created", "thread.run.queued", "thread.run.in_progress",
                "thread.run.step.created", "thread.run.step.in_progress",
                "thread.message.created", "thread.message.in_progress",
                "thread.message.delta*",
                "thread.message.completed", "thread.run.step.completed", "thread.run.completed", "done");
        StreamReplay.Result replay = StreamReplay.replay(text);
        String messageId = replay.onlyMessageId();
        assertThat(replay.text(messageId)).isEqualTo("Echo [tok-text]");
        // pieces that reach A in one batched notification join into one delta
        assertThat(count(text, "thread.message.delta")).isBetween(1L, ("Echo [tok-text]".length() + 2) / 3L);
        JsonNode completed = text.get(text.size() - 2).json();
        assertThat(cluster.b.get("/v1/threads/" + thread + "/runs/" + completed.path("id").asText()).ok()).isEqualTo(completed);
        assertThat(StreamReplay.text(cluster.c.get("/v1/threads/" + thread + "/messages/" + messageId).ok()))
                .isEqualTo("Echo [tok-text]");

        // a tool call: created with a stream on A, outputs submitted with a stream on C
        String toolThread = thread(cluster.b, "[tok-tool]");
        List<SseEvents.Event> first = stream(cluster.a, "/v1/threads/" + toolThread + "/runs",
                "{\"assistant_id\": \"" + assistant + "\", \"stream\": true}").toEnd(Duration.ofSeconds(20));
        assertThat(StreamReplay.order(first)).containsExactly(
                "thread.run.created", "thread.run.queued", "thread.run.in_progress",
                "thread.run.step.created", "thread.run.step.in_progress",
                "thread.run.step.delta*",
                "thread.run.requires_action", "done");
        StreamReplay.replay(first);
        JsonNode requires = first.get(first.size() - 2).json();
        String runId = requires.path("id").asText();
        JsonNode calls = requires.at("/required_action/submit_tool_outputs/tool_calls");
        assertThat(calls).hasSize(1);
        assertThat(calls.get(0).at("/function/arguments").asText()).isEqualTo("{\"city\":\"Oslo\"}");

        List<SseEvents.Event> rest = stream(cluster.c, "/v1/threads/" + toolThread + "/runs/" + runId + "/submit_tool_outputs",
                "{\"stream\": true, \"tool_outputs\": [{\"tool_call_id\": \"" + calls.get(0).path("id").asText()
                        + "\", \"output\": \"cold\"}]}").toEnd(Duration.ofSeconds(20));
        assertThat(StreamReplay.order(rest)).containsExactly(
                "thread.run.step.completed", "thread.run.queued", "thread.run.in_progress",
                "thread.run.step.created", "thread.run.step.in_progress",
                "thread.message.created", "thread.message.in_progress",
                "thread.message.delta*",
                "thread.message.completed", "thread.run.step.completed", "thread.run.completed", "done");
        StreamReplay.Result after = StreamReplay.replay(rest);
        assertThat(rest.getFirst().json().at("/step_details/tool_calls/0/function/output").asText()).isEqualTo("cold");
        assertThat(after.text(after.onlyMessageId())).isEqualTo("The tool said cold for [tok-tool].");
        assertThat(rest.get(rest.size() - 2).json()).isEqualTo(cluster.a.get("/v1/threads/" + toolThread + "/runs/" + runId).ok());

        assertThat(fake.requests()).hasSize(3);
        assertExecutedOnlyBy("node-b");
    }

    // ---- 3: cancel on one node stops the model call on another

    /** The run streams on C, executes on B, and is cancelled on A: B hears of it through NOTIFY, not its heartbeat. */
    @Test
    void aCancelSentToOneNodeStopsTheRunExecutingOnAnotherWithinASecond() throws Exception {
        Cluster cluster = rolesCluster();
        fake.respondWith(body -> Reply.text("A long answer that never ends").withChunkDelay(Duration.ofMillis(20)).thenHang());
        String assistant = assistant(cluster.a, false);
        String thread = thread(cluster.a, "[tok-cancel]");

        try (SseStream stream = stream(cluster.c, "/v1/threads/" + thread + "/runs",
                "{\"assistant_id\": \"" + assistant + "\", \"stream\": true}")) {
            List<SseEvents.Event> events = new ArrayList<>(stream.until(e -> e.name().equals("thread.message.delta")
                    && stream.text().contains("never ends"), Duration.ofSeconds(20)));
            String runId = events.getFirst().json().path("id").asText();
            assertThat(fake.abortedStreams()).as("the answer is still streaming").isZero();

            long cancelAt = System.nanoTime();
            assertThat(cluster.a.post("/v1/threads/" + thread + "/runs/" + runId + "/cancel", "").ok().path("status").asText())
                    .isEqualTo("cancelling");
            assertThat(fake.awaitAbortedStreams(1, Duration.ofSeconds(5))).as("the model call on node B was aborted").isTrue();
            long abortedMs = millisSince(cancelAt);
            events.addAll(stream.toEnd(Duration.ofSeconds(10)));
            long streamEndedMs = millisSince(cancelAt);
            System.out.println("ClusterTest: cancel on node A aborted node B's model call after " + abortedMs
                    + " ms; the stream on node C ended after " + streamEndedMs + " ms");
            assertThat(abortedMs).as("ms from the cancel request on A to the aborted model call on B").isLessThan(1_000);

            assertThat(StreamReplay.order(events)).containsExactly(
                    "thread.run.created", "thread.run.queued", "thread.run.in_progress",
                    "thread.run.step.created", "thread.run.step.in_progress",
                    "thread.message.created", "thread.message.in_progress",
                    "thread.message.delta*",
                    "thread.run.cancelling",
                    "thread.message.incomplete", "thread.run.step.cancelled", "thread.run.cancelled", "done");
            StreamReplay.Result replay = StreamReplay.replay(events);
            JsonNode run = awaitRun(cluster.b, thread, runId, r -> !active(r), Duration.ofSeconds(5));
            assertThat(run.path("status").asText()).isEqualTo("cancelled");
            assertThat(run.path("cancelled_at").isIntegralNumber()).isTrue();
            assertThat(events.get(events.size() - 2).json()).isEqualTo(run);
            JsonNode message = cluster.c.get("/v1/threads/" + thread + "/messages/" + replay.onlyMessageId()).ok();
            assertThat(message.path("status").asText()).isEqualTo("incomplete");
            assertThat(message.at("/incomplete_details/reason").asText()).isEqualTo("run_cancelled");
            assertThat(StreamReplay.text(message)).isEqualTo(replay.text(replay.onlyMessageId())).contains("never ends");
        }
        assertThat(fake.requests()).hasSize(1);
        assertExecutedOnlyBy("node-b");
    }

    // ---- 4: tool outputs on a third node

    @Test
    void toolOutputsSubmittedToAThirdNodeResumeARunCreatedOnAnother() throws Exception {
        Cluster cluster = rolesCluster();
        fake.respondWith(body -> lastRole(body).equals("tool")
                ? Reply.text("It is " + lastContent(body) + " in Oslo " + token(body) + ".")
                : Reply.toolCalls(new ToolCall("up_1", WEATHER, "{\"city\":\"Oslo\"}"), new ToolCall("up_2", WEATHER, "{\"city\":\"Rome\"}")));
        String assistant = assistant(cluster.a, true);
        String thread = thread(cluster.a, "[tok-submit]");
        String runId = cluster.a.post("/v1/threads/" + thread + "/runs", "{\"assistant_id\": \"" + assistant + "\"}")
                .ok().path("id").asText();

        JsonNode waiting = awaitRun(cluster.c, thread, runId, r -> !r.path("status").asText().matches("queued|in_progress"),
                Duration.ofSeconds(20));
        assertThat(waiting.path("status").asText()).isEqualTo("requires_action");
        JsonNode calls = waiting.at("/required_action/submit_tool_outputs/tool_calls");
        assertThat(calls).hasSize(2);
        assertThat(cluster.a.get("/v1/threads/" + thread + "/runs/" + runId).ok()).isEqualTo(waiting);

        JsonNode submitted = cluster.c.post("/v1/threads/" + thread + "/runs/" + runId + "/submit_tool_outputs", """
                {"tool_outputs": [{"tool_call_id": "%s", "output": "cold"}, {"tool_call_id": "%s", "output": "warm"}]}"""
                .formatted(calls.get(0).path("id").asText(), calls.get(1).path("id").asText())).ok();
        assertThat(submitted.path("status").asText()).isEqualTo("queued");

        JsonNode done = awaitRun(cluster.a, thread, runId, r -> !active(r), Duration.ofSeconds(20));
        assertThat(done.path("status").asText()).as("run %s", done).isEqualTo("completed");
        List<JsonNode> answers = assistantMessages(cluster.b, thread);
        assertThat(answers).hasSize(1);
        assertThat(StreamReplay.text(answers.getFirst())).isEqualTo("It is warm in Oslo [tok-submit].");
        JsonNode steps = cluster.c.get("/v1/threads/" + thread + "/runs/" + runId + "/steps?order=asc").ok().path("data");
        assertThat(steps).extracting(s -> s.path("type").asText() + " " + s.path("status").asText())
                .containsExactly("tool_calls completed", "message_creation completed");
        assertThat(steps.get(0).at("/step_details/tool_calls")).extracting(c -> c.at("/function/output").asText())
                .containsExactly("cold", "warm");

        assertThat(fake.requests()).hasSize(2);
        List<String> toolMessages = new ArrayList<>();
        fake.requests().get(1).path("messages").forEach(m -> {
            if (m.path("role").asText().equals("tool")) {
                toolMessages.add(m.path("tool_call_id").asText() + "=" + m.path("content").asText());
            }
        });
        assertThat(toolMessages).containsExactly(calls.get(0).path("id").asText() + "=cold", calls.get(1).path("id").asText() + "=warm");
        assertExecutedOnlyBy("node-b");
    }

    // ---- 5: SIGKILL mid-answer

    /**
     * Node X (a process, 3 s leases) executes the run; node A (API-only) streams it; node B (3 s leases) is started only
     * once X is mid-answer, so that it cannot claim the run first. X is killed: B takes the run over when X's lease ran
     * out. The stream on A ends when B takes over, with an error event and done (see {@link #assertEndedByTakeover}).
     */
    @Test
    void aRunOfANodeKilledMidAnswerFinishesOnAnotherNodeOnceItsLeaseRunsOut() throws Exception {
        Server x = servers.start(processEnv("node-x", 3));
        Api a = node("node-a", 0, 3).api();
        fake.enqueue(Reply.text(SLOW_ANSWER).withChunkDelay(Duration.ofMillis(150)).thenHang());
        fake.respondWith(body -> Reply.text("The fresh answer for " + token(body) + "."));
        String assistant = assistant(a, false);
        String thread = thread(a, "[tok-kill]");

        try (SseStream stream = stream(a, "/v1/threads/" + thread + "/runs", "{\"assistant_id\": \"" + assistant + "\", \"stream\": true}")) {
            List<SseEvents.Event> events = new ArrayList<>(stream.until(e -> e.name().equals("thread.message.delta"), Duration.ofSeconds(20)));
            String runId = events.getFirst().json().path("id").asText();
            JsonNode inFlight = awaitMessages(a, thread, 2).get(1);
            assertThat(inFlight.path("status").asText()).isEqualTo("in_progress");
            assertThat(lease(runId)).isEqualTo("node-x");
            Api b = node("node-b", 1000, 3).api();

            servers.kill(x);
            long killedAt = System.nanoTime();
            assertThat(fake.awaitAbortedStreams(1, Duration.ofSeconds(5))).as("the kill cut the answer off").isTrue();
            events.addAll(stream.toEnd(Duration.ofSeconds(15)));
            long streamEndedMs = millisSince(killedAt);
            JsonNode done = awaitRun(b, thread, runId, r -> !active(r), Duration.ofSeconds(10));
            long doneMs = millisSince(killedAt);
            System.out.println("ClusterTest: node X killed; the stream on A ended " + streamEndedMs + " ms later, the run "
                    + doneMs + " ms later");
            assertThat(streamEndedMs).as("ms from the kill to the takeover (3 s lease)").isBetween(1_000L, 3_000L + 5_000L);
            assertThat(doneMs).as("ms from the kill to the end of the run").isLessThan(3_000L + 5_000L);
            assertEndedByTakeover(events, SLOW_ANSWER);

            String fresh = "The fresh answer for [tok-kill].";
            assertThat(done.path("status").asText()).as("run %s", done).isEqualTo("completed");
            List<JsonNode> answers = assistantMessages(b, thread);
            assertThat(answers).as("one assistant message, the in-flight one reused").hasSize(1);
            assertThat(answers.getFirst().path("id")).isEqualTo(inFlight.path("id"));
            assertThat(StreamReplay.text(answers.getFirst())).isEqualTo(fresh);
            JsonNode steps = a.get("/v1/threads/" + thread + "/runs/" + runId + "/steps").ok().path("data");
            assertThat(steps).as("steps %s", steps).hasSize(1);
            assertThat(steps.get(0).path("status").asText()).isEqualTo("completed");
        }
        assertThat(fake.received()).extracting(r -> r.header("authorization")).containsExactly("Bearer key-node-x", "Bearer key-node-b");
        assertThat(fake.requests().get(1)).as("the model was asked the same question again").isEqualTo(fake.requests().get(0));
    }

    // ---- 6: SIGTERM mid-answer

    /**
     * Node X (a process, 30 s leases) stops on SIGTERM: it hands its run back, and B (started once X is mid-answer)
     * finishes it long before the lease would have run out. The stream on A ends as after a kill.
     */
    @Test
    void aNodeStoppedMidAnswerExitsPromptlyAndAnotherNodeCompletesItsRun() throws Exception {
        Server x = servers.start(processEnv("node-x", 30));
        Api a = node("node-a", 0, 30).api();
        fake.enqueue(Reply.text(SLOW_ANSWER).withChunkDelay(Duration.ofMillis(150)));
        fake.respondWith(body -> Reply.text("Answered after the handover, " + token(body) + "."));
        String assistant = assistant(a, false);
        String thread = thread(a, "[tok-term]");

        try (SseStream stream = stream(a, "/v1/threads/" + thread + "/runs", "{\"assistant_id\": \"" + assistant + "\", \"stream\": true}")) {
            List<SseEvents.Event> events = new ArrayList<>(stream.until(e -> e.name().equals("thread.message.delta"), Duration.ofSeconds(20)));
            String runId = events.getFirst().json().path("id").asText();
            JsonNode inFlight = awaitMessages(a, thread, 2).get(1);
            assertThat(lease(runId)).isEqualTo("node-x");
            Api b = node("node-b", 1000, 30).api();

            long stoppedAt = System.nanoTime();
            x.process().destroy();
            servers.note("SIGTERM to pid " + x.process().pid());
            assertThat(x.process().waitFor(10, TimeUnit.SECONDS)).as("node X exited within 10 s of SIGTERM").isTrue();
            long exitMs = millisSince(stoppedAt);
            assertThat(x.process().exitValue()).isEqualTo(128 + 15);
            events.addAll(stream.toEnd(Duration.ofSeconds(15)));
            JsonNode done = awaitRun(b, thread, runId, r -> !active(r), Duration.ofSeconds(10));
            long doneMs = millisSince(stoppedAt);
            System.out.println("ClusterTest: node X exited " + exitMs + " ms after SIGTERM; the run ended " + doneMs + " ms after it");
            assertThat(doneMs).as("handed back, not taken after the 30 s lease").isLessThan(10_000);
            assertEndedByTakeover(events, SLOW_ANSWER);

            String fresh = "Answered after the handover, [tok-term].";
            assertThat(done.path("status").asText()).as("run %s", done).isEqualTo("completed");
            List<JsonNode> messages = a.get("/v1/threads/" + thread + "/messages?order=asc").ok().path("data").valueStream().toList();
            assertThat(messages).hasSize(2);
            assertThat(StreamReplay.text(messages.get(0))).isEqualTo("Answer [tok-term]");
            assertThat(messages.get(1).path("id")).isEqualTo(inFlight.path("id"));
            assertThat(messages.get(1).path("status").asText()).isEqualTo("completed");
            assertThat(StreamReplay.text(messages.get(1))).isEqualTo(fresh);
            JsonNode steps = b.get("/v1/threads/" + thread + "/runs/" + runId + "/steps").ok().path("data");
            assertThat(steps).hasSize(1);
            assertThat(steps.get(0).path("status").asText()).isEqualTo("completed");
            assertThat(lease(runId)).as("nobody holds the finished run").isNull();
        }
        assertThat(fake.awaitAbortedStreams(1, Duration.ofSeconds(1))).as("node X aborted its model call").isTrue();
        assertThat(fake.received()).extracting(r -> r.header("authorization")).containsExactly("Bearer key-node-x", "Bearer key-node-b");
        assertThat(fake.requests().get(1)).isEqualTo(fake.requests().get(0));
    }

    // ---- 7: the SDK, each request to the next node

    @Test
    @SuppressWarnings("deprecation") // the Assistants API is what Spindle serves
    void theSdkWorksWhenEveryRequestGoesToTheNextNode() throws Exception {
        Cluster cluster = rolesCluster();
        fake.respondWith(body -> lastRole(body).equals("tool")
                ? Reply.text("Sunny, says the tool: " + lastContent(body) + " " + token(body))
                : Reply.textThenToolCalls("Let me look.", new ToolCall("up_1", WEATHER, "{\"city\":\"Paris\"}")));
        List<String> sentTo = Collections.synchronizedList(new ArrayList<>());
        List<String> urls = List.of(cluster.nodes.get(0).baseUrl(), cluster.nodes.get(1).baseUrl(), cluster.nodes.get(2).baseUrl());
        OpenAIClient sdk = Sdk.roundRobin(urls, null, sentTo);
        try {
            Assistant assistant = SdkRuns.assistant(sdk, "Be brief.", WEATHER);
            String thread = SdkThreads.threadWith(sdk, "Hello.");
            SdkThreads.addMessages(sdk, thread, "What is the weather in Paris? [tok-sdk]");

            List<SseEvents.Event> first = collect(sdk.beta().threads().runs().createStreaming(thread,
                    RunCreateParams.builder().assistantId(assistant.id()).build()));
            assertThat(StreamReplay.order(first)).containsExactly(
                    "thread.run.created", "thread.run.queued", "thread.run.in_progress",
                    "thread.run.step.created", "thread.run.step.in_progress",
                    "thread.message.created", "thread.message.in_progress", "thread.message.delta*",
                    "thread.message.completed", "thread.run.step.completed",
                    "thread.run.step.created", "thread.run.step.in_progress", "thread.run.step.delta*",
                    "thread.run.requires_action");
            StreamReplay.replay(first);
            Run waiting = SdkRuns.retrieve(sdk, thread, first.getLast().json().path("id").asText());
            assertThat(waiting.status()).isEqualTo(RunStatus.REQUIRES_ACTION);
            List<String> callIds = SdkRuns.pendingCallIds(waiting);
            assertThat(callIds).hasSize(1);

            List<SseEvents.Event> rest = collect(sdk.beta().threads().runs().submitToolOutputsStreaming(waiting.id(),
                    RunSubmitToolOutputsParams.builder().threadId(thread).addToolOutput(RunSubmitToolOutputsParams.ToolOutput
                            .builder().toolCallId(callIds.getFirst()).output("22 C").build()).build()));
            assertThat(StreamReplay.order(rest).getFirst()).isEqualTo("thread.run.step.completed");
            assertThat(StreamReplay.order(rest).getLast()).isEqualTo("thread.run.completed");
            StreamReplay.Result replay = StreamReplay.replay(rest);
            assertThat(replay.text(replay.onlyMessageId())).isEqualTo("Sunny, says the tool: 22 C [tok-sdk]");

            List<Message> messages = SdkRuns.threadMessages(sdk, thread);
            assertThat(SdkThreads.texts(messages)).containsExactly("Hello.", "What is the weather in Paris? [tok-sdk]",
                    "Let me look.", "Sunny, says the tool: 22 C [tok-sdk]");
            List<RunStep> steps = SdkRuns.steps(sdk, waiting);
            assertThat(steps).extracting(s -> s.type().asString()).containsExactly("message_creation", "tool_calls", "message_creation");
            // three reads in a row, one per node, see the same run
            List<Run> reads = List.of(SdkRuns.retrieve(sdk, thread, waiting.id()), SdkRuns.retrieve(sdk, thread, waiting.id()),
                    SdkRuns.retrieve(sdk, thread, waiting.id()));
            assertThat(reads).allSatisfy(r -> assertThat(SdkJson.tree(r)).isEqualTo(SdkJson.tree(reads.getFirst())));
            assertThat(reads.getFirst().status()).isEqualTo(RunStatus.COMPLETED);

            for (Api api : cluster.apis()) {
                assertThat(api.get("/v1/threads/" + thread + "/messages?order=asc").ok())
                        .isEqualTo(cluster.a.get("/v1/threads/" + thread + "/messages?order=asc").ok());
                assertThat(api.get("/v1/threads/" + thread + "/runs/" + waiting.id() + "/steps").ok())
                        .isEqualTo(cluster.a.get("/v1/threads/" + thread + "/runs/" + waiting.id() + "/steps").ok());
                assertThat(api.get("/v1/assistants/" + assistant.id()).ok().path("id").asText()).isEqualTo(assistant.id());
            }
            assertThat(sentTo).hasSizeGreaterThanOrEqualTo(9);
            for (int i = 0; i < sentTo.size(); i++) {
                assertThat(sentTo.get(i)).isEqualTo(urls.get(i % 3));
            }
        } finally {
            sdk.close();
        }
        assertThat(fake.requests()).hasSize(2);
        assertExecutedOnlyBy("node-b");
    }

    // ---- nodes

    /** Three in-process nodes: A and C only answer the API, B executes every run. */
    private record Cluster(Api a, Api b, Api c, List<TestServer> nodes) {
        List<Api> apis() {
            return List.of(a, b, c);
        }
    }

    private Cluster rolesCluster() {
        TestServer a = node("node-a", 0);
        TestServer b = node("node-b", 1000);
        TestServer c = node("node-c", 0);
        return new Cluster(a.api(), b.api(), c.api(), List.of(a, b, c));
    }

    private TestServer node(String id, int maxConcurrentRuns) {
        return node(id, maxConcurrentRuns, 30);
    }

    /** An in-process node on this test's database. */
    private TestServer node(String id, int maxConcurrentRuns, int leaseSeconds) {
        Map<String, String> env = processEnv(id, leaseSeconds);
        env.put("SPINDLE_MAX_CONCURRENT_RUNS", Integer.toString(maxConcurrentRuns));
        TestServer node = TestServer.start(TestServer.Storage.POSTGRESQL, env);
        nodes.add(node);
        return node;
    }

    /** The settings of a node on this test's database, calling the fake with its own key and without retries. */
    private Map<String, String> processEnv(String id, int leaseSeconds) {
        Map<String, String> env = new HashMap<>();
        env.put("SPINDLE_DATABASE_URL", databaseUrl);
        env.put("SPINDLE_NODE_ID", id);
        env.put("SPINDLE_LEASE_SECONDS", Integer.toString(leaseSeconds));
        env.put("SPINDLE_UPSTREAM_URL", fake.baseUrl());
        env.put("SPINDLE_UPSTREAM_API_KEY", "key-" + id);
        env.put("SPINDLE_UPSTREAM_RETRIES", "0");
        env.put("SPINDLE_UPSTREAM_TIMEOUT_SECONDS", "30");
        env.put("SPINDLE_POLL_AFTER_MS", "50");
        return env;
    }

    /** Every model request came from this node. */
    private void assertExecutedOnlyBy(String node) {
        assertThat(fake.received()).extracting(r -> r.header("authorization")).containsOnly("Bearer key-" + node);
    }

    /** The run's lease owner, read from the database. */
    private String lease(String runId) throws SQLException {
        try (Connection c = DriverManager.getConnection(databaseUrl);
             PreparedStatement ps = c.prepareStatement("SELECT lease_owner FROM runs WHERE id = ?")) {
            ps.setString(1, runId);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).as("run %s is stored", runId).isTrue();
                return rs.getString(1);
            }
        }
    }

    // ---- the fake's answers

    /** Echoes the question's token, and counts the requests per token. */
    private Reply echo(JsonNode body) {
        String token = token(body);
        asked.computeIfAbsent(token, t -> new AtomicInteger()).incrementAndGet();
        return Reply.text("Echo " + token);
    }

    /** The token in the thread's user messages, e.g. {@code [tok-17]}. */
    private static String token(JsonNode request) {
        for (JsonNode m : request.path("messages")) {
            if (m.path("role").asText().equals("user")) {
                Matcher matcher = TOKEN.matcher(m.path("content").toString());
                if (matcher.find()) {
                    return matcher.group();
                }
            }
        }
        throw new AssertionError("no token in the request's user messages: " + request.path("messages"));
    }

    private static String lastRole(JsonNode request) {
        return request.path("messages").get(request.path("messages").size() - 1).path("role").asText();
    }

    private static String lastContent(JsonNode request) {
        return request.path("messages").get(request.path("messages").size() - 1).path("content").asText();
    }

    // ---- API helpers

    private static String assistant(Api api, boolean weather) {
        String tools = weather ? ", \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"" + WEATHER + "\"}}]" : "";
        return api.post("/v1/assistants", "{\"model\": \"gpt-4o\"" + tools + "}").ok().path("id").asText();
    }

    /** A thread whose one question asks to answer the token. */
    private static String thread(Api api, String token) {
        return api.post("/v1/threads", "{\"messages\": [{\"role\": \"user\", \"content\": \"Answer " + token + "\"}]}")
                .ok().path("id").asText();
    }

    private JsonNode awaitRun(Api api, String thread, String runId, Predicate<JsonNode> until, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            JsonNode run = api.get("/v1/threads/" + thread + "/runs/" + runId).ok();
            if (until.test(run)) {
                return run;
            }
            if (System.nanoTime() > deadline) {
                fail("run still " + run.path("status").asText() + " after " + timeout + ": " + run
                        + "\nprocess output:\n" + Files.readString(servers.log()));
            }
            Thread.sleep(20);
        }
    }

    /** Waits until the thread has {@code n} messages; returns them, oldest first. */
    private static List<JsonNode> awaitMessages(Api api, String thread, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            List<JsonNode> messages = api.get("/v1/threads/" + thread + "/messages?order=asc").ok().path("data").valueStream().toList();
            if (messages.size() >= n) {
                return messages;
            }
            assertThat(System.nanoTime()).as("thread %s has %s messages", thread, messages.size()).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    private static List<JsonNode> assistantMessages(Api api, String thread) {
        return api.get("/v1/threads/" + thread + "/messages?order=asc").ok().path("data").valueStream()
                .filter(m -> m.path("role").asText().equals("assistant")).toList();
    }

    private static boolean active(JsonNode run) {
        return List.of("queued", "in_progress", "requires_action", "cancelling").contains(run.path("status").asText());
    }

    private static long millisSince(long nanoTime) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanoTime);
    }

    private static long count(List<SseEvents.Event> events, String name) {
        return events.stream().filter(e -> e.name().equals(name)).count();
    }

    /**
     * A stream that showed part of an answer which another node then wrote again (after a takeover) ends with an error
     * event and done: deltas could not take back what was shown. What it showed is consistent, and a part of the
     * interrupted answer.
     */
    private static void assertEndedByTakeover(List<SseEvents.Event> events, String interruptedAnswer) {
        assertThat(StreamReplay.order(events)).containsExactly(
                "thread.run.created", "thread.run.queued", "thread.run.in_progress",
                "thread.run.step.created", "thread.run.step.in_progress",
                "thread.message.created", "thread.message.in_progress",
                "thread.message.delta*",
                "error", "done");
        StreamReplay.Result replay = StreamReplay.replay(events);
        assertThat(interruptedAnswer).startsWith(replay.text(replay.onlyMessageId()));
        JsonNode error = events.get(events.size() - 2).json().path("error");
        assertThat(error.path("type").asText()).isEqualTo("server_error");
        assertThat(error.path("message").asText()).contains("took the run over");
    }

    // ---- streams

    /** Reads a whole SDK stream as events (the SDK's view: no {@code done}). */
    private static List<SseEvents.Event> collect(StreamResponse<AssistantStreamEvent> stream) {
        try (stream) {
            return stream.stream().map(SdkJson::event).toList();
        }
    }

    private static SseStream stream(Api api, String path, String json) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(api.baseUrl() + path))
                .header("Content-Type", "application/json")
                .header("OpenAI-Beta", "assistants=v2")
                .POST(HttpRequest.BodyPublishers.ofString(json))
                .build();
        HttpResponse<InputStream> response = HTTP.sendAsync(request, HttpResponse.BodyHandlers.ofInputStream()).get(30, TimeUnit.SECONDS);
        if (response.statusCode() != 200) {
            throw new AssertionError("POST " + path + " answered " + response.statusCode() + ": "
                    + new String(response.body().readAllBytes(), UTF_8));
        }
        assertThat(response.headers().firstValue("content-type")).hasValue("text/event-stream; charset=utf-8");
        return new SseStream(response.body());
    }

    /** An SSE body read (and each event validated) on a thread of its own, so that reads can time out. */
    private static final class SseStream implements AutoCloseable {
        private static final SseEvents.Event END = new SseEvents.Event("(end of body)", "");
        private final InputStream in;
        private final BlockingQueue<SseEvents.Event> queue = new LinkedBlockingQueue<>();
        private final StringBuilder text = new StringBuilder();
        private volatile Throwable failure;

        SseStream(InputStream in) {
            this.in = in;
            Thread.ofVirtual().start(this::read);
        }

        private void read() {
            SseEvents.Decoder decoder = new SseEvents.Decoder();
            byte[] buffer = new byte[8192];
            try (in) {
                for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                    for (SseEvents.Event e : decoder.feed(buffer, 0, n)) {
                        SseEvents.validate(e);
                        queue.add(e);
                    }
                }
                decoder.end();
            } catch (IOException | RuntimeException | AssertionError e) {
                failure = e;
            } finally {
                queue.add(END);
            }
        }

        /** The text of the message deltas read so far. */
        String text() {
            return text.toString();
        }

        /** The events up to and including the first that matches; fails if the body ends or the time runs out first. */
        List<SseEvents.Event> until(Predicate<SseEvents.Event> last, Duration timeout) throws InterruptedException {
            List<SseEvents.Event> events = new ArrayList<>();
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                SseEvents.Event e = queue.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                if (e == null || e == END) {
                    throw new AssertionError((e == null ? "no matching event within " + timeout : "the stream ended")
                            + "; read " + StreamReplay.order(events), failure);
                }
                if (e.name().equals("thread.message.delta")) {
                    e.json().at("/delta/content").forEach(part -> text.append(part.at("/text/value").asText()));
                }
                events.add(e);
                if (last.test(e)) {
                    return events;
                }
            }
        }

        /** The events until the body ends (which it must within {@code timeout}, after {@code done}). */
        List<SseEvents.Event> toEnd(Duration timeout) throws InterruptedException {
            List<SseEvents.Event> events = new ArrayList<>();
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                SseEvents.Event e = queue.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                if (e == null) {
                    throw new AssertionError("the stream did not end within " + timeout + "; read " + StreamReplay.order(events));
                }
                if (e == END) {
                    if (failure != null) {
                        throw new AssertionError("the stream broke after " + StreamReplay.order(events), failure);
                    }
                    return events;
                }
                events.add(e);
            }
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
