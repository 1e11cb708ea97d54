package io.spindle.engine;

import static io.spindle.testing.SdkRuns.assistant;
import static io.spindle.testing.SdkRuns.createRun;
import static io.spindle.testing.SdkRuns.messagesOf;
import static io.spindle.testing.SdkRuns.pendingCallIds;
import static io.spindle.testing.SdkRuns.pollFor;
import static io.spindle.testing.SdkRuns.steps;
import static io.spindle.testing.SdkRuns.submit;
import static io.spindle.testing.SdkThreads.text;
import static io.spindle.testing.SdkThreads.texts;
import static io.spindle.testing.SdkThreads.threadWith;
import static org.assertj.core.api.Assertions.assertThat;

import com.openai.models.beta.assistants.Assistant;
import com.openai.models.beta.threads.messages.Message;
import com.openai.models.beta.threads.runs.Run;
import com.openai.models.beta.threads.runs.RunStatus;
import com.openai.models.beta.threads.runs.steps.RunStep;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.FakeUpstream.ToolCall;
import io.spindle.testing.LogCapture;
import io.spindle.testing.RunEndToEnd;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;

/**
 * Upstream failures (retries 2, backoff 10 ms, 1 s silence allowed): what is retried, how a run
 * fails (last_error code, failed_at, expires_at), what happens to a half-written message, the
 * function-round limit (2 here), and that the thread stays usable.
 */
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
class RunFailuresSdkTest extends RunEndToEnd {

    @Override
    protected Map<String, String> env() {
        return Map.of("SPINDLE_MAX_TOOL_ROUNDS", "2", "SPINDLE_UPSTREAM_TIMEOUT_SECONDS", "1");
    }

    private Assistant assistant;
    private String threadId;

