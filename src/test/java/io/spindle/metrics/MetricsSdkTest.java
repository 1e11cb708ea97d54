package io.spindle.metrics;

import static io.spindle.testing.SdkRuns.assistant;
import static io.spindle.testing.SdkRuns.cancel;
import static io.spindle.testing.SdkRuns.createRun;
import static io.spindle.testing.SdkRuns.pollFor;
import static io.spindle.testing.SdkRuns.runOf;
import static io.spindle.testing.SdkThreads.threadWith;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.openai.core.http.StreamResponse;
import com.openai.errors.NotFoundException;
import com.openai.models.beta.assistants.AssistantStreamEvent;
import com.openai.models.beta.assistants.Assistant;
import com.openai.models.beta.assistants.AssistantCreateParams;
import com.openai.models.beta.assistants.CodeInterpreterTool;
import com.openai.models.beta.threads.runs.Run;
import com.openai.models.beta.threads.runs.RunStatus;
import io.spindle.api.Json;
import io.spindle.sandbox.RealSandbox;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.FakeUpstream.ToolCall;
import io.spindle.testing.PrometheusText;
import io.spindle.testing.PrometheusText.Scrape;
import io.spindle.testing.RunEndToEnd;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /metrics} after real runs through the official SDK: each scrape parsed by {@link PrometheusText} (strict),
 * each figure checked as the change a test's requests made to it (the server is shared by the class's tests).
 */
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
class MetricsSdkTest extends RunEndToEnd {

    private Scrape scrape() {
        return PrometheusText.scrape(server().rootUrl() + "/metrics");
    }

    private static double change(Scrape before, Scrape after, String sample, String... labels) {
        return after.value(sample, labels) - before.value(sample, labels);
    }

    @Test
    void aCompletedRunIsCountedWithItsModelCallItsLatenciesAndItsTokens() {
        Assistant assistant = assistant(sdk(), null);
        String threadId = threadWith(sdk(), "Hello?");
        script(body -> Reply.text("Hello from the model.").withUsage(42, 7).withDelay(Duration.ofMillis(60)));
        Scrape before = scrape();

        Run done = pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.COMPLETED);

