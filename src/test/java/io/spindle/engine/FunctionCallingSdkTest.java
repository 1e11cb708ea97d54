package io.spindle.engine;

import static io.spindle.testing.SdkJson.json;
import static io.spindle.testing.SdkJson.tree;
import static io.spindle.testing.SdkRuns.assertBadRequest;
import static io.spindle.testing.SdkRuns.assistant;
import static io.spindle.testing.SdkRuns.createRun;
import static io.spindle.testing.SdkRuns.functionCalls;
import static io.spindle.testing.SdkRuns.messagesOf;
import static io.spindle.testing.SdkRuns.pendingCallIds;
import static io.spindle.testing.SdkRuns.pollFor;
import static io.spindle.testing.SdkRuns.retrieve;
import static io.spindle.testing.SdkRuns.sleep;
import static io.spindle.testing.SdkRuns.step;
import static io.spindle.testing.SdkRuns.steps;
import static io.spindle.testing.SdkRuns.submit;
import static io.spindle.testing.SdkThreads.text;
import static io.spindle.testing.SdkThreads.texts;
import static io.spindle.testing.SdkThreads.threadWith;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.core.http.HttpResponseFor;
import com.openai.models.beta.assistants.Assistant;
import com.openai.models.beta.threads.messages.Message;
import com.openai.models.beta.threads.runs.RequiredActionFunctionToolCall;
import com.openai.models.beta.threads.runs.Run;
import com.openai.models.beta.threads.runs.RunStatus;
import com.openai.models.beta.threads.runs.RunSubmitToolOutputsParams;
import com.openai.models.beta.threads.runs.steps.FunctionToolCall;
import com.openai.models.beta.threads.runs.steps.RunStep;
import com.openai.models.beta.threads.runs.steps.StepListParams;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.FakeUpstream.ToolCall;
import io.spindle.testing.RunEndToEnd;
import io.spindle.testing.TestServer;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Function calling through the official SDK, on both storages: requires_action, the waiting
 * tool_calls step, submit_tool_outputs and what the model gets next; parallel calls and the
 * all-outputs-at-once rule; text before calls.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(TestServer.Storage.class)
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
class FunctionCallingSdkTest extends RunEndToEnd {
    private static final String CALL_ID = "call_[A-Za-z0-9]{24}";

    @Parameter
    TestServer.Storage storage;

    @Override
    protected TestServer.Storage storage() {
        return storage;
    }

