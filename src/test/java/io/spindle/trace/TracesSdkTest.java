package io.spindle.trace;

import static io.spindle.testing.SdkRuns.pollFor;
import static io.spindle.testing.SdkThreads.threadWith;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.models.beta.assistants.Assistant;
import com.openai.models.beta.assistants.AssistantCreateParams;
import com.openai.models.beta.assistants.FileSearchTool;
import com.openai.models.beta.threads.runs.Run;
import com.openai.models.beta.threads.runs.RunCreateParams;
import com.openai.models.beta.threads.runs.RunStatus;
import io.opentelemetry.proto.trace.v1.Span.SpanKind;
import io.spindle.testing.Api;
import io.spindle.testing.FakeEmbeddings;
import io.spindle.testing.FakeUpstream;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.OtlpReceiver;
import io.spindle.testing.OtlpReceiver.Received;
import io.spindle.testing.TestServer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Traces reach an OTLP collector (an in-test receiver) when the OTEL_* variables name it: a run created through the
 * official SDK with a {@code traceparent} is one trace with the client's span, the server span of the request that made
 * it, and the run's execution with its queue wait, model calls, tool execution and changes. In a cluster the run may
 * execute on another node than the one that created it: the span context kept with the run joins the two.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(TestServer.Storage.class)
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
class TracesSdkTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @Parameter
    TestServer.Storage storage;

    private OtlpReceiver collector;
    private FakeUpstream upstream;
    private FakeEmbeddings embeddings;
    private TestServer server;
    private OpenAIClient sdk;

    @BeforeEach
    void start() {
        collector = OtlpReceiver.start();
        upstream = FakeUpstream.start();
        embeddings = FakeEmbeddings.start();
        Map<String, String> env = new HashMap<>(collector.settings());
        env.putAll(embeddings.settings());
        env.put("SPINDLE_UPSTREAM_URL", upstream.baseUrl());
        env.put("SPINDLE_UPSTREAM_API_KEY", "sk-upstream-test-key");
        env.put("SPINDLE_POLL_AFTER_MS", "50");
        server = TestServer.start(storage, env);
        sdk = server.sdk();
    }

    @AfterEach
    void stop() {
        sdk.close();
        server.close();
        embeddings.close();
        upstream.close();
        collector.close();
    }

    @Test
    void aRunIsOneTraceWithTheRequestThatCreatedItsQueueWaitModelCallsToolAndChanges() throws InterruptedException {
        Assistant assistant = searchingAssistant();
        String threadId = threadWith(sdk, "What is Filip's favorite food?");
        upstream.respondWith(body -> lastRole(body).equals("tool")
                ? Reply.text("Filip likes cake.").withUsage(300, 12)
                : Reply.toolCalls(new FakeUpstream.ToolCall("call_up", "file_search", "{\"queries\": [\"Filip food\"]}"))
                        .withUsage(100, 10));
        String traceId = hex(16);
        String clientSpanId = hex(8);

        Run run = pollFor(sdk, sdk.beta().threads().runs().create(threadId, RunCreateParams.builder().assistantId(assistant.id())
                .putAdditionalHeader("traceparent", "00-" + traceId + "-" + clientSpanId + "-01").build()), RunStatus.COMPLETED);

        Received execution = collector.await(s -> s.name().equals("run") && run.id().equals(s.attribute("spindle.run_id")), WAIT)
                .orElseThrow(() -> new AssertionError("no run span in " + collector.spans()));
        Received create = only(s -> s.name().equals("POST /v1/threads/{id}/runs"));
        assertThat(create.traceId()).as("the client's trace").isEqualTo(traceId);
        assertThat(create.parentSpanId()).as("the client's span").isEqualTo(clientSpanId);
        assertThat(create.kind()).isEqualTo(SpanKind.SPAN_KIND_SERVER);
        assertThat(create.attribute("http.response.status_code")).isEqualTo("200");
        assertThat(create.attribute("spindle.request_id")).startsWith("req_");
        assertThat(create.resource()).containsEntry("service.name", "spindle");
        assertThat(create.resource().get("service.instance.id")).startsWith("test-node-");

        assertThat(execution.traceId()).isEqualTo(traceId);
        assertThat(execution.parentSpanId()).as("the run's execution is a child of the request that created it")
                .isEqualTo(create.spanId());
        assertThat(execution.attributes()).containsEntry("spindle.thread_id", threadId).containsEntry("spindle.project", "default")
                .containsEntry("gen_ai.request.model", "gpt-4o");

        List<Received> children = collector.spans().stream().filter(s -> s.parentSpanId().equals(execution.spanId()))
                .sorted(Comparator.comparingLong(Received::startNanos)).toList();
        assertThat(children).allSatisfy(s -> assertThat(s.traceId()).isEqualTo(traceId));
        Received queued = children.stream().filter(s -> s.name().equals("run queued")).findFirst().orElseThrow();
        assertThat(queued.startNanos()).as("queued while the request was answered")
                .isBetween(create.startNanos() - 1_000_000, create.endNanos() + 1_000_000);
        assertThat(queued.endNanos()).isBetween(queued.startNanos(), execution.startNanos() + 1_000_000);

        List<Received> work = children.stream().filter(s -> !s.name().equals("run change") && s != queued).toList();
        assertThat(work).extracting(Received::name).containsExactly("chat gpt-4o", "execute_tool file_search", "chat gpt-4o");
        Received search = work.get(1);
        assertThat(work.getFirst().kind()).isEqualTo(SpanKind.SPAN_KIND_CLIENT);
        assertThat(work.getFirst().attributes()).containsEntry("gen_ai.usage.input_tokens", "100")
                .containsEntry("gen_ai.usage.output_tokens", "10");
        assertThat(work.getLast().attributes()).containsEntry("gen_ai.usage.input_tokens", "300");
        assertThat(search.startNanos()).isGreaterThanOrEqualTo(work.getFirst().endNanos());
        assertThat(search.endNanos()).isLessThanOrEqualTo(work.getLast().startNanos());
        String callId = server.api().get("/v1/threads/" + threadId + "/runs/" + run.id() + "/steps?order=asc").ok().path("data")
                .path(0).path("step_details").path("tool_calls").path(0).path("id").asText();
        assertThat(search.attribute("gen_ai.tool.call.id")).isEqualTo(callId);

        List<Received> changes = children.stream().filter(s -> s.name().equals("run change")).toList();
        assertThat(changes).as("begin, the turn, the results; begin, the answer").hasSize(5)
                .allSatisfy(c -> assertThat(c.attribute("spindle.run_id")).isEqualTo(run.id()));
        assertThat(changes.getFirst().attribute("spindle.run.status")).isEqualTo("in_progress");
        assertThat(changes.getLast().attribute("spindle.run.status")).isEqualTo("completed");
        for (Received chat : List.of(work.getFirst(), work.getLast())) {
            assertThat(collector.spans()).as("what the answer wrote as it came: the tool step, then the message")
                    .filteredOn(s -> s.parentSpanId().equals(chat.spanId())).extracting(Received::name).containsExactly("run change");
        }
    }

    @Test
    void aRequestWithoutTraceparentStartsATraceOfItsOwn() throws InterruptedException {
        server.api().get("/v1/threads/thread_abcdefghijklmnopqrstuvwx").error(404);

        Received answered = collector.await(s -> s.name().equals("GET /v1/threads/{id}"), WAIT)
                .orElseThrow(() -> new AssertionError("no span in " + collector.spans()));
        assertThat(answered.parentSpanId()).isEmpty();
        assertThat(answered.traceId()).matches("[0-9a-f]{32}").isNotEqualTo("0".repeat(32));
        assertThat(answered.attributes()).containsEntry("http.response.status_code", "404")
                .containsEntry("url.path", "/v1/threads/thread_abcdefghijklmnopqrstuvwx");
        assertThat(answered.error()).as("a client's mistake is not the server's error").isFalse();
    }

    private Received only(java.util.function.Predicate<Received> wanted) {
        List<Received> found = collector.spans().stream().filter(wanted).toList();
        assertThat(found).as("spans received: " + collector.spans()).hasSize(1);
        return found.getFirst();
    }

    private Assistant searchingAssistant() throws InterruptedException {
        Api api = server.api();
        String fileId = api.uploadFile("assistants", "foods.txt", "Filip Carola: cake".getBytes(StandardCharsets.UTF_8));
        String storeId = api.post("/v1/vector_stores", "{\"file_ids\": [\"" + fileId + "\"]}").ok().path("id").asText();
        api.await("/v1/vector_stores/" + storeId, s -> s.path("status").asText().equals("completed"), WAIT);
        return sdk.beta().assistants().create(AssistantCreateParams.builder().model("gpt-4o")
                .addTool(FileSearchTool.builder().build())
                .toolResources(AssistantCreateParams.ToolResources.builder()
                        .fileSearch(AssistantCreateParams.ToolResources.FileSearch.builder().addVectorStoreId(storeId).build())
                        .build())
                .build());
    }

    private static String lastRole(JsonNode body) {
        JsonNode messages = body.path("messages");
        return messages.get(messages.size() - 1).path("role").asText();
    }

    private static String hex(int bytes) {
        byte[] random = new byte[bytes];
        ThreadLocalRandom.current().nextBytes(random);
        random[0] |= 1; // never all zeros, which W3C forbids
        return HexFormat.of().formatHex(random);
    }
}
