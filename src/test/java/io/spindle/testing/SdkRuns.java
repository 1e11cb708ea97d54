package io.spindle.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.core.JsonValue;
import com.openai.core.http.HttpResponseFor;
import com.openai.errors.BadRequestException;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.beta.assistants.Assistant;
import com.openai.models.beta.assistants.AssistantCreateParams;
import com.openai.models.beta.assistants.FunctionTool;
import com.openai.models.beta.threads.messages.Message;
import com.openai.models.beta.threads.messages.MessageListParams;
import com.openai.models.beta.threads.runs.Run;
import com.openai.models.beta.threads.runs.RunCancelParams;
import com.openai.models.beta.threads.runs.RunCreateParams;
import com.openai.models.beta.threads.runs.RunListParams;
import com.openai.models.beta.threads.runs.RunRetrieveParams;
import com.openai.models.beta.threads.runs.RunStatus;
import com.openai.models.beta.threads.runs.RunSubmitToolOutputsParams;
import com.openai.models.beta.threads.runs.steps.FunctionToolCall;
import com.openai.models.beta.threads.runs.steps.RunStep;
import com.openai.models.beta.threads.runs.steps.StepListParams;
import com.openai.models.beta.threads.runs.steps.StepRetrieveParams;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.assertj.core.api.Assertions;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/**
 * Short forms of the SDK's run calls for the engine tests, and the poller the Java SDK lacks: it
 * asks again after the {@code openai-poll-after-ms} the server sent (50 ms when absent).
 */
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
public final class SdkRuns {
    /** Where an SDK poller stops (the Python and Node helpers' list). */
    public static final Set<RunStatus> STOPS = Set.of(RunStatus.REQUIRES_ACTION, RunStatus.CANCELLED, RunStatus.COMPLETED,
            RunStatus.FAILED, RunStatus.EXPIRED, RunStatus.INCOMPLETE);
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    private SdkRuns() {}

    /** An assistant on gpt-4o with these instructions (null: none) and function tools (name only, object parameters). */
    public static Assistant assistant(OpenAIClient sdk, String instructions, String... functions) {
        AssistantCreateParams.Builder params = AssistantCreateParams.builder().model("gpt-4o");
        if (instructions != null) {
            params.instructions(instructions);
        }
        for (String name : functions) {
            params.addTool(functionTool(name));
        }
        return sdk.beta().assistants().create(params.build());
    }

    public static FunctionTool functionTool(String name) {
        return FunctionTool.builder().function(function(name)).build();
    }

    public static FunctionDefinition function(String name) {
        return FunctionDefinition.builder()
                .name(name)
                .description("the " + name + " function")
                .parameters(FunctionParameters.builder()
                        .putAdditionalProperty("type", JsonValue.from("object"))
                        .putAdditionalProperty("properties", JsonValue.from(Map.of("city", Map.of("type", "string"))))
                        .build())
                .build();
    }

    public static RunCreateParams.Builder runOf(String assistantId) {
        return RunCreateParams.builder().assistantId(assistantId);
    }

    public static Run createRun(OpenAIClient sdk, String threadId, String assistantId) {
        return sdk.beta().threads().runs().create(threadId, runOf(assistantId).build());
    }

    public static Run createRun(OpenAIClient sdk, String threadId, RunCreateParams.Builder params) {
        return sdk.beta().threads().runs().create(threadId, params.build());
    }

    public static Run retrieve(OpenAIClient sdk, String threadId, String runId) {
        return sdk.beta().threads().runs().retrieve(runId, RunRetrieveParams.builder().threadId(threadId).build());
    }

    /** Polls until the run reaches a status where SDK pollers stop. */
    public static Run poll(OpenAIClient sdk, Run run) {
        return pollUntil(sdk, run, r -> STOPS.contains(r.status()), TIMEOUT);
    }

    /** Polls until the run has this status; fails if it stops elsewhere. */
    public static Run pollFor(OpenAIClient sdk, Run run, RunStatus status) {
        Run last = pollUntil(sdk, run, r -> r.status().equals(status) || STOPS.contains(r.status()), TIMEOUT);
        if (!last.status().equals(status)) {
            throw new AssertionError("expected run " + run.id() + " to become " + status + " but it is " + last.status()
                    + " (last_error " + last.lastError() + ", incomplete_details " + last.incompleteDetails() + ")");
        }
        return last;
    }