    @Test
    void roundTrip() {
        Assistant assistant = assistant(sdk(), "Use tools.", "get_weather");
        String threadId = threadWith(sdk(), "Weather in Paris?");
        script(Reply.toolCalls(new ToolCall("call_upstream1", "get_weather", "{\"city\":\"Paris\"}")).withUsage(20, 5),
                Reply.text("It is sunny in Paris.").withUsage(40, 7));
        Run created = createRun(sdk(), threadId, assistant.id());

        Run waiting = pollFor(sdk(), created, RunStatus.REQUIRES_ACTION);

        List<RequiredActionFunctionToolCall> required = waiting.requiredAction().orElseThrow().submitToolOutputs().toolCalls();
        assertThat(required).hasSize(1);
        RequiredActionFunctionToolCall call = required.getFirst();
        assertThat(call.id()).matches(CALL_ID);
        assertThat(call.function().name()).isEqualTo("get_weather");
        assertThat(call.function().arguments()).isEqualTo("{\"city\":\"Paris\"}");
        assertThat(tree(waiting.requiredAction().orElseThrow())).isEqualTo(json("""
                {"type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": [
                  {"id": "%s", "type": "function", "function": {"name": "get_weather", "arguments": "{\\"city\\":\\"Paris\\"}"}}]}}"""
                .formatted(call.id())));
        assertThat(waiting.startedAt()).isPresent();
        assertThat(waiting.expiresAt()).contains(created.createdAt() + 600);
        assertThat(waiting.usage()).isEmpty();
        assertThat(waiting.completedAt()).isEmpty();

        List<RunStep> pending = steps(sdk(), waiting);
        assertThat(pending).hasSize(1);
        RunStep toolStep = pending.getFirst();
        assertThat(toolStep.type()).isEqualTo(RunStep.Type.TOOL_CALLS);
        assertThat(toolStep.status()).isEqualTo(RunStep.Status.IN_PROGRESS);
        assertThat(toolStep.usage()).isEmpty();
        assertThat(toolStep.completedAt()).isEmpty();
        FunctionToolCall stepCall = functionCalls(toolStep).getFirst();
        assertThat(stepCall.id()).isEqualTo(call.id());
        assertThat(stepCall.function().name()).isEqualTo("get_weather");
        assertThat(stepCall.function().arguments()).isEqualTo("{\"city\":\"Paris\"}");
        assertThat(stepCall.function().output()).isEmpty();
        assertThat(tree(step(sdk(), waiting, toolStep.id()).stepDetails())).isEqualTo(json("""
                {"type": "tool_calls", "tool_calls": [{"id": "%s", "type": "function",
                  "function": {"name": "get_weather", "arguments": "{\\"city\\":\\"Paris\\"}", "output": null}}]}"""
                .formatted(call.id())));
        assertThat(messagesOf(sdk(), waiting)).isEmpty();

        long firstStart = waiting.startedAt().orElseThrow();
        untilTheSecondAfter(firstStart);
        Run queued = submit(sdk(), waiting, call.id(), "22C and sunny");

        assertThat(queued.status()).isEqualTo(RunStatus.QUEUED);
        assertThat(queued.requiredAction()).isEmpty();
        assertThat(queued.startedAt()).contains(firstStart);
        assertThat(queued.expiresAt()).isEqualTo(waiting.expiresAt());

        Run done = pollFor(sdk(), created, RunStatus.COMPLETED);

        assertThat(done.startedAt()).hasValueSatisfying(t -> assertThat(t).isGreaterThan(firstStart));
        assertThat(done.expiresAt()).isEmpty();
        assertThat(tree(done.usage().orElseThrow())).isEqualTo(json("""
                {"prompt_tokens": 60, "completion_tokens": 12, "total_tokens": 72,
                 "prompt_token_details": {"cached_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 0}}"""));
        List<RunStep> all = steps(sdk(), done);
        assertThat(all).extracting(RunStep::type).containsExactly(RunStep.Type.TOOL_CALLS, RunStep.Type.MESSAGE_CREATION);
        assertThat(all).extracting(RunStep::status).containsOnly(RunStep.Status.COMPLETED);
        RunStep calledStep = all.getFirst();
        assertThat(calledStep.id()).isEqualTo(toolStep.id());
        assertThat(functionCalls(calledStep).getFirst().function().output()).contains("22C and sunny");
        assertThat(calledStep.usage().orElseThrow().promptTokens()).isEqualTo(20);
        assertThat(calledStep.usage().orElseThrow().completionTokens()).isEqualTo(5);
        assertThat(all.get(1).usage().orElseThrow().totalTokens()).isEqualTo(47);
        assertThat(texts(messagesOf(sdk(), done))).containsExactly("It is sunny in Paris.");
        assertThat(sdk().beta().threads().runs().steps().list(done.id(), StepListParams.builder().threadId(threadId).build()).data())
                .as("steps list newest first by default").extracting(RunStep::id).containsExactly(all.get(1).id(), all.get(0).id());

        List<JsonNode> requests = upstreamRequests();
        assertThat(requests).hasSize(2);
        assertThat(requests.getFirst().path("tools")).isEqualTo(json("""
                [{"type": "function", "function": {"name": "get_weather", "description": "the get_weather function",
                  "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]"""));
        assertThat(requests.get(1).path("messages")).isEqualTo(json("""
                [{"role": "system", "content": "Use tools."},
                 {"role": "user", "content": "Weather in Paris?"},
                 {"role": "assistant", "content": null, "tool_calls": [
                   {"id": "%1$s", "type": "function", "function": {"name": "get_weather", "arguments": "{\\"city\\":\\"Paris\\"}"}}]},
                 {"role": "tool", "tool_call_id": "%1$s", "content": "22C and sunny"}]""".formatted(call.id())));
    }

