package io.spindle.engine;

import static io.spindle.testing.SdkRuns.assertBadRequest;
import static io.spindle.testing.SdkRuns.assistant;
import static io.spindle.testing.SdkRuns.createRun;
import static io.spindle.testing.SdkRuns.messagesOf;
import static io.spindle.testing.SdkRuns.pendingCallIds;
import static io.spindle.testing.SdkRuns.poll;
import static io.spindle.testing.SdkRuns.pollFor;
import static io.spindle.testing.SdkRuns.pollUntil;
import static io.spindle.testing.SdkRuns.steps;
import static io.spindle.testing.SdkRuns.submit;
import static io.spindle.testing.SdkThreads.text;
import static io.spindle.testing.SdkThreads.threadWith;
import static org.assertj.core.api.Assertions.assertThat;

import com.openai.models.beta.assistants.Assistant;
import com.openai.models.beta.threads.messages.Message;
import com.openai.models.beta.threads.runs.Run;
import com.openai.models.beta.threads.runs.RunStatus;
import com.openai.models.beta.threads.runs.steps.RunStep;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.FakeUpstream.ToolCall;
import io.spindle.testing.RunEndToEnd;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Runs past expires_at (here 2 s after creation): waiting for outputs, and a model that answers too slowly. */
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
class RunExpirySdkTest extends RunEndToEnd {
    private static final long EXPIRY = 2;

    @Override
    protected Map<String, String> env() {
        return Map.of("SPINDLE_RUN_EXPIRY_SECONDS", Long.toString(EXPIRY));
    }

    @Test
    void aRunLeftWaitingForOutputsExpires() {
        Assistant assistant = assistant(sdk(), null, "get_weather");
        String threadId = threadWith(sdk(), "Weather?");
        script(Reply.toolCalls(new ToolCall("u1", "get_weather", "{}")));
        Run waiting = pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.REQUIRES_ACTION);
        assertThat(waiting.expiresAt()).contains(waiting.createdAt() + EXPIRY);
        String callId = pendingCallIds(waiting).getFirst();

        Run expired = pollUntil(sdk(), waiting, r -> r.status().equals(RunStatus.EXPIRED), Duration.ofSeconds(8));

        assertThat(expired.expiresAt()).isEmpty();
        assertThat(expired.requiredAction()).isEmpty();
        assertThat(expired.completedAt()).isEmpty();
        assertThat(expired.failedAt()).isEmpty();
        assertThat(expired.cancelledAt()).isEmpty();
        List<RunStep> steps = steps(sdk(), expired);
        assertThat(steps).hasSize(1);
        assertThat(steps.getFirst().status()).isEqualTo(RunStep.Status.EXPIRED);
        assertThat(steps.getFirst().expiredAt()).isPresent();
        assertBadRequest(() -> submit(sdk(), expired, callId, "too late"), "Runs in status \"expired\" do not accept tool outputs.");
        assertThat(upstreamRequests()).hasSize(1);

        script(Reply.text("fresh start"));
        Run next = pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.COMPLETED);
        assertThat(text(messagesOf(sdk(), next).getFirst())).isEqualTo("fresh start");
    }

    @Test
    void aModelAnsweringPastTheDeadlineExpiresTheRun() throws InterruptedException {
        Assistant assistant = assistant(sdk(), null);
        String threadId = threadWith(sdk(), "Take your time");
        script(Reply.text("I am still writing").thenHang());
        int abortedBefore = fake().abortedStreams();
        Run created = createRun(sdk(), threadId, assistant.id());

        Run expired = poll(sdk(), created);

        assertThat(expired.status()).isEqualTo(RunStatus.EXPIRED);
        assertThat(expired.expiresAt()).isEmpty();
        assertThat(fake().awaitAbortedStreams(abortedBefore + 1, Duration.ofSeconds(1))).as("model call aborted").isTrue();
        List<RunStep> steps = steps(sdk(), expired);
        assertThat(steps).extracting(RunStep::status).containsExactly(RunStep.Status.EXPIRED);
        Message message = messagesOf(sdk(), expired).getFirst();
        assertThat(message.status()).isEqualTo(Message.Status.INCOMPLETE);
        assertThat(message.incompleteDetails().orElseThrow().reason()).isEqualTo(Message.IncompleteDetails.Reason.RUN_EXPIRED);
        assertThat(text(message)).isEqualTo("I am still writing");
    }
}
