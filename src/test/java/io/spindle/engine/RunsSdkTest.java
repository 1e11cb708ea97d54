package io.spindle.engine;

import static io.spindle.testing.SdkJson.json;
import static io.spindle.testing.SdkJson.pairs;
import static io.spindle.testing.SdkJson.tree;
import static io.spindle.testing.SdkJson.treeWithout;
import static io.spindle.testing.SdkRuns.assistant;
import static io.spindle.testing.SdkRuns.cancel;
import static io.spindle.testing.SdkRuns.createRun;
import static io.spindle.testing.SdkRuns.messagesOf;
import static io.spindle.testing.SdkRuns.pollFor;
import static io.spindle.testing.SdkRuns.pollUntil;
import static io.spindle.testing.SdkRuns.retrieve;
import static io.spindle.testing.SdkRuns.runOf;
import static io.spindle.testing.SdkRuns.step;
import static io.spindle.testing.SdkRuns.steps;
import static io.spindle.testing.SdkRuns.threadMessages;
import static io.spindle.testing.SdkThreads.text;
import static io.spindle.testing.SdkThreads.texts;
import static io.spindle.testing.SdkThreads.threadWith;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.core.http.HttpResponseFor;
import com.openai.models.beta.assistants.Assistant;
import com.openai.models.beta.threads.ThreadCreateAndRunParams;
import com.openai.models.beta.threads.messages.Message;
import com.openai.models.beta.threads.runs.Run;
import com.openai.models.beta.threads.runs.RunCancelParams;
import com.openai.models.beta.threads.runs.RunListParams;
import com.openai.models.beta.threads.runs.RunRetrieveParams;
import com.openai.models.beta.threads.runs.RunStatus;
import com.openai.models.beta.threads.runs.RunUpdateParams;
import com.openai.models.beta.threads.runs.steps.RunStep;
import com.openai.services.blocking.beta.threads.RunService;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.RunEndToEnd;
import io.spindle.testing.TestServer;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A plain run through the official SDK, on both storages: queued, in_progress, completed, with its
 * timestamps, usage, message and step; listing, retrieving and modifying runs; create thread and run.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(TestServer.Storage.class)
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
class RunsSdkTest extends RunEndToEnd {
    private static final long EXPIRY = 600;

    @Parameter
    TestServer.Storage storage;

    @Override
    protected TestServer.Storage storage() {
        return storage;
    }

    private RunService runs() {
        return sdk().beta().threads().runs();
    }