        Scrape after = scrape();
        String model = done.model();
        assertThat(change(before, after, "spindle_run_creations_total")).isEqualTo(1);
        assertThat(change(before, after, "spindle_runs_ended_total", "status", "completed", "error_code", "")).isEqualTo(1);
        String[] call = {"route", "default", "model", model, "outcome", "ok"};
        assertThat(change(before, after, "spindle_upstream_calls_seconds_count", call)).isEqualTo(1);
        assertThat(change(before, after, "spindle_upstream_calls_seconds_sum", call)).as("the reply waited 60 ms").isGreaterThan(0.06);
        assertThat(change(before, after, "spindle_upstream_calls_seconds_bucket", append(call, "le", "0.05"))).isZero();
        assertThat(change(before, after, "spindle_upstream_first_token_seconds_count", "model", model)).isEqualTo(1);
        assertThat(change(before, after, "spindle_upstream_tokens_total", "model", model, "direction", "in")).isEqualTo(42);
        assertThat(change(before, after, "spindle_upstream_tokens_total", "model", model, "direction", "out")).isEqualTo(7);
        assertThat(done.usage().orElseThrow().promptTokens()).isEqualTo(42);
        assertThat(change(before, after, "spindle_http_requests_seconds_count",
                "method", "POST", "route", "/v1/threads/{thread_id}/runs", "status", "200")).isEqualTo(1);
        assertThat(change(before, after, "spindle_http_requests_seconds_count",
                "method", "GET", "route", "/v1/threads/{thread_id}/runs/{run_id}", "status", "200")).isPositive();
    }

    @Test
    void aFailedRunIsCountedWithItsErrorCodeAndItsModelCallWithItsOutcome() {
        Assistant assistant = assistant(sdk(), null);
        String threadId = threadWith(sdk(), "Hello?");
        script(body -> Reply.error(429, "Rate limit reached"));
        Scrape before = scrape();

        Run failed = pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.FAILED);

        Scrape after = scrape();
        assertThat(failed.lastError().orElseThrow().code()).isEqualTo(Run.LastError.Code.RATE_LIMIT_EXCEEDED);
        assertThat(change(before, after, "spindle_runs_ended_total", "status", "failed", "error_code", "rate_limit_exceeded"))
                .isEqualTo(1);
        assertThat(change(before, after, "spindle_runs_ended_total", "status", "completed")).isZero();
        assertThat(change(before, after, "spindle_upstream_calls_seconds_count", "model", failed.model(), "outcome", "rate_limit"))
                .as("one call of the run, its retries inside it").isEqualTo(1);
        assertThat(change(before, after, "spindle_upstream_first_token_seconds_count", "model", failed.model())).isZero();
        assertThat(change(before, after, "spindle_upstream_tokens_total", "model", failed.model(), "direction", "in")).isZero();
    }

    @Test
    void aNotFoundIsCountedUnderItsRouteTemplateNeverItsIds() {
        Scrape before = scrape();

        assertThatThrownBy(() -> sdk().beta().threads().retrieve("thread_nosuchthread42")).isInstanceOf(NotFoundException.class);
        api().get("/v1/nosuchresource/abc123");

        Scrape after = scrape();
        assertThat(change(before, after, "spindle_http_requests_seconds_count",
                "method", "GET", "route", "/v1/threads/{thread_id}", "status", "404")).isEqualTo(1);
        assertThat(change(before, after, "spindle_http_requests_seconds_count",
                "method", "GET", "route", "unmatched", "status", "404")).isEqualTo(1);
        assertThat(after.all()).allSatisfy(sample -> assertThat(sample.labels().values())
                .noneMatch(v -> v.contains("nosuchthread42") || v.contains("abc123")));
    }

    @Test
    void aStreamedRunShowsAsExecutingAndStreamingUntilItIsCancelled() {
        Assistant assistant = assistant(sdk(), null);
        String threadId = threadWith(sdk(), "Hello?");
        script(body -> Reply.hang());
        Scrape before = scrape();
        assertThat(before.value("spindle_runs_executing")).isZero();
        assertThat(before.value("spindle_streams_open")).isZero();

        Run run;
        try (StreamResponse<AssistantStreamEvent> stream = sdk().beta().threads().runs().createStreaming(threadId,
                runOf(assistant.id()).build())) {
            Iterator<AssistantStreamEvent> events = stream.stream().iterator();
            run = events.next().asThreadRunCreated().data();
            Scrape during = awaitScrape(s -> s.value("spindle_runs_executing") == 1);
            assertThat(during.value("spindle_streams_open")).isEqualTo(1);

            cancel(sdk(), run);
            events.forEachRemaining(event -> { });
        }

        Scrape after = awaitScrape(s -> s.value("spindle_runs_executing") == 0 && s.value("spindle_streams_open") == 0);
        assertThat(change(before, after, "spindle_runs_ended_total", "status", "cancelled", "error_code", "")).isEqualTo(1);
        assertThat(change(before, after, "spindle_upstream_calls_seconds_count", "outcome", "aborted")).isEqualTo(1);
        assertThat(change(before, after, "spindle_http_requests_seconds_count",
                "method", "POST", "route", "/v1/threads/{thread_id}/runs", "status", "200")).isEqualTo(1);
    }

    @Test
    void ingestedFilesAreCountedByOutcomeTheirLastErrorCodeWhenTheyFail() throws InterruptedException {
        String notes = api().uploadFile("assistants", "notes.txt",
                "Filip's favorite food is cake.".getBytes(StandardCharsets.UTF_8));
        String broken = api().uploadFile("assistants", "broken.pdf", "this is not a PDF".getBytes(StandardCharsets.UTF_8));
        Scrape before = scrape();

        String store = api().post("/v1/vector_stores", Map.of("file_ids", List.of(notes, broken))).ok().path("id").asText();
        api().await("/v1/vector_stores/" + store, s -> s.path("file_counts").path("in_progress").asInt() == 0, Duration.ofSeconds(60));

        Scrape after = scrape();
        String code = api().get("/v1/vector_stores/" + store + "/files/" + broken).ok().path("last_error").path("code").asText();
        assertThat(code).isNotEmpty();
        assertThat(change(before, after, "spindle_ingestion_files_seconds_count", "outcome", "completed")).isEqualTo(1);
        assertThat(change(before, after, "spindle_ingestion_files_seconds_count", "outcome", code)).isEqualTo(1);
    }

    @Test
    void aCodeInterpreterCellIsCountedAndItsSessionStaysAlive() {
        RealSandbox.assumeWorks();
        Assistant assistant = sdk().beta().assistants().create(AssistantCreateParams.builder().model("gpt-4o")
                .addTool(CodeInterpreterTool.builder().build()).build());
        String threadId = threadWith(sdk(), "What is 6 times 7?");
        script(body -> Reply.text("It is 42."),
                Reply.toolCalls(new ToolCall("call_up_code", "code_interpreter", Json.object().put("code", "print(6 * 7)").toString())));
        Scrape before = scrape();

        Run done = pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.COMPLETED);

        Scrape after = scrape();
        assertThat(change(before, after, "spindle_sandbox_executions_seconds_count", "outcome", "ok")).isEqualTo(1);
        assertThat(after.value("spindle_sandbox_sessions")).as("the thread's session waits for its next cell").isEqualTo(1);
        assertThat(change(before, after, "spindle_upstream_calls_seconds_count", "model", done.model(), "outcome", "ok"))
                .as("the call that ran the code, and the answer").isEqualTo(2);
    }

    @Test
    void theJvmAndTheDatabasePoolAreMeasured() {
        Scrape scrape = scrape();

        assertThat(scrape.samples("jvm_memory_used_bytes", "area", "heap").stream().mapToDouble(PrometheusText.Sample::value).sum())
                .isPositive();
        assertThat(scrape.value("jvm_threads_live_threads")).isPositive();
        assertThat(scrape.families()).containsKeys("jvm_gc_max_data_size_bytes", "process_cpu_usage", "process_uptime_seconds");
        assertThat(scrape.value("hikaricp_connections_max", "pool", "spindle-sqlite")).isEqualTo(8);
        assertThat(scrape.value("hikaricp_connections_acquire_seconds_count", "pool", "spindle-sqlite")).isPositive();
        assertThat(scrape.families().get("spindle_run_creations_total").type()).isEqualTo("counter");
        assertThat(scrape.families().get("spindle_runs_queued").type()).isEqualTo("gauge");
    }

    private Scrape awaitScrape(Predicate<Scrape> done) {
        Instant deadline = Instant.now().plusSeconds(20);
        while (true) {
            Scrape scrape = scrape();
            if (done.test(scrape)) {
                return scrape;
            }
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError("the figures never reached the expected state: " + scrape.all());
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    private static String[] append(String[] labels, String... more) {
        String[] all = java.util.Arrays.copyOf(labels, labels.length + more.length);
        System.arraycopy(more, 0, all, labels.length, more.length);
        return all;
    }
}