    @Test
    void parallelCallsNeedEveryOutputInOneRequest() {
        Assistant assistant = assistant(sdk(), null, "get_weather", "get_time");
        String threadId = threadWith(sdk(), "Weather and time in Oslo?");
        script(Reply.toolCalls(new ToolCall("up_a", "get_weather", "{\"city\":\"Oslo\"}"),
                        new ToolCall("up_b", "get_time", "{\"city\":\"Oslo\"}")),
                Reply.text("Cold, and it is noon."));
        Run waiting = pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.REQUIRES_ACTION);
        List<String> ids = pendingCallIds(waiting);
        assertThat(ids).hasSize(2).allMatch(id -> id.matches(CALL_ID)).doesNotHaveDuplicates();
        assertThat(waiting.requiredAction().orElseThrow().submitToolOutputs().toolCalls())
                .extracting(c -> c.function().name()).containsExactly("get_weather", "get_time");
        String a = ids.get(0);
        String b = ids.get(1);

        assertBadRequest(() -> submit(sdk(), waiting, a, "-3C"),
                "Expected tool outputs for call_ids ['" + a + "', '" + b + "'], got ['" + a + "']");
        assertBadRequest(() -> submit(sdk(), waiting, a, "-3C", "call_unknown", "x"),
                "Expected tool outputs for call_ids ['" + a + "', '" + b + "'], got ['" + a + "', 'call_unknown']");
        assertBadRequest(() -> submit(sdk(), waiting, a, "-3C", b, "12:00", "call_unknown", "x"),
                "Expected tool outputs for call_ids ['" + a + "', '" + b + "'], got ['" + a + "', '" + b + "', 'call_unknown']");
        Run still = retrieve(sdk(), threadId, waiting.id());
        assertThat(still.status()).isEqualTo(RunStatus.REQUIRES_ACTION);
        assertThat(pendingCallIds(still)).isEqualTo(ids);
        assertThat(functionCalls(steps(sdk(), still).getFirst())).allSatisfy(c -> assertThat(c.function().output()).isEmpty());
        assertThat(upstreamRequests()).hasSize(1);

        try (HttpResponseFor<Run> raw = sdk().beta().threads().runs().withRawResponse().submitToolOutputs(
                RunSubmitToolOutputsParams.builder().threadId(threadId).runId(waiting.id())
                        .addToolOutput(RunSubmitToolOutputsParams.ToolOutput.builder().toolCallId(b).output("12:00").build())
                        .addToolOutput(RunSubmitToolOutputsParams.ToolOutput.builder().toolCallId(a).output("-3C").build())
                        .build())) {
            assertThat(raw.headers().values("openai-poll-after-ms")).containsExactly("50");
            assertThat(raw.parse().status()).isEqualTo(RunStatus.QUEUED);
        }
        Run done = pollFor(sdk(), waiting, RunStatus.COMPLETED);

