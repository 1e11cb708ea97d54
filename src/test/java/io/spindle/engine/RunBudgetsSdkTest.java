package io.spindle.engine;

import static io.spindle.testing.SdkRuns.assistant;
import static io.spindle.testing.SdkRuns.createRun;
import static io.spindle.testing.SdkRuns.messagesOf;
import static io.spindle.testing.SdkRuns.pendingCallIds;
import static io.spindle.testing.SdkRuns.pollFor;
import static io.spindle.testing.SdkRuns.runOf;
import static io.spindle.testing.SdkRuns.steps;
import static io.spindle.testing.SdkRuns.submit;
import static io.spindle.testing.SdkThreads.text;
import static io.spindle.testing.SdkThreads.threadWith;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.models.beta.assistants.Assistant;
import com.openai.models.beta.threads.messages.Message;
import com.openai.models.beta.threads.runs.Run;
import com.openai.models.beta.threads.runs.RunCreateParams;
import com.openai.models.beta.threads.runs.RunStatus;
import com.openai.models.beta.threads.runs.steps.RunStep;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.FakeUpstream.ToolCall;
import io.spindle.testing.RunEndToEnd;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;

/**
 * Token budgets for the whole run (max_completion_tokens, max_prompt_tokens), truncation of the
 * thread, and usage counted by Spindle when the upstream reports none.
 */
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
class RunBudgetsSdkTest extends RunEndToEnd {

    /** About 100 tokens (" apple" is one token), with a label first. */
    private static String longText(String label) {
        return label + " apple".repeat(100);
    }

    private static List<String> sentContents(JsonNode request) {
        return StreamSupport.stream(request.path("messages").spliterator(), false).map(m -> m.path("content").asText()).toList();
    }

    @Test
    void maxCompletionTokensIsForwardedAsTheRemainingBudget() {
        Assistant assistant = assistant(sdk(), null, "get_weather");
        String threadId = threadWith(sdk(), "Weather?");
        script(Reply.toolCalls(new ToolCall("u1", "get_weather", "{}")).withUsage(10, 40), Reply.text("Sunny.").withUsage(30, 2));
        Run created = createRun(sdk(), threadId, runOf(assistant.id()).maxCompletionTokens(256));
        assertThat(created.maxCompletionTokens()).contains(256L);

        Run waiting = pollFor(sdk(), created, RunStatus.REQUIRES_ACTION);
        submit(sdk(), waiting, pendingCallIds(waiting).getFirst(), "sunny");
        Run done = pollFor(sdk(), created, RunStatus.COMPLETED);

        assertThat(upstreamRequests()).extracting(r -> r.path("max_completion_tokens").asLong()).containsExactly(256L, 216L);
        assertThat(upstreamRequests()).allSatisfy(r -> assertThat(r.has("max_tokens")).isFalse());
        assertThat(done.usage().orElseThrow().completionTokens()).isEqualTo(42);
    }

    @Test
    void withoutABudgetNoLimitIsSent() {
        Assistant assistant = assistant(sdk(), null);
        pollFor(sdk(), createRun(sdk(), threadWith(sdk(), "hi"), assistant.id()), RunStatus.COMPLETED);

        assertThat(onlyUpstreamRequest().has("max_completion_tokens")).isFalse();
        assertThat(onlyUpstreamRequest().has("max_tokens")).isFalse();
    }

    @Test
    void aLengthCutOffEndsTheRunIncomplete() {
        Assistant assistant = assistant(sdk(), null);
        script(Reply.lengthCutoff("This answer was cut at the").withUsage(15, 256));

        Run run = pollFor(sdk(), createRun(sdk(), threadWith(sdk(), "Write a lot"), runOf(assistant.id()).maxCompletionTokens(256)),
                RunStatus.INCOMPLETE);

        assertThat(run.incompleteDetails().orElseThrow().reason()).contains(Run.IncompleteDetails.Reason.MAX_COMPLETION_TOKENS);
        assertThat(run.expiresAt()).isEmpty();
        assertThat(run.lastError()).isEmpty();
        assertThat(run.usage().orElseThrow().completionTokens()).isEqualTo(256);
        Message message = messagesOf(sdk(), run).getFirst();
        assertThat(message.status()).isEqualTo(Message.Status.INCOMPLETE);
        assertThat(message.incompleteDetails().orElseThrow().reason()).isEqualTo(Message.IncompleteDetails.Reason.MAX_TOKENS);
        assertThat(message.incompleteAt()).isPresent();
        assertThat(text(message)).isEqualTo("This answer was cut at the");
        RunStep step = steps(sdk(), run).getFirst();
        assertThat(step.status()).isEqualTo(RunStep.Status.COMPLETED);
        assertThat(step.usage().orElseThrow().completionTokens()).isEqualTo(256);
    }

