package io.spindle.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.core.http.StreamResponse;
import com.openai.models.FunctionDefinition;
import com.openai.models.beta.assistants.AssistantCreateParams;
import com.openai.models.beta.assistants.AssistantStreamEvent;
import com.openai.models.beta.threads.ThreadCreateAndRunParams;
import com.openai.models.beta.threads.runs.RunCancelParams;
import com.openai.models.beta.threads.runs.RunCreateParams;
import com.openai.models.beta.threads.runs.RunSubmitToolOutputsParams;
import io.spindle.testing.EndToEnd;
import io.spindle.testing.FakeUpstream;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.FakeUpstream.ToolCall;
import io.spindle.testing.SdkJson;
import io.spindle.testing.SdkThreads;
import io.spindle.testing.SseEvents;
import io.spindle.testing.StreamReplay;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Streaming runs through the official Java SDK ({@code createStreaming}, {@code createAndRunStreaming},
 * {@code submitToolOutputsStreaming}): the order of events (behaviour dossier §7.3-7.6, checked
 * against the live recordings), the deltas' shapes and merge rules (§7.7), and that what was
 * streamed adds up to what is stored. Every event's data is schema-checked as it passes
 * ({@code Sdk}'s event-stream check); {@link StreamReplay} replays them like the SDK helpers do.
 */
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class StreamingSdkTest extends EndToEnd {
    private static final String ANSWER = "Hello! I'm just a program, so I don't have feelings, but thanks for asking.";
    private static final String WEATHER = "get_current_weather";

    private static FakeUpstream fake;

    @Override
    protected Map<String, String> env() {
        if (fake == null) {
            fake = FakeUpstream.start();
        }
        return Map.of("SPINDLE_UPSTREAM_URL", fake.baseUrl(), "SPINDLE_UPSTREAM_RETRIES", "0");
    }

    @AfterAll
    static void stopFake() {
        if (fake != null) {
            fake.close();
            fake = null;
        }
    }

    @BeforeEach
    void startServer() {
        server();
        fake.respondWith(body -> Reply.error(500, "StreamingSdkTest: this test scripted no answer for " + body.path("messages")));
    }

    // ---------------------------------------------------------------------------------------------------------------

    @Test
    void plainTextRunStreamsInTheRecordedOrder() {
        // paced, so each piece reaches the client on its own (pieces that wait for a busy reader join into one delta)
        fake.respondWith(body -> Reply.text(ANSWER).withChunkDelay(Duration.ofMillis(5)));
        String assistant = assistant(false);
        String thread = SdkThreads.threadWith(sdk(), "Hello there, assistant! How are you today?");

        List<SseEvents.Event> events = collect(sdk().beta().threads().runs().createStreaming(thread,
                RunCreateParams.builder().assistantId(assistant).build()));

        assertThat(StreamReplay.order(events)).containsExactly(
                "thread.run.created", "thread.run.queued", "thread.run.in_progress",
                "thread.run.step.created", "thread.run.step.in_progress",
                "thread.message.created", "thread.message.in_progress",
                "thread.message.delta*",
                "thread.message.completed", "thread.run.step.completed", "thread.run.completed");
        StreamReplay.Result replay = StreamReplay.replay(events);
        assertThat(count(events, "thread.message.delta")).isGreaterThan(1);

        JsonNode created = data(events, "thread.run.created");
        assertThat(created.path("status").asText()).isEqualTo("queued");
        assertThat(created.path("started_at").isNull()).isTrue();
        assertThat(created.path("expires_at").asLong()).isEqualTo(created.path("created_at").asLong() + 600);
        assertThat(data(events, "thread.run.queued")).isEqualTo(created);
        assertThat(data(events, "thread.run.in_progress").path("started_at").isNumber()).isTrue();

        JsonNode stepCreated = data(events, "thread.run.step.created");
        String messageId = replay.onlyMessageId();
        assertThat(stepCreated.path("type").asText()).isEqualTo("message_creation");
        assertThat(stepCreated.path("step_details").path("message_creation").path("message_id").asText()).isEqualTo(messageId);
        assertThat(stepCreated.path("usage").isNull()).isTrue();
        JsonNode messageCreated = data(events, "thread.message.created");
        assertThat(messageCreated.path("status").asText()).isEqualTo("in_progress");
        assertThat(messageCreated.path("content")).isEmpty();
        JsonNode messageCompleted = data(events, "thread.message.completed");
        assertThat(messageCompleted.path("completed_at").isNumber()).isTrue();
        assertThat(StreamReplay.text(messageCompleted)).isEqualTo(ANSWER);
        JsonNode stepCompleted = data(events, "thread.run.step.completed");
        assertThat(stepCompleted.path("usage").path("total_tokens").asLong()).isPositive();
        JsonNode completed = data(events, "thread.run.completed");
        assertThat(completed.path("expires_at").isNull()).isTrue();
        assertThat(completed.path("completed_at").isNumber()).isTrue();
        assertThat(completed.path("usage")).isEqualTo(stepCompleted.path("usage"));

        assertThat(replay.text(messageId)).isEqualTo(ANSWER);
        assertThat(storedText(thread, messageId)).isEqualTo(ANSWER);
        assertThat(api().get("/v1/threads/" + thread + "/runs/" + completed.path("id").asText()).ok()).isEqualTo(completed);
    }

    @Test
    void createAndRunStreamsThreadCreatedFirstAndEndsAtRequiresAction() {
        fake.respondWith(body -> Reply.toolCalls(new ToolCall("call_up1", WEATHER, "{\"location\":\"Paris, France\"}")));
        String assistant = assistant(true);

        List<SseEvents.Event> events = collect(sdk().beta().threads().createAndRunStreaming(ThreadCreateAndRunParams.builder()
                .assistantId(assistant)
                .thread(ThreadCreateAndRunParams.Thread.builder().addMessage(ThreadCreateAndRunParams.Thread.Message.builder()
                        .role(ThreadCreateAndRunParams.Thread.Message.Role.USER)
                        .content("What should I wear outside right now?")
                        .build()).build())
                .build()));

        assertThat(StreamReplay.order(events)).containsExactly(
                "thread.created", "thread.run.created", "thread.run.queued", "thread.run.in_progress",
                "thread.run.step.created", "thread.run.step.in_progress",
                "thread.run.step.delta*",
                "thread.run.requires_action");
        StreamReplay.Result replay = StreamReplay.replay(events);
        String thread = data(events, "thread.created").path("id").asText();
        JsonNode requires = data(events, "thread.run.requires_action");
        assertThat(requires.path("thread_id").asText()).isEqualTo(thread);
        assertThat(requires.path("usage").isNull()).isTrue();

        JsonNode stepCreated = data(events, "thread.run.step.created");
        assertThat(stepCreated.path("type").asText()).isEqualTo("tool_calls");
        assertThat(stepCreated.path("step_details")).isEqualTo(SdkJson.json("{\"type\": \"tool_calls\", \"tool_calls\": []}"));
        List<JsonNode> deltas = all(events, "thread.run.step.delta");
        assertThat(deltas).hasSizeGreaterThan(1);
        JsonNode first = deltas.getFirst().path("delta").path("step_details").path("tool_calls").get(0);
        String callId = requires.path("required_action").path("submit_tool_outputs").path("tool_calls").get(0).path("id").asText();
        assertThat(first).isEqualTo(SdkJson.json("""
                {"index": 0, "id": "%s", "type": "function", "function": {"name": "%s", "arguments": "", "output": null}}"""
                .formatted(callId, WEATHER)));
        assertThat(deltas.get(1).path("delta").path("step_details").path("tool_calls").get(0).path("function").properties())
                .extracting(Map.Entry::getKey).containsExactly("arguments");
        JsonNode accumulated = replay.steps().get(stepCreated.path("id").asText()).path("step_details").path("tool_calls").get(0);
        assertThat(accumulated.path("function").path("arguments").asText()).isEqualTo("{\"location\":\"Paris, France\"}");

        // the stream ended, but the step waits for the outputs
        JsonNode step = api().get("/v1/threads/" + thread + "/runs/" + requires.path("id").asText()
                + "/steps/" + stepCreated.path("id").asText()).ok();
        assertThat(step.path("status").asText()).isEqualTo("in_progress");
        assertThat(events).noneMatch(e -> e.name().equals("thread.run.step.completed"));
    }

    @Test
    void submitToolOutputsStreamContinuesWithTheToolStepThenTheAnswer() {
        fake.respondWith(body -> lastRole(body).equals("tool")
                ? Reply.text("Since it's " + lastContent(body) + " outside, a T-shirt will do.")
                : Reply.toolCalls(new ToolCall("call_up1", WEATHER, "{}")));
        String assistant = assistant(true);
        String thread = SdkThreads.threadWith(sdk(), "What should I wear outside right now?");
        List<SseEvents.Event> first = collect(sdk().beta().threads().runs().createStreaming(thread,
                RunCreateParams.builder().assistantId(assistant).build()));
        JsonNode requires = data(first, "thread.run.requires_action");
        String runId = requires.path("id").asText();
        String callId = requires.path("required_action").path("submit_tool_outputs").path("tool_calls").get(0).path("id").asText();
        String toolStep = data(first, "thread.run.step.created").path("id").asText();

        List<SseEvents.Event> events = collect(sdk().beta().threads().runs().submitToolOutputsStreaming(runId,
                RunSubmitToolOutputsParams.builder().threadId(thread)
                        .addToolOutput(RunSubmitToolOutputsParams.ToolOutput.builder().toolCallId(callId).output("warm and sunny").build())
                        .build()));

        assertThat(StreamReplay.order(events)).containsExactly(
                "thread.run.step.completed", "thread.run.queued", "thread.run.in_progress",
                "thread.run.step.created", "thread.run.step.in_progress",
                "thread.message.created", "thread.message.in_progress",
                "thread.message.delta*",
                "thread.message.completed", "thread.run.step.completed", "thread.run.completed");
        StreamReplay.Result replay = StreamReplay.replay(events);
        JsonNode toolCompleted = events.getFirst().json();
        assertThat(toolCompleted.path("id").asText()).isEqualTo(toolStep);
        assertThat(toolCompleted.path("step_details").path("tool_calls").get(0).path("function").path("output").asText())
                .isEqualTo("warm and sunny");
        assertThat(toolCompleted.path("usage").path("total_tokens").asLong()).isPositive();
        long startedBefore = data(first, "thread.run.in_progress").path("started_at").asLong();
        assertThat(data(events, "thread.run.queued").path("started_at").asLong()).isEqualTo(startedBefore);
        assertThat(data(events, "thread.run.in_progress").path("started_at").asLong()).isGreaterThanOrEqualTo(startedBefore);
        String messageId = replay.onlyMessageId();
        assertThat(replay.text(messageId)).isEqualTo("Since it's warm and sunny outside, a T-shirt will do.");
        assertThat(storedText(thread, messageId)).isEqualTo(replay.text(messageId));
        JsonNode completed = data(events, "thread.run.completed");
        long stepsTotal = 0;
        for (JsonNode s : api().get("/v1/threads/" + thread + "/runs/" + runId + "/steps").ok().path("data")) {
            stepsTotal += s.path("usage").path("total_tokens").asLong();
        }
        assertThat(completed.path("usage").path("total_tokens").asLong()).isEqualTo(stepsTotal);
    }

    @Test
    void textThenToolCallsStreamsAWholeMessageBlockBeforeTheToolStep() {
        fake.respondWith(body -> Reply.textThenToolCalls("Let me check the weather.", new ToolCall("call_up1", WEATHER, "{\"location\":\"Oslo\"}")));
        String assistant = assistant(true);
        String thread = SdkThreads.threadWith(sdk(), "What's the weather in Oslo?");

        List<SseEvents.Event> events = collect(sdk().beta().threads().runs().createStreaming(thread,
                RunCreateParams.builder().assistantId(assistant).build()));

        assertThat(StreamReplay.order(events)).containsExactly(
                "thread.run.created", "thread.run.queued", "thread.run.in_progress",
                "thread.run.step.created", "thread.run.step.in_progress",
                "thread.message.created", "thread.message.in_progress",
                "thread.message.delta*",
                "thread.message.completed", "thread.run.step.completed",
                "thread.run.step.created", "thread.run.step.in_progress",
                "thread.run.step.delta*",
                "thread.run.requires_action");
        StreamReplay.Result replay = StreamReplay.replay(events);
        List<JsonNode> stepsCreated = all(events, "thread.run.step.created");
        assertThat(stepsCreated).extracting(s -> s.path("type").asText()).containsExactly("message_creation", "tool_calls");
        assertThat(data(events, "thread.run.step.completed").path("id")).isEqualTo(stepsCreated.getFirst().path("id"));
        String messageId = replay.onlyMessageId();
        assertThat(replay.text(messageId)).isEqualTo("Let me check the weather.");
        assertThat(storedText(thread, messageId)).isEqualTo("Let me check the weather.");
    }

    @Test
    void parallelToolCallsStreamEachCallsHeadOnlyInItsFirstDelta() {
        fake.respondWith(body -> lastRole(body).equals("tool")
                ? Reply.text("Paris is mild, Oslo is cold.")
                : Reply.toolCalls(new ToolCall("call_a", WEATHER, "{\"location\":\"Paris\"}"),
                        new ToolCall("call_b", WEATHER, "{\"location\":\"Oslo\"}")));
        String assistant = assistant(true);
        String thread = SdkThreads.threadWith(sdk(), "Weather in Paris and in Oslo?");

        List<SseEvents.Event> events = collect(sdk().beta().threads().runs().createStreaming(thread,
                RunCreateParams.builder().assistantId(assistant).build()));

        assertThat(StreamReplay.order(events)).containsExactly(
                "thread.run.created", "thread.run.queued", "thread.run.in_progress",
                "thread.run.step.created", "thread.run.step.in_progress",
                "thread.run.step.delta*",
                "thread.run.requires_action");
        StreamReplay.Result replay = StreamReplay.replay(events);
        List<JsonNode> calls = new ArrayList<>();
        for (JsonNode delta : all(events, "thread.run.step.delta")) {
            JsonNode list = delta.path("delta").path("step_details").path("tool_calls");
            assertThat(list).hasSize(1);
            calls.add(list.get(0));
        }
        assertThat(calls).extracting(c -> c.path("index").asInt()).contains(0, 1).isSorted();
        assertThat(calls).filteredOn(c -> c.has("id")).extracting(c -> c.path("index").asInt()).containsExactly(0, 1);
        assertThat(calls).filteredOn(c -> c.path("function").has("name")).hasSize(2);
        JsonNode requires = data(events, "thread.run.requires_action");
        JsonNode required = requires.path("required_action").path("submit_tool_outputs").path("tool_calls");
        assertThat(required).hasSize(2);
        JsonNode accumulated = replay.steps().values().iterator().next().path("step_details").path("tool_calls");
        assertThat(accumulated.get(0).path("function").path("arguments").asText()).isEqualTo("{\"location\":\"Paris\"}");
        assertThat(accumulated.get(1).path("function").path("arguments").asText()).isEqualTo("{\"location\":\"Oslo\"}");
        assertThat(accumulated.get(0).path("id")).isEqualTo(required.get(0).path("id")).isNotEqualTo(accumulated.get(1).path("id"));

        List<SseEvents.Event> rest = collect(sdk().beta().threads().runs().submitToolOutputsStreaming(requires.path("id").asText(),
                RunSubmitToolOutputsParams.builder().threadId(thread)
                        .addToolOutput(RunSubmitToolOutputsParams.ToolOutput.builder().toolCallId(required.get(1).path("id").asText()).output("cold").build())
                        .addToolOutput(RunSubmitToolOutputsParams.ToolOutput.builder().toolCallId(required.get(0).path("id").asText()).output("mild").build())
                        .build()));
        assertThat(StreamReplay.order(rest).getFirst()).isEqualTo("thread.run.step.completed");
        assertThat(StreamReplay.order(rest).getLast()).isEqualTo("thread.run.completed");
        JsonNode outputs = rest.getFirst().json().path("step_details").path("tool_calls");
        assertThat(outputs).extracting(c -> c.path("function").path("output").asText()).containsExactly("mild", "cold");
        StreamReplay.Result after = StreamReplay.replay(rest);
        assertThat(storedText(thread, after.onlyMessageId())).isEqualTo("Paris is mild, Oslo is cold.");
    }

    @Test
    void upstreamFailureEndsTheStreamWithThreadRunFailed() {
        fake.respondWith(body -> Reply.error(500, "The model fell over"));
        String assistant = assistant(false);
        String thread = SdkThreads.threadWith(sdk(), "Hello?");

        List<SseEvents.Event> events = collect(sdk().beta().threads().runs().createStreaming(thread,
                RunCreateParams.builder().assistantId(assistant).build()));

        List<String> order = StreamReplay.order(events);
        assertThat(order.subList(0, 3)).containsExactly("thread.run.created", "thread.run.queued", "thread.run.in_progress");
        assertThat(order.getLast()).isEqualTo("thread.run.failed");
        StreamReplay.replay(events);
        JsonNode failed = data(events, "thread.run.failed");
        assertThat(failed.path("last_error").path("code").asText()).isNotEmpty();
        assertThat(failed.path("last_error").path("message").asText()).isNotEmpty();
        assertThat(failed.path("failed_at").isNumber()).isTrue();
        assertThat(failed.path("expires_at").isNull()).isTrue();
        // any step that was streamed failed with the run, and said why, before the run did
        for (SseEvents.Event e : events) {
            if (e.name().startsWith("thread.run.step.") && !e.name().equals("thread.run.step.created")
                    && !e.name().equals("thread.run.step.in_progress")) {
                assertThat(e.name()).isEqualTo("thread.run.step.failed");
                assertThat(e.json().path("last_error")).isEqualTo(failed.path("last_error"));
            }
        }
        assertThat(api().get("/v1/threads/" + thread + "/runs/" + failed.path("id").asText()).ok()).isEqualTo(failed);
    }

    @Test
    void upstreamDroppedMidAnswerFailsMessageStepAndRunKeepingTheText() {
        fake.respondWith(body -> Reply.text("Half an answer").withChunkDelay(Duration.ofMillis(20)).thenReset());
        String assistant = assistant(false);
        String thread = SdkThreads.threadWith(sdk(), "Hello?");

        List<SseEvents.Event> events = collect(sdk().beta().threads().runs().createStreaming(thread,
                RunCreateParams.builder().assistantId(assistant).build()));

        assertThat(StreamReplay.order(events)).containsExactly(
                "thread.run.created", "thread.run.queued", "thread.run.in_progress",
                "thread.run.step.created", "thread.run.step.in_progress",
                "thread.message.created", "thread.message.in_progress",
                "thread.message.delta*",
                "thread.message.incomplete", "thread.run.step.failed", "thread.run.failed");
        StreamReplay.Result replay = StreamReplay.replay(events);
        JsonNode failed = data(events, "thread.run.failed");
        assertThat(failed.path("last_error").path("message").asText()).isNotEmpty();
        JsonNode stepFailed = data(events, "thread.run.step.failed");
        assertThat(stepFailed.path("last_error")).isEqualTo(failed.path("last_error"));
        assertThat(stepFailed.path("failed_at").isNumber()).isTrue();
        assertThat(data(events, "thread.message.incomplete").path("incomplete_details").path("reason").asText()).isEqualTo("run_failed");
        String messageId = replay.onlyMessageId();
        assertThat(replay.text(messageId)).isEqualTo("Half an answer");
        assertThat(storedText(thread, messageId)).isEqualTo("Half an answer");
    }

    @Test
    void cancellingWhileTheAnswerStreamsEndsMessageStepAndRun() throws Exception {
        fake.respondWith(body -> Reply.text("one two three four five six seven eight nine ten eleven twelve thirteen fourteen")
                .withChunkDelay(Duration.ofMillis(100)));
        String assistant = assistant(false);
        String thread = SdkThreads.threadWith(sdk(), "Count slowly.");

        List<SseEvents.Event> events = new ArrayList<>();
        try (StreamResponse<AssistantStreamEvent> stream = sdk().beta().threads().runs().createStreaming(thread,
                RunCreateParams.builder().assistantId(assistant).build())) {
            Iterator<AssistantStreamEvent> it = stream.stream().iterator();
            while (count(events, "thread.message.delta") < 3 && it.hasNext()) {
                events.add(SdkJson.event(it.next()));
            }
            assertThat(count(events, "thread.message.delta")).isEqualTo(3);
            String runId = data(events, "thread.run.created").path("id").asText();
            var cancelling = sdk().beta().threads().runs().cancel(runId, RunCancelParams.builder().threadId(thread).build());
            assertThat(cancelling.status().asString()).isEqualTo("cancelling");
            it.forEachRemaining(e -> events.add(SdkJson.event(e)));
        }

        List<String> tail = StreamReplay.order(events).stream().filter(n -> !n.endsWith("*")).toList();
        assertThat(tail.subList(tail.indexOf("thread.message.in_progress"), tail.size())).containsExactly(
                "thread.message.in_progress", "thread.run.cancelling",
                "thread.message.incomplete", "thread.run.step.cancelled", "thread.run.cancelled");
        StreamReplay.Result replay = StreamReplay.replay(events);
        String messageId = replay.onlyMessageId();
        JsonNode incomplete = data(events, "thread.message.incomplete");
        assertThat(incomplete.path("incomplete_details").path("reason").asText()).isEqualTo("run_cancelled");
        assertThat(incomplete.path("incomplete_at").isNumber()).isTrue();
        assertThat(replay.text(messageId)).startsWith("one two t").doesNotEndWith("fourteen");
        assertThat(storedText(thread, messageId)).isEqualTo(replay.text(messageId));
        assertThat(data(events, "thread.run.cancelled").path("cancelled_at").isNumber()).isTrue();
    }

    @Test
    void lengthCutoffEndsWithMessageIncompleteThenRunIncomplete() {
        fake.respondWith(body -> Reply.lengthCutoff("The beginning of a long story that"));
        String assistant = assistant(false);
        String thread = SdkThreads.threadWith(sdk(), "Tell me a long story.");

        List<SseEvents.Event> events = collect(sdk().beta().threads().runs().createStreaming(thread,
                RunCreateParams.builder().assistantId(assistant).build()));

        assertThat(StreamReplay.order(events)).containsExactly(
                "thread.run.created", "thread.run.queued", "thread.run.in_progress",
                "thread.run.step.created", "thread.run.step.in_progress",
                "thread.message.created", "thread.message.in_progress",
                "thread.message.delta*",
                "thread.message.incomplete", "thread.run.step.completed", "thread.run.incomplete");
        StreamReplay.Result replay = StreamReplay.replay(events);
        assertThat(data(events, "thread.message.incomplete").path("incomplete_details").path("reason").asText()).isEqualTo("max_tokens");
        assertThat(data(events, "thread.run.incomplete").path("incomplete_details").path("reason").asText())
                .isEqualTo("max_completion_tokens");
        String messageId = replay.onlyMessageId();
        assertThat(replay.text(messageId)).isEqualTo("The beginning of a long story that");
        assertThat(storedText(thread, messageId)).isEqualTo(replay.text(messageId));
    }

    // ---------------------------------------------------------------------------------------------------------------

    /** An assistant, with the weather function or without tools. */
    private String assistant(boolean weather) {
        AssistantCreateParams.Builder params = AssistantCreateParams.builder().model("gpt-4o");
        if (weather) {
            params.addFunctionTool(FunctionDefinition.builder().name(WEATHER).description("Gets the user's current weather").build());
        }
        return sdk().beta().assistants().create(params.build()).id();
    }

    /** Reads a whole stream as events (the SDK's view: no {@code done}). */
    private static List<SseEvents.Event> collect(StreamResponse<AssistantStreamEvent> stream) {
        try (stream) {
            return stream.stream().map(SdkJson::event).toList();
        }
    }


    private static long count(List<SseEvents.Event> events, String name) {
        return events.stream().filter(e -> e.name().equals(name)).count();
    }

    private static List<JsonNode> all(List<SseEvents.Event> events, String name) {
        return events.stream().filter(e -> e.name().equals(name)).map(SseEvents.Event::json).toList();
    }

    /** The data of the one event of that name. */
    private static JsonNode data(List<SseEvents.Event> events, String name) {
        List<JsonNode> found = all(events, name);
        assertThat(found).as("events named %s in %s", name, StreamReplay.order(events)).hasSize(1);
        return found.getFirst();
    }

    private String storedText(String thread, String messageId) {
        return StreamReplay.text(api().get("/v1/threads/" + thread + "/messages/" + messageId).ok());
    }

    static String lastRole(JsonNode chatRequest) {
        return chatRequest.path("messages").path(chatRequest.path("messages").size() - 1).path("role").asText();
    }

    static String lastContent(JsonNode chatRequest) {
        return chatRequest.path("messages").path(chatRequest.path("messages").size() - 1).path("content").asText();
    }
}