    /** Polls (honouring openai-poll-after-ms) until {@code done} holds; fails after {@code timeout}. */
    public static Run pollUntil(OpenAIClient sdk, Run run, Predicate<Run> done, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long after;
            Run current;
            try (HttpResponseFor<Run> raw = sdk.beta().threads().runs().withRawResponse()
                    .retrieve(run.id(), RunRetrieveParams.builder().threadId(run.threadId()).build())) {
                current = raw.parse();
                after = raw.headers().values("openai-poll-after-ms").stream().findFirst().map(Long::parseLong).orElse(50L);
            }
            if (done.test(current)) {
                return current;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("run " + run.id() + " did not get there within " + timeout + "; it is " + current);
            }
            sleep(Math.clamp(after, 5, 1000));
        }
    }

    /** The thread's runs, newest first. */
    public static List<Run> runs(OpenAIClient sdk, String threadId) {
        return sdk.beta().threads().runs().list(threadId, RunListParams.none(), RunEndToEnd.MAY_BE_EMPTY).data();
    }

    public static Run cancel(OpenAIClient sdk, Run run) {
        return sdk.beta().threads().runs().cancel(run.id(), RunCancelParams.builder().threadId(run.threadId()).build());
    }

    /** Submits outputs: call id, output, call id, output, ... */
    public static Run submit(OpenAIClient sdk, Run run, String... idsAndOutputs) {
        RunSubmitToolOutputsParams.Builder params = RunSubmitToolOutputsParams.builder().threadId(run.threadId()).runId(run.id());
        for (int i = 0; i < idsAndOutputs.length; i += 2) {
            params.addToolOutput(RunSubmitToolOutputsParams.ToolOutput.builder()
                    .toolCallId(idsAndOutputs[i]).output(idsAndOutputs[i + 1]).build());
        }
        return sdk.beta().threads().runs().submitToolOutputs(params.build());
    }

    /** The run's steps, oldest first. */
    public static List<RunStep> steps(OpenAIClient sdk, Run run) {
        return sdk.beta().threads().runs().steps().list(run.id(), StepListParams.builder()
                .threadId(run.threadId()).order(StepListParams.Order.ASC).build(), RunEndToEnd.MAY_BE_EMPTY).data();
    }

    public static RunStep step(OpenAIClient sdk, Run run, String stepId) {
        return sdk.beta().threads().runs().steps().retrieve(stepId,
                StepRetrieveParams.builder().threadId(run.threadId()).runId(run.id()).build());
    }

    /** The function calls of a tool_calls step. */
    public static List<FunctionToolCall> functionCalls(RunStep step) {
        return step.stepDetails().asToolCalls().toolCalls().stream().map(c -> c.asFunction()).toList();
    }

    /** The messages a run wrote, oldest first. */
    public static List<Message> messagesOf(OpenAIClient sdk, Run run) {
        return sdk.beta().threads().messages().list(run.threadId(), MessageListParams.builder()
                .runId(run.id()).order(MessageListParams.Order.ASC).build(), RunEndToEnd.MAY_BE_EMPTY).data();
    }

    /** Every message of the thread, oldest first. */
    public static List<Message> threadMessages(OpenAIClient sdk, String threadId) {
        return sdk.beta().threads().messages().list(threadId, MessageListParams.builder()
                .order(MessageListParams.Order.ASC).limit(100).build(), RunEndToEnd.MAY_BE_EMPTY).data();
    }

    /** The ids of the run's pending function calls. */
    public static List<String> pendingCallIds(Run run) {
        return run.requiredAction().orElseThrow().submitToolOutputs().toolCalls().stream().map(c -> c.id()).toList();
    }

    /**
     * Asserts that a call answers 400 {@code invalid_request_error} with exactly this message (and
     * {@code param} and {@code code} null, as the live API sent for run state errors).
     */
    public static void assertBadRequest(ThrowingCallable call, String message) {
        Throwable thrown = Assertions.catchThrowable(call);
        Assertions.assertThat(thrown).isInstanceOf(BadRequestException.class);
        BadRequestException e = (BadRequestException) thrown;
        JsonNode body = SdkJson.tree(e.body());
        JsonNode error = body.has("error") ? body.get("error") : body;
        Assertions.assertThat(error.path("message").asText()).isEqualTo(message);
        Assertions.assertThat(error.path("type").asText()).isEqualTo("invalid_request_error");
        Assertions.assertThat(error.path("param").isNull()).as("param is null").isTrue();
        Assertions.assertThat(error.path("code").isNull()).as("code is null").isTrue();
    }

    public static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