        assertThat(functionCalls(steps(sdk(), done).getFirst())).extracting(c -> c.function().output().orElseThrow())
                .containsExactly("-3C", "12:00");
        JsonNode messages = upstreamRequests().get(1).path("messages");
        assertThat(messages).isEqualTo(json("""
                [{"role": "user", "content": "Weather and time in Oslo?"},
                 {"role": "assistant", "content": null, "tool_calls": [
                   {"id": "%1$s", "type": "function", "function": {"name": "get_weather", "arguments": "{\\"city\\":\\"Oslo\\"}"}},
                   {"id": "%2$s", "type": "function", "function": {"name": "get_time", "arguments": "{\\"city\\":\\"Oslo\\"}"}}]},
                 {"role": "tool", "tool_call_id": "%1$s", "content": "-3C"},
                 {"role": "tool", "tool_call_id": "%2$s", "content": "12:00"}]""".formatted(a, b)));
        assertThat(texts(messagesOf(sdk(), done))).containsExactly("Cold, and it is noon.");
    }

    @Test
    void submittingToACompletedRunIsRefused() {
        Assistant assistant = assistant(sdk(), null, "get_weather");
        Run done = pollFor(sdk(), createRun(sdk(), threadWith(sdk(), "hi"), assistant.id()), RunStatus.COMPLETED);

        assertBadRequest(() -> submit(sdk(), done, "call_abc", "x"), "Runs in status \"completed\" do not accept tool outputs.");
        assertThat(retrieve(sdk(), done.threadId(), done.id())).isEqualTo(done);
    }

    @Test
    void textThenToolCallsMakesAMessageStepThenAToolStep() {
        Assistant assistant = assistant(sdk(), null, "get_weather");
        String threadId = threadWith(sdk(), "Weather in Rome?");
        script(Reply.textThenToolCalls("Let me check.", new ToolCall("up_1", "get_weather", "{\"city\":\"Rome\"}")).withUsage(30, 9),
                Reply.text("Warm in Rome.").withUsage(50, 4));
        Run waiting = pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.REQUIRES_ACTION);

        List<RunStep> before = steps(sdk(), waiting);
        assertThat(before).extracting(RunStep::type).containsExactly(RunStep.Type.MESSAGE_CREATION, RunStep.Type.TOOL_CALLS);
        assertThat(before).extracting(RunStep::status).containsExactly(RunStep.Status.COMPLETED, RunStep.Status.IN_PROGRESS);
        List<Message> written = messagesOf(sdk(), waiting);
        assertThat(written).hasSize(1);
        assertThat(text(written.getFirst())).isEqualTo("Let me check.");
        assertThat(written.getFirst().status()).isEqualTo(Message.Status.COMPLETED);
        assertThat(before.getFirst().stepDetails().asMessageCreation().messageCreation().messageId()).isEqualTo(written.getFirst().id());
        String callId = pendingCallIds(waiting).getFirst();

        submit(sdk(), waiting, callId, "25C");
        Run done = pollFor(sdk(), waiting, RunStatus.COMPLETED);

        assertThat(steps(sdk(), done)).extracting(RunStep::type).containsExactly(
                RunStep.Type.MESSAGE_CREATION, RunStep.Type.TOOL_CALLS, RunStep.Type.MESSAGE_CREATION);
        assertThat(texts(messagesOf(sdk(), done))).containsExactly("Let me check.", "Warm in Rome.");
        assertThat(done.usage().orElseThrow().promptTokens()).isEqualTo(80);
        assertThat(done.usage().orElseThrow().completionTokens()).isEqualTo(13);
        assertThat(upstreamRequests().get(1).path("messages")).isEqualTo(json("""
                [{"role": "user", "content": "Weather in Rome?"},
                 {"role": "assistant", "content": "Let me check.", "tool_calls": [
                   {"id": "%1$s", "type": "function", "function": {"name": "get_weather", "arguments": "{\\"city\\":\\"Rome\\"}"}}]},
                 {"role": "tool", "tool_call_id": "%1$s", "content": "25C"}]""".formatted(callId)));
    }

    @Test
    void twoRoundsSendEveryEarlierRoundAgain() {
        Assistant assistant = assistant(sdk(), null, "get_weather");
        String threadId = threadWith(sdk(), "Compare Paris and Rome");
        script(Reply.toolCalls(new ToolCall("u1", "get_weather", "{\"city\":\"Paris\"}")),
                Reply.toolCalls(new ToolCall("u2", "get_weather", "{\"city\":\"Rome\"}")),
                Reply.text("Rome is warmer."));
        Run first = pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.REQUIRES_ACTION);
        String one = pendingCallIds(first).getFirst();
        submit(sdk(), first, one, "15C");
        Run second = pollFor(sdk(), first, RunStatus.REQUIRES_ACTION);
        String two = pendingCallIds(second).getFirst();
        assertThat(two).isNotEqualTo(one);
        submit(sdk(), second, two, "25C");
        Run done = pollFor(sdk(), first, RunStatus.COMPLETED);

        assertThat(steps(sdk(), done)).extracting(RunStep::type).containsExactly(
                RunStep.Type.TOOL_CALLS, RunStep.Type.TOOL_CALLS, RunStep.Type.MESSAGE_CREATION);
        assertThat(upstreamRequests()).hasSize(3);
        assertThat(upstreamRequests().get(2).path("messages")).extracting(m -> m.path("role").asText() + ":"
                        + m.path("tool_call_id").asText(m.path("content").asText()))
                .containsExactly("user:Compare Paris and Rome", "assistant:null", "tool:" + one, "assistant:null", "tool:" + two);
    }

    /** Waits until the clock is past {@code epochSecond}, so that a new started_at must differ. */
    private static void untilTheSecondAfter(long epochSecond) {
        long wait = (epochSecond + 1) * 1000 - System.currentTimeMillis();
        if (wait > 0) {
            sleep(wait + 20);
        }
    }
}
