package io.spindle.engine;

import static io.spindle.testing.SdkRuns.assertBadRequest;
import static io.spindle.testing.SdkRuns.assistant;
import static io.spindle.testing.SdkRuns.cancel;
import static io.spindle.testing.SdkRuns.createRun;
import static io.spindle.testing.SdkRuns.messagesOf;
import static io.spindle.testing.SdkRuns.pendingCallIds;
import static io.spindle.testing.SdkRuns.pollFor;
import static io.spindle.testing.SdkRuns.pollUntil;
import static io.spindle.testing.SdkRuns.retrieve;
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
import org.junit.jupiter.api.Test;

/** Cancelling runs: while the model streams, before it answers, while waiting for outputs, and after the end. */
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
class RunCancelSdkTest extends RunEndToEnd {
    private static final String FULL = "This answer streams slowly and will be cut off long before it ends.";

    @Test
    void cancelWhileStreamingAbortsTheModelCall() throws InterruptedException {
        Assistant assistant = assistant(sdk(), null);
        String threadId = threadWith(sdk(), "Talk slowly");
        script(Reply.text(FULL).withChunkDelay(Duration.ofMillis(100)));
        int abortedBefore = fake().abortedStreams();
        Run created = createRun(sdk(), threadId, assistant.id());
        Run streaming = pollUntil(sdk(), created, r -> !steps(sdk(), r).isEmpty(), Duration.ofSeconds(10));
        assertThat(streaming.status()).isEqualTo(RunStatus.IN_PROGRESS);

        long cancelledAt = System.nanoTime();
        Run cancelling = cancel(sdk(), streaming);

        assertThat(cancelling.status()).isEqualTo(RunStatus.CANCELLING);
        assertThat(cancelling.cancelledAt()).isEmpty();
        assertThat(fake().awaitAbortedStreams(abortedBefore + 1, Duration.ofSeconds(1))).as("stream aborted within 1 s").isTrue();
        Run cancelled = pollFor(sdk(), created, RunStatus.CANCELLED);
        assertThat(Duration.ofNanos(System.nanoTime() - cancelledAt)).isLessThan(Duration.ofSeconds(2));

        assertThat(cancelled.cancelledAt()).isPresent();
        assertThat(cancelled.expiresAt()).isEmpty();
        assertThat(cancelled.completedAt()).isEmpty();
        assertThat(cancelled.failedAt()).isEmpty();
        assertThat(cancelled.lastError()).isEmpty();
        List<RunStep> steps = steps(sdk(), cancelled);
        assertThat(steps).hasSize(1);
        assertThat(steps.getFirst().type()).isEqualTo(RunStep.Type.MESSAGE_CREATION);
        assertThat(steps.getFirst().status()).isEqualTo(RunStep.Status.CANCELLED);
        assertThat(steps.getFirst().cancelledAt()).isPresent();
        List<Message> messages = messagesOf(sdk(), cancelled);
        assertThat(messages).hasSize(1);
        Message partial = messages.getFirst();
        assertThat(partial.status()).isEqualTo(Message.Status.INCOMPLETE);
        assertThat(partial.incompleteDetails().orElseThrow().reason()).isEqualTo(Message.IncompleteDetails.Reason.RUN_CANCELLED);
        assertThat(partial.incompleteAt()).isPresent();
        assertThat(partial.completedAt()).isEmpty();
        assertThat(text(partial)).as("the text streamed before the cancel").isNotEmpty().isNotEqualTo(FULL);
        assertThat(FULL).startsWith(text(partial));
        assertThat(upstreamRequests()).as("no retry after a cancel").hasSize(1);

        assertBadRequest(() -> cancel(sdk(), cancelled), "Cannot cancel run with status 'cancelled'.");
    }

    @Test
    void cancelBeforeTheModelAnswers() throws InterruptedException {
        Assistant assistant = assistant(sdk(), null);
        String threadId = threadWith(sdk(), "Think long");
        script(Reply.hang());
        int abortedBefore = fake().abortedStreams();
        Run running = pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.IN_PROGRESS);
        awaitUpstreamRequests(1);

        assertThat(cancel(sdk(), running).status()).isEqualTo(RunStatus.CANCELLING);

        assertThat(fake().awaitAbortedStreams(abortedBefore + 1, Duration.ofSeconds(1))).as("call aborted within 1 s").isTrue();
        Run cancelled = pollFor(sdk(), running, RunStatus.CANCELLED);
        assertThat(cancelled.cancelledAt()).isPresent();
        assertThat(steps(sdk(), cancelled)).isEmpty();
        assertThat(messagesOf(sdk(), cancelled)).isEmpty();
        assertThat(cancelled.usage().orElseThrow().totalTokens()).isZero();
    }

    @Test
    void cancelWhileWaitingForToolOutputs() {
        Assistant assistant = assistant(sdk(), null, "get_weather");
        String threadId = threadWith(sdk(), "Weather?");
        script(Reply.toolCalls(new ToolCall("u1", "get_weather", "{}")).withUsage(12, 3));
        Run waiting = pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.REQUIRES_ACTION);
        String callId = pendingCallIds(waiting).getFirst();

        Run cancelling = cancel(sdk(), waiting);

        assertThat(cancelling.status()).isEqualTo(RunStatus.CANCELLING);
        assertThat(cancelling.requiredAction()).isEmpty();
        Run cancelled = pollFor(sdk(), waiting, RunStatus.CANCELLED);
        assertThat(cancelled.cancelledAt()).isPresent();
        assertThat(cancelled.requiredAction()).isEmpty();
        assertThat(cancelled.expiresAt()).isEmpty();
        assertThat(cancelled.usage().orElseThrow().totalTokens()).isEqualTo(15);
        RunStep step = steps(sdk(), cancelled).getFirst();
        assertThat(step.status()).isEqualTo(RunStep.Status.CANCELLED);
        assertThat(step.cancelledAt()).isPresent();
        assertThat(upstreamRequests()).hasSize(1);

        assertBadRequest(() -> submit(sdk(), cancelled, callId, "late"), "Runs in status \"cancelled\" do not accept tool outputs.");
    }

    @Test
    void cancellingACompletedRunIsRefused() {
        Assistant assistant = assistant(sdk(), null);
        Run done = pollFor(sdk(), createRun(sdk(), threadWith(sdk(), "hi"), assistant.id()), RunStatus.COMPLETED);

        assertBadRequest(() -> cancel(sdk(), done), "Cannot cancel run with status 'completed'.");
        assertThat(retrieve(sdk(), done.threadId(), done.id())).isEqualTo(done);
    }

    @Test
    void theThreadIsFreeAgainAfterACancel() {
        Assistant assistant = assistant(sdk(), null);
        String threadId = threadWith(sdk(), "first");
        script(Reply.hang());
        Run running = pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.IN_PROGRESS);
        cancel(sdk(), running);
        pollFor(sdk(), running, RunStatus.CANCELLED);

        script(Reply.text("second answer"));
        Run next = pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.COMPLETED);
        assertThat(text(messagesOf(sdk(), next).getFirst())).isEqualTo("second answer");
    }
}