    @Test
    void queuedThenInProgressThenCompletedWithTimestampsUsageMessageAndStep() {
        Assistant assistant = assistant(sdk(), "You are terse.");
        String threadId = threadWith(sdk(), "Say hello");
        script(Reply.text("Hello from the model.").withUsage(32, 11).withDelay(Duration.ofMillis(500)));

        Run created;
        try (HttpResponseFor<Run> raw = runs().withRawResponse().create(threadId, runOf(assistant.id()).build())) {
            assertThat(raw.headers().values("openai-poll-after-ms")).containsExactly("50");
            created = raw.parse();
        }
        assertThat(created.id()).matches("run_[A-Za-z0-9]{24}");
        assertThat(created.status()).isEqualTo(RunStatus.QUEUED);
        assertThat(created.threadId()).isEqualTo(threadId);
        assertThat(created.assistantId()).isEqualTo(assistant.id());
        assertThat(created.startedAt()).isEmpty();
        assertThat(created.expiresAt()).contains(created.createdAt() + EXPIRY);
        assertThat(created.completedAt()).isEmpty();
        assertThat(created.usage()).isEmpty();
        assertThat(created.requiredAction()).isEmpty();
        assertThat(created.instructions()).isEqualTo("You are terse.");
        assertThat(created.model()).isEqualTo("gpt-4o");

        Run running = pollFor(sdk(), created, RunStatus.IN_PROGRESS);
        assertThat(running.startedAt()).isPresent();
        assertThat(running.expiresAt()).contains(created.createdAt() + EXPIRY);
        assertThat(running.usage()).isEmpty();
        Run done = pollFor(sdk(), created, RunStatus.COMPLETED);

        assertThat(done.startedAt()).isEqualTo(running.startedAt());
        assertThat(done.startedAt()).hasValueSatisfying(t -> assertThat(t).isBetween(created.createdAt(), done.completedAt().orElseThrow()));
        assertThat(done.completedAt()).isPresent();
        assertThat(done.expiresAt()).as("expires_at once completed").isEmpty();
        assertThat(done.failedAt()).isEmpty();
        assertThat(done.cancelledAt()).isEmpty();
        assertThat(done.lastError()).isEmpty();
        assertThat(done.incompleteDetails()).isEmpty();
        assertThat(done.requiredAction()).isEmpty();
        assertThat(tree(done.usage().orElseThrow())).isEqualTo(json("""
                {"prompt_tokens": 32, "completion_tokens": 11, "total_tokens": 43,
                 "prompt_token_details": {"cached_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 0}}"""));

        List<Message> messages = messagesOf(sdk(), done);
        assertThat(messages).hasSize(1);
        Message answer = messages.getFirst();
        assertThat(answer.role()).isEqualTo(Message.Role.ASSISTANT);
        assertThat(answer.runId()).contains(done.id());
        assertThat(answer.assistantId()).contains(assistant.id());
        assertThat(answer.status()).isEqualTo(Message.Status.COMPLETED);
        assertThat(answer.completedAt()).isPresent();
        assertThat(text(answer)).isEqualTo("Hello from the model.");
        assertThat(texts(threadMessages(sdk(), threadId))).containsExactly("Say hello", "Hello from the model.");

        List<RunStep> steps = steps(sdk(), done);
        assertThat(steps).hasSize(1);
        RunStep step = steps.getFirst();
        assertThat(step.id()).matches("step_[A-Za-z0-9]{24}");
        assertThat(step.type()).isEqualTo(RunStep.Type.MESSAGE_CREATION);
        assertThat(step.status()).isEqualTo(RunStep.Status.COMPLETED);
        assertThat(step.runId()).isEqualTo(done.id());
        assertThat(step.assistantId()).isEqualTo(assistant.id());
        assertThat(step.threadId()).isEqualTo(threadId);
        assertThat(step.completedAt()).isPresent();
        assertThat(step.stepDetails().asMessageCreation().messageCreation().messageId()).isEqualTo(answer.id());
        assertThat(tree(step.usage().orElseThrow())).isEqualTo(tree(done.usage().orElseThrow()));
        assertThat(tree(step).path("expires_at").isNull()).as("no deadline once the run ended").isTrue();
        assertThat(step(sdk(), done, step.id())).isEqualTo(step);

        JsonNode request = onlyUpstreamRequest();
        assertThat(request.path("model").asText()).isEqualTo("gpt-4o");
        assertThat(request.path("stream").asBoolean()).isTrue();
        assertThat(request.path("messages")).isEqualTo(json("""
                [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say hello"}]"""));
        assertThat(request.has("tools")).isFalse();
        assertThat(upstreamReceived().getFirst().header("Authorization")).isEqualTo("Bearer " + UPSTREAM_KEY);
    }

    @Test
    void whileTheModelAnswersTheRunIsInProgress() {
        Assistant assistant = assistant(sdk(), null);
        String threadId = threadWith(sdk(), "Tell me something");
        script(Reply.text("Something is coming").thenHang());
        Run created = createRun(sdk(), threadId, assistant.id());

        pollUntil(sdk(), created, r -> !steps(sdk(), r).isEmpty(), Duration.ofSeconds(10));
        // read after the step exists: the run read by the poll may predate it (still queued)
        Run running = retrieve(sdk(), threadId, created.id());

        assertThat(running.status()).isEqualTo(RunStatus.IN_PROGRESS);
        assertThat(running.startedAt()).hasValueSatisfying(t -> assertThat(t).isGreaterThanOrEqualTo(created.createdAt()));
        assertThat(running.expiresAt()).contains(created.createdAt() + EXPIRY);
        assertThat(running.usage()).isEmpty();
        assertThat(running.completedAt()).isEmpty();
        RunStep step = steps(sdk(), running).getFirst();
        assertThat(step.status()).isEqualTo(RunStep.Status.IN_PROGRESS);
        assertThat(step.usage()).isEmpty();
        assertThat(step.completedAt()).isEmpty();
        assertThat(tree(step).path("expires_at").asLong()).as("a step shows its run's deadline").isEqualTo(created.createdAt() + EXPIRY);
        Message message = messagesOf(sdk(), running).getFirst();
        assertThat(message.status()).isEqualTo(Message.Status.IN_PROGRESS);
        assertThat(message.runId()).contains(created.id());

        cancel(sdk(), running);
        Run cancelled = pollFor(sdk(), running, RunStatus.CANCELLED);
        assertThat(tree(steps(sdk(), cancelled).getFirst()).path("expires_at").isNull()).isTrue();
    }