    private Run runUntilFailed() {
        assistant = assistant(sdk(), null);
        threadId = threadWith(sdk(), "Hello?");
        Run failed = pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.FAILED);
        assertThat(failed.failedAt()).isPresent();
        assertThat(failed.expiresAt()).isEmpty();
        assertThat(failed.completedAt()).isEmpty();
        assertThat(failed.startedAt()).isPresent();
        assertThat(failed.lastError().orElseThrow().message()).isNotBlank();
        return failed;
    }

    @Test
    void rateLimitedOnEveryAttemptFailsWithRateLimitExceeded() {
        script(body -> Reply.error(429, "Rate limit reached for gpt-4o"));

        Run failed = runUntilFailed();

        assertThat(failed.lastError().orElseThrow().code()).isEqualTo(Run.LastError.Code.RATE_LIMIT_EXCEEDED);
        assertThat(upstreamRequests()).as("first attempt and 2 retries").hasSize(3);
        assertThat(steps(sdk(), failed)).isEmpty();
        assertThat(messagesOf(sdk(), failed)).isEmpty();
        assertThat(failed.usage().orElseThrow().totalTokens()).isZero();
        theThreadStaysUsable();
    }

    @Test
    void serverErrorsOnEveryAttemptFailWithServerError() {
        script(body -> Reply.error(500, "The server had an error"));

        Run failed = runUntilFailed();

        assertThat(failed.lastError().orElseThrow().code()).isEqualTo(Run.LastError.Code.SERVER_ERROR);
        assertThat(upstreamRequests()).hasSize(3);
        theThreadStaysUsable();
    }

    @Test
    void failedAttemptsAreRetriedUntilOneSucceeds() {
        script(Reply.error(500, "boom"), Reply.error(500, "boom again"), Reply.text("third time lucky"));
        Assistant a = assistant(sdk(), null);
        String thread = threadWith(sdk(), "Hello?");

        Run done = pollFor(sdk(), createRun(sdk(), thread, a.id()), RunStatus.COMPLETED);

        assertThat(upstreamRequests()).hasSize(3);
        assertThat(upstreamRequests()).allSatisfy(r -> assertThat(r).isEqualTo(upstreamRequests().getFirst()));
        assertThat(texts(messagesOf(sdk(), done))).containsExactly("third time lucky");
        assertThat(steps(sdk(), done)).hasSize(1);
        assertThat(done.lastError()).isEmpty();
    }

    @Test
    void rateLimitThenSuccessCompletes() {
        script(Reply.error(429, "slow down"), Reply.text("fine"));
        Assistant a = assistant(sdk(), null);

        Run done = pollFor(sdk(), createRun(sdk(), threadWith(sdk(), "Hello?"), a.id()), RunStatus.COMPLETED);

        assertThat(upstreamRequests()).hasSize(2);
        assertThat(texts(messagesOf(sdk(), done))).containsExactly("fine");
    }

    @Test
    void malformedAnswersFailWithServerError() {
        script(body -> Reply.malformed());

        Run failed = runUntilFailed();

        assertThat(failed.lastError().orElseThrow().code()).isEqualTo(Run.LastError.Code.SERVER_ERROR);
        assertThat(upstreamRequests()).hasSize(3);
        theThreadStaysUsable();
    }

    @Test
    void aConnectionResetAfterSomeTextFailsWithoutRetrying() {
        script(Reply.reset().withChunkDelay(Duration.ofMillis(50)));

        Run failed = runUntilFailed();

        assertThat(failed.lastError().orElseThrow().code()).isEqualTo(Run.LastError.Code.SERVER_ERROR);
        assertThat(upstreamRequests()).as("text was already recorded: no retry").hasSize(1);
        List<RunStep> steps = steps(sdk(), failed);
        assertThat(steps).hasSize(1);
        RunStep step = steps.getFirst();
        assertThat(step.status()).isEqualTo(RunStep.Status.FAILED);
        assertThat(step.failedAt()).isPresent();
        assertThat(step.lastError().orElseThrow().code()).isEqualTo(RunStep.LastError.Code.SERVER_ERROR);
        Message partial = messagesOf(sdk(), failed).getFirst();
        assertThat(partial.status()).isEqualTo(Message.Status.INCOMPLETE);
        assertThat(partial.incompleteDetails().orElseThrow().reason()).isEqualTo(Message.IncompleteDetails.Reason.RUN_FAILED);
        assertThat(text(partial)).isEqualTo("Hel");
        theThreadStaysUsable();
    }

    @Test
    void aResetBeforeAnyTextIsRetried() {
        script(Reply.text("").thenReset(), Reply.text("after the reset"));
        Assistant a = assistant(sdk(), null);

        Run done = pollFor(sdk(), createRun(sdk(), threadWith(sdk(), "Hello?"), a.id()), RunStatus.COMPLETED);

        assertThat(upstreamRequests()).hasSize(2);
        assertThat(texts(messagesOf(sdk(), done))).containsExactly("after the reset");
    }

    @Test
    void aRejectedPromptFailsWithInvalidPromptWithoutRetrying() {
        script(body -> Reply.error(400, "Invalid 'messages[1].content': string too long."));

        Run failed = runUntilFailed();

        assertThat(failed.lastError().orElseThrow().code()).isEqualTo(Run.LastError.Code.INVALID_PROMPT);
        assertThat(upstreamRequests()).hasSize(1);
        theThreadStaysUsable();
    }

    @Test
    void aSilentUpstreamTimesOutAndFailsWithServerError() throws InterruptedException {
        script(body -> Reply.hang());
        int abortedBefore = fake().abortedStreams();

        Run failed = runUntilFailed();

        assertThat(failed.lastError().orElseThrow().code()).isEqualTo(Run.LastError.Code.SERVER_ERROR);
        assertThat(upstreamRequests()).as("each attempt timed out").hasSize(3);
        assertThat(fake().awaitAbortedStreams(abortedBefore + 3, Duration.ofSeconds(2))).isTrue();
        theThreadStaysUsable();
    }

    @Test
    void anUpstreamThatEchoesTheKeyShowsItNeitherToClientsNorInTheLog() {
        script(body -> Reply.errorEchoingHeaders(401, "Incorrect API key provided: " + UPSTREAM_KEY + "."));
        Run failed;
        String logged;
        try (LogCapture log = LogCapture.of("io.spindle", Level.WARNING)) {
            failed = runUntilFailed();
            logged = log.text();
        }

        assertThat(upstreamReceived().getFirst().header("Authorization")).as("what the upstream echoed")
                .isEqualTo("Bearer " + UPSTREAM_KEY);
        Run.LastError error = failed.lastError().orElseThrow();
        assertThat(error.code()).isEqualTo(Run.LastError.Code.SERVER_ERROR);
        assertThat(error.message()).isEqualTo("the model endpoint rejected the request (HTTP 401)");
        assertThat(api().get("/v1/threads/" + threadId + "/runs/" + failed.id()).body()).doesNotContain(UPSTREAM_KEY);
        assertThat(logged).as("the failure is logged with what the upstream said")
                .contains(failed.id()).contains("HTTP 401").contains("Incorrect API key provided");
        assertThat(logged).doesNotContain(UPSTREAM_KEY).doesNotContain("upstream-test-key").doesNotContainIgnoringCase("Bearer sk");
        assertThat(upstreamRequests()).as("a refused key is not retried").hasSize(1);
        theThreadStaysUsable();
    }

    @Test
    void moreFunctionRoundsThanAllowedFailTheRun() {
        assistant = assistant(sdk(), null, "get_weather");
        threadId = threadWith(sdk(), "Hello?");
        script(body -> Reply.toolCalls(new ToolCall("u", "get_weather", "{}")));
        Run run = createRun(sdk(), threadId, assistant.id());
        for (int round = 0; round < 2; round++) {
            Run waiting = pollFor(sdk(), run, RunStatus.REQUIRES_ACTION);
            submit(sdk(), waiting, pendingCallIds(waiting).getFirst(), "again");
        }

        Run failed = pollFor(sdk(), run, RunStatus.FAILED);

        assertThat(failed.lastError().orElseThrow().code()).isEqualTo(Run.LastError.Code.SERVER_ERROR);
        assertThat(failed.lastError().orElseThrow().message()).contains("SPINDLE_MAX_TOOL_ROUNDS");
        assertThat(upstreamRequests()).hasSize(2);
        assertThat(steps(sdk(), failed)).extracting(RunStep::status).containsOnly(RunStep.Status.COMPLETED).hasSize(2);
        theThreadStaysUsable();
    }

    /** A new run on the failed run's thread works and sees the thread as before. */
    private void theThreadStaysUsable() {
        int before = upstreamRequests().size();
        script(Reply.text("back to normal"));
        Run next = pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.COMPLETED);
        assertThat(text(messagesOf(sdk(), next).getFirst())).isEqualTo("back to normal");
        assertThat(upstreamRequests()).hasSize(before + 1);
        assertThat(upstreamRequests().getLast().path("messages").get(0).path("content").asText()).isEqualTo("Hello?");
    }
}
