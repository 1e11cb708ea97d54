package io.spindle.trace;

import static io.spindle.testing.SdkRuns.pollFor;
import static io.spindle.testing.SdkThreads.threadWith;
import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.OpenAIClient;
import com.openai.models.beta.threads.runs.Run;
import com.openai.models.beta.threads.runs.RunCreateParams;
import com.openai.models.beta.threads.runs.RunStatus;
import io.spindle.testing.FakeUpstream;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.OtlpReceiver;
import io.spindle.testing.OtlpReceiver.Received;
import io.spindle.testing.SdkRuns;
import io.spindle.testing.TestPostgres;
import io.spindle.testing.TestServer;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Two nodes on one PostgreSQL database: one that answers the API and executes no runs, one that executes them. A run
 * created on the first is executed by the second, and its spans still join the trace of the request that created it,
 * through the span context stored with the run.
 */
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
class TraceAcrossNodesTest {
    private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
    private static final String CLIENT_SPAN_ID = "00f067aa0ba902b7";

    @Test
    void aRunExecutedByAnotherNodeJoinsTheTraceOfTheRequestThatCreatedIt() throws InterruptedException {
        String database = TestPostgres.freshDatabase();
        try (OtlpReceiver collector = OtlpReceiver.start(); FakeUpstream upstream = FakeUpstream.start()) {
            upstream.respondWith(body -> Reply.text("Hello from the other node."));
            Map<String, String> env = new HashMap<>(collector.settings());
            env.put("SPINDLE_DATABASE_URL", database);
            env.put("SPINDLE_UPSTREAM_URL", upstream.baseUrl());
            env.put("SPINDLE_POLL_AFTER_MS", "50");
            Map<String, String> api = new HashMap<>(env);
            api.put("SPINDLE_NODE_ID", "node-api");
            api.put("SPINDLE_MAX_CONCURRENT_RUNS", "0");
            Map<String, String> worker = new HashMap<>(env);
            worker.put("SPINDLE_NODE_ID", "node-worker");
            try (TestServer apiNode = TestServer.start(TestServer.Storage.POSTGRESQL, api);
                 TestServer workerNode = TestServer.start(TestServer.Storage.POSTGRESQL, worker)) {
                OpenAIClient sdk = apiNode.sdk();
                String threadId = threadWith(sdk, "Hello?");
                Run run = pollFor(sdk, sdk.beta().threads().runs().create(threadId,
                        RunCreateParams.builder().assistantId(SdkRuns.assistant(sdk, null).id())
                                .putAdditionalHeader("traceparent", "00-" + TRACE_ID + "-" + CLIENT_SPAN_ID + "-01").build()),
                        RunStatus.COMPLETED);

                Received execution = collector.await(s -> s.name().equals("run") && run.id().equals(s.attribute("spindle.run_id")),
                        Duration.ofSeconds(20)).orElseThrow(() -> new AssertionError("no run span in " + collector.spans()));
                Received create = collector.spans().stream().filter(s -> s.name().equals("POST /v1/threads/{id}/runs"))
                        .findFirst().orElseThrow();
                assertThat(create.resource()).containsEntry("service.instance.id", "node-api");
                assertThat(create.traceId()).isEqualTo(TRACE_ID);
                assertThat(create.parentSpanId()).isEqualTo(CLIENT_SPAN_ID);
                assertThat(execution.resource()).as("executed by the other node").containsEntry("service.instance.id", "node-worker");
                assertThat(execution.traceId()).isEqualTo(TRACE_ID);
                assertThat(execution.parentSpanId()).isEqualTo(create.spanId());
                assertThat(collector.spans()).as("the queue wait, begin, the model call, the answer: all on the worker")
                        .filteredOn(s -> s.parentSpanId().equals(execution.spanId()))
                        .allSatisfy(s -> assertThat(s.resource()).containsEntry("service.instance.id", "node-worker"))
                        .extracting(Received::name).containsExactlyInAnyOrder("run queued", "run change", "chat gpt-4o", "run change");
                sdk.close();
            }
        } finally {
            TestPostgres.dropDatabase(database);
        }
    }
}
