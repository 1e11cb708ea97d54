package io.spindle.engine;

import static io.spindle.testing.SdkRuns.assistant;
import static io.spindle.testing.SdkRuns.createRun;
import static io.spindle.testing.SdkRuns.messagesOf;
import static io.spindle.testing.SdkRuns.pollFor;
import static io.spindle.testing.SdkRuns.retrieve;
import static io.spindle.testing.SdkThreads.text;
import static io.spindle.testing.SdkThreads.threadWith;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.openai.models.beta.assistants.Assistant;
import com.openai.models.beta.threads.messages.Message;
import com.openai.models.beta.threads.runs.Run;
import com.openai.models.beta.threads.runs.RunStatus;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.RunEndToEnd;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What the upstream sends cannot exhaust the server: huge answers without whitespace or usage, endless lines, and
 * answers that finish but never end. The upstream may stay silent for 60 s here, so nothing below ends by time-out.
 */
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
class UpstreamLimitsSdkTest extends RunEndToEnd {
    private static final int TEN_MIB = 10 * 1024 * 1024;

    @Override
    protected Map<String, String> env() {
        return Map.of("SPINDLE_UPSTREAM_TIMEOUT_SECONDS", "60", "SPINDLE_MAX_ANSWER_CHARS", String.valueOf(TEN_MIB));
    }

    @Test
    void aTenMebibyteAnswerWithoutWhitespaceOrUsageCompletesWhileOtherRequestsGoOn() throws InterruptedException {
        script(Reply.text("a".repeat(TEN_MIB)).withoutUsage().withPieceSize(64 * 1024).withChunkDelay(Duration.ofMillis(10)),
                Reply.text("A short one.").withoutUsage());
        Assistant assistant = assistant(sdk(), null);
        String threadId = threadWith(sdk(), "Say a lot.");
        Run run = createRun(sdk(), threadId, assistant.id());
        awaitUpstreamRequests(1);

        int asked = 0;
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (retrieve(sdk(), threadId, run.id()).status().equals(RunStatus.IN_PROGRESS) && System.nanoTime() < deadline) {
            assertThat(api().get("/v1/assistants").status()).as("an unrelated request meanwhile").isEqualTo(200);
            asked++;
        }
        Run done = pollFor(sdk(), run, RunStatus.COMPLETED);

        assertThat(asked).isPositive();
        Message answer = messagesOf(sdk(), done).getFirst();
        assertThat(text(answer)).hasSize(TEN_MIB);
        // o200k_base makes one token of every 8 a's; Spindle counted them itself
        assertThat((double) done.usage().orElseThrow().completionTokens()).isCloseTo(TEN_MIB / 8.0, within(TEN_MIB / 8.0 * 0.02));

        Run next = pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.COMPLETED);
        assertThat(text(messagesOf(sdk(), next).getFirst())).isEqualTo("A short one.");
        // over SPINDLE_CONTEXT_TOKENS, the prompt keeps the thread's last message only
        assertThat(upstreamRequests().getLast().path("messages").get(0).path("content").asText())
                .as("the huge answer is in the next prompt").hasSize(TEN_MIB);
        assertThat((double) next.usage().orElseThrow().promptTokens()).as("counted by Spindle")
                .isCloseTo(TEN_MIB / 8.0, within(TEN_MIB / 8.0 * 0.02));
    }

    @Test
    void anAnswerOverTheLimitEndsTheRunIncompleteWithWhatFits() {
        script(Reply.text("b".repeat(TEN_MIB + 5_000)).withPieceSize(64 * 1024));
        Assistant assistant = assistant(sdk(), null);

        Run run = pollFor(sdk(), createRun(sdk(), threadWith(sdk(), "Say too much."), assistant.id()), RunStatus.INCOMPLETE);

        assertThat(run.incompleteDetails().orElseThrow().reason().orElseThrow())
                .isEqualTo(Run.IncompleteDetails.Reason.MAX_COMPLETION_TOKENS);
        Message answer = messagesOf(sdk(), run).getFirst();
        assertThat(answer.status()).isEqualTo(Message.Status.INCOMPLETE);
        assertThat(answer.incompleteDetails().orElseThrow().reason()).isEqualTo(Message.IncompleteDetails.Reason.MAX_TOKENS);
        assertThat(text(answer)).hasSize(TEN_MIB);
    }

    @Test
    void aLineOverTheLimitFailsTheRunWithServerError() {
        script(body -> Reply.endlessLine());
        Assistant assistant = assistant(sdk(), null);

        Run failed = pollFor(sdk(), createRun(sdk(), threadWith(sdk(), "Hello?"), assistant.id()), RunStatus.FAILED);

        Run.LastError error = failed.lastError().orElseThrow();
        assertThat(error.code()).isEqualTo(Run.LastError.Code.SERVER_ERROR);
        assertThat(error.message()).isEqualTo("the model endpoint sent a line longer than 1048576 bytes");
        assertThat(upstreamRequests()).as("not retried").hasSize(1);
    }

    @Test
    void anAnswerThatFinishesButNeverEndsCompletes() {
        script(Reply.text("Complete.").withUsage(7, 2).thenHangAfterFinish());
        Assistant assistant = assistant(sdk(), null);

        // pollFor gives up after 20 s: waiting for the 60 s idle time-out would fail
        Run done = pollFor(sdk(), createRun(sdk(), threadWith(sdk(), "Hello?"), assistant.id()), RunStatus.COMPLETED);

        assertThat(text(messagesOf(sdk(), done).getFirst())).isEqualTo("Complete.");
        assertThat(done.usage().orElseThrow().promptTokens()).isEqualTo(7);
        assertThat(done.usage().orElseThrow().completionTokens()).isEqualTo(2);
    }
}