    @Test
    void listRetrieveAndModify() {
        Assistant assistant = assistant(sdk(), null);
        String threadId = threadWith(sdk(), "one");
        Run first = pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.COMPLETED);
        Run second = pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.COMPLETED);
        String otherThread = threadWith(sdk(), "elsewhere");
        pollFor(sdk(), createRun(sdk(), otherThread, assistant.id()), RunStatus.COMPLETED);

        assertThat(runs().list(threadId).data()).extracting(Run::id).containsExactly(second.id(), first.id());
        assertThat(runs().list(threadId, RunListParams.builder().order(RunListParams.Order.ASC).build()).data())
                .extracting(Run::id).containsExactly(first.id(), second.id());
        assertThat(runs().list(threadId, RunListParams.builder().limit(1).build()).data()).extracting(Run::id)
                .containsExactly(second.id());
        assertThat(runs().list(threadId).data().getLast()).isEqualTo(first);
        assertThat(retrieve(sdk(), threadId, first.id())).isEqualTo(first);

        Run modified;
        try (HttpResponseFor<Run> raw = runs().withRawResponse().update(first.id(), RunUpdateParams.builder()
                .threadId(threadId)
                .metadata(RunUpdateParams.Metadata.builder().putAllAdditionalProperties(pairs("user", "u1")).build())
                .build())) {
            assertThat(raw.headers().values("openai-poll-after-ms")).containsExactly("50");
            modified = raw.parse();
        }
        assertThat(tree(modified.metadata().orElseThrow())).isEqualTo(json("{\"user\": \"u1\"}"));
        assertThat(treeWithout(modified, "metadata")).isEqualTo(treeWithout(first, "metadata"));
        assertThat(retrieve(sdk(), threadId, first.id())).isEqualTo(modified);

        try (HttpResponseFor<Run> raw = runs().withRawResponse().retrieve(second.id(),
                RunRetrieveParams.builder().threadId(threadId).build())) {
            assertThat(raw.headers().values("openai-poll-after-ms")).containsExactly("50");
        }
    }

    @Test
    void createThreadAndRunMakesTheThreadWithItsMessages() {
        Assistant assistant = assistant(sdk(), "Be brief.");
        script(Reply.text("Paris."));

        Run created;
        try (HttpResponseFor<Run> raw = sdk().beta().threads().withRawResponse().createAndRun(ThreadCreateAndRunParams.builder()
                .assistantId(assistant.id())
                .thread(ThreadCreateAndRunParams.Thread.builder()
                        .addMessage(ThreadCreateAndRunParams.Thread.Message.builder()
                                .role(ThreadCreateAndRunParams.Thread.Message.Role.USER).content("Capital of France?").build())
                        .addMessage(ThreadCreateAndRunParams.Thread.Message.builder()
                                .role(ThreadCreateAndRunParams.Thread.Message.Role.USER).content("One word.").build())
                        .build())
                .build())) {
            assertThat(raw.headers().values("openai-poll-after-ms")).containsExactly("50");
            created = raw.parse();
        }
        assertThat(created.status()).isEqualTo(RunStatus.QUEUED);
        assertThat(created.threadId()).matches("thread_[A-Za-z0-9]{24}");
        assertThat(sdk().beta().threads().retrieve(created.threadId()).id()).isEqualTo(created.threadId());

        Run done = pollFor(sdk(), created, RunStatus.COMPLETED);

        assertThat(texts(threadMessages(sdk(), done.threadId()))).containsExactly("Capital of France?", "One word.", "Paris.");
        assertThat(onlyUpstreamRequest().path("messages")).isEqualTo(json("""
                [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of France?"},
                 {"role": "user", "content": "One word."}]"""));
    }

    @Test
    void cancelAnswersWithThePollHeader() {
        Assistant assistant = assistant(sdk(), null);
        String threadId = threadWith(sdk(), "wait");
        script(Reply.hang());
        Run created = createRun(sdk(), threadId, assistant.id());
        pollFor(sdk(), created, RunStatus.IN_PROGRESS);

        try (HttpResponseFor<Run> raw = runs().withRawResponse().cancel(created.id(),
                RunCancelParams.builder().threadId(threadId).build())) {
            assertThat(raw.headers().values("openai-poll-after-ms")).containsExactly("50");
            assertThat(raw.parse().status()).isEqualTo(RunStatus.CANCELLING);
        }
        pollFor(sdk(), created, RunStatus.CANCELLED);
    }
}