    @Test
    void aSpentCompletionBudgetEndsTheRunBeforeTheNextCall() {
        Assistant assistant = assistant(sdk(), null, "get_weather");
        script(Reply.toolCalls(new ToolCall("u1", "get_weather", "{}")).withUsage(10, 256));
        Run waiting = pollFor(sdk(), createRun(sdk(), threadWith(sdk(), "Weather?"), runOf(assistant.id()).maxCompletionTokens(256)),
                RunStatus.REQUIRES_ACTION);

        submit(sdk(), waiting, pendingCallIds(waiting).getFirst(), "sunny");
        Run run = pollFor(sdk(), waiting, RunStatus.INCOMPLETE);

        assertThat(run.incompleteDetails().orElseThrow().reason()).contains(Run.IncompleteDetails.Reason.MAX_COMPLETION_TOKENS);
        assertThat(upstreamRequests()).hasSize(1);
    }

    @Test
    void maxPromptTokensDropsTheOldestMessages() {
        Assistant assistant = assistant(sdk(), null);
        String[] texts = IntStream.rangeClosed(1, 6).mapToObj(i -> longText("m" + i)).toArray(String[]::new);
        String threadId = threadWith(sdk(), texts);

        Run run = pollFor(sdk(), createRun(sdk(), threadId, runOf(assistant.id()).maxPromptTokens(256)), RunStatus.COMPLETED);

        assertThat(sentContents(onlyUpstreamRequest())).containsExactly(texts[4], texts[5]);
        assertThat(run.maxPromptTokens()).contains(256L);
    }

    @Test
    void withoutAPromptBudgetTheWholeThreadIsSent() {
        Assistant assistant = assistant(sdk(), null);
        String[] texts = IntStream.rangeClosed(1, 6).mapToObj(i -> longText("m" + i)).toArray(String[]::new);

        pollFor(sdk(), createRun(sdk(), threadWith(sdk(), texts), assistant.id()), RunStatus.COMPLETED);

        assertThat(sentContents(onlyUpstreamRequest())).containsExactly(texts);
    }

    @Test
    void aLastMessageTooLongForThePromptBudgetEndsTheRunIncomplete() {
        Assistant assistant = assistant(sdk(), null);
        String threadId = threadWith(sdk(), "short", longText("a") + longText("b") + longText("c"));

        Run run = pollFor(sdk(), createRun(sdk(), threadId, runOf(assistant.id()).maxPromptTokens(256)), RunStatus.INCOMPLETE);

        assertThat(run.incompleteDetails().orElseThrow().reason()).contains(Run.IncompleteDetails.Reason.MAX_PROMPT_TOKENS);
        assertThat(run.expiresAt()).isEmpty();
        assertThat(upstreamRequests()).as("no model call").isEmpty();
        assertThat(steps(sdk(), run)).isEmpty();
        assertThat(messagesOf(sdk(), run)).isEmpty();
    }

    @Test
    void thePromptBudgetCoversTheWholeRun() {
        Assistant assistant = assistant(sdk(), null, "get_weather");
        script(Reply.toolCalls(new ToolCall("u1", "get_weather", "{}")).withUsage(995, 5));
        Run waiting = pollFor(sdk(), createRun(sdk(), threadWith(sdk(), "Weather?"), runOf(assistant.id()).maxPromptTokens(1000)),
                RunStatus.REQUIRES_ACTION);

        submit(sdk(), waiting, pendingCallIds(waiting).getFirst(), "sunny");
        Run run = pollFor(sdk(), waiting, RunStatus.INCOMPLETE);

        assertThat(run.incompleteDetails().orElseThrow().reason()).contains(Run.IncompleteDetails.Reason.MAX_PROMPT_TOKENS);
        assertThat(upstreamRequests()).hasSize(1);
        assertThat(run.usage().orElseThrow().promptTokens()).isEqualTo(995);
    }

    @Test
    void truncationLastMessagesSendsOnlyTheNewest() {
        Assistant assistant = assistant(sdk(), "Answer the last question.");
        String threadId = threadWith(sdk(), "q1", "q2", "q3", "q4");

        Run run = pollFor(sdk(), createRun(sdk(), threadId, runOf(assistant.id()).truncationStrategy(
                RunCreateParams.TruncationStrategy.builder()
                        .type(RunCreateParams.TruncationStrategy.Type.LAST_MESSAGES).lastMessages(2L).build())),
                RunStatus.COMPLETED);

        assertThat(sentContents(onlyUpstreamRequest())).containsExactly("Answer the last question.", "q3", "q4");
        assertThat(run.truncationStrategy().orElseThrow().type()).isEqualTo(Run.TruncationStrategy.Type.LAST_MESSAGES);
        assertThat(run.truncationStrategy().orElseThrow().lastMessages()).contains(2L);
    }

    @Test
    void usageIsCountedWhenTheUpstreamReportsNone() {
        Assistant assistant = assistant(sdk(), "Be kind.");
        script(Reply.text("A reasonably long answer of several tokens.").withoutUsage());

        Run run = pollFor(sdk(), createRun(sdk(), threadWith(sdk(), "Tell me something nice"), assistant.id()), RunStatus.COMPLETED);

        Run.Usage usage = run.usage().orElseThrow();
        assertThat(usage.promptTokens()).isGreaterThan(5);
        assertThat(usage.completionTokens()).isBetween(5L, 20L);
        assertThat(usage.totalTokens()).isEqualTo(usage.promptTokens() + usage.completionTokens());
        RunStep step = steps(sdk(), run).getFirst();
        assertThat(step.usage().orElseThrow().totalTokens()).isEqualTo(usage.totalTokens());
    }
}
