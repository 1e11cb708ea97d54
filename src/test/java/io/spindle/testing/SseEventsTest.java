package io.spindle.testing;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The SSE parser and validator, and the SDK-like replay, on frames of the live recordings and broken variants. */
class SseEventsTest {
    // from the live recording run-streaming-text.json, except "instructions": "" for its null,
    // which the spec does not allow (the recorded steps also lack the spec's required expired_at
    // and metadata, so none is used here)
    private static final String RUN_CREATED = """
            event: thread.run.created
            data: {"id":"run_Uy45lNz2P7BpJcqWzQkXl1Bu","object":"thread.run","created_at":1761861742,"assistant_id":"asst_0VLdyfoSMFV4tQpzWUT2ywhg","thread_id":"thread_Wq2ScOs1iInUsyhUUDmN5NZH","status":"queued","started_at":null,"expires_at":1761862342,"cancelled_at":null,"failed_at":null,"completed_at":null,"required_action":null,"last_error":null,"model":"gpt-4o","instructions":"","tools":[],"tool_resources":{"code_interpreter":{"file_ids":[]}},"metadata":{},"temperature":1.0,"top_p":1.0,"reasoning_effort":null,"max_completion_tokens":null,"max_prompt_tokens":null,"truncation_strategy":{"type":"auto","last_messages":null},"incomplete_details":null,"usage":null,"response_format":"auto","tool_choice":"auto","parallel_tool_calls":true}

            """;
    private static final String MESSAGE_CREATED = """
            event: thread.message.created
            data: {"id":"msg_Tn5DNmiQEPZ80biW5AukKrvH","object":"thread.message","created_at":1761861745,"assistant_id":"asst_0VLdyfoSMFV4tQpzWUT2ywhg","thread_id":"thread_Wq2ScOs1iInUsyhUUDmN5NZH","run_id":"run_Uy45lNz2P7BpJcqWzQkXl1Bu","status":"in_progress","incomplete_details":null,"incomplete_at":null,"completed_at":null,"role":"assistant","content":[],"attachments":[],"metadata":{}}

            """;
    private static final String DELTA_1 = """
            event: thread.message.delta
            data: {"id":"msg_Tn5DNmiQEPZ80biW5AukKrvH","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":"Hello","annotations":[]}}]}}

            """;
    private static final String DELTA_2 = """
            event: thread.message.delta
            data: {"id":"msg_Tn5DNmiQEPZ80biW5AukKrvH","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":"!"}}]}}

            """;
    private static final String DONE = "event: done\ndata: [DONE]\n\n";

    @Test
    void recordedFramesParseValidateAndReplay() {
        String body = RUN_CREATED + MESSAGE_CREATED + DELTA_1 + DELTA_2 + DONE;

        List<SseEvents.Event> events = SseEvents.parseAndValidate(body);

        assertThat(events).extracting(SseEvents.Event::name).containsExactly(
                "thread.run.created", "thread.message.created", "thread.message.delta", "thread.message.delta", "done");
        assertThat(events.stream().map(SseEvents.Event::frame).reduce("", String::concat)).isEqualTo(body);
        assertThat(StreamReplay.order(events)).containsExactly(
                "thread.run.created", "thread.message.created", "thread.message.delta*", "done");
        assertThat(StreamReplay.replay(events).text("msg_Tn5DNmiQEPZ80biW5AukKrvH")).isEqualTo("Hello!");
    }

    @Test
    void theDecoderFollowsTheSseRules() {
        List<SseEvents.Event> events = SseEvents.parse(": comment\r\nevent:a\r\ndata: 1\r\ndata:2\r\n\r\ndata: x\n\n");

        assertThat(events).containsExactly(new SseEvents.Event("a", "1\n2"), new SseEvents.Event("message", "x"));
        assertThatThrownBy(() -> SseEvents.parse("event: done\ndata: [DONE]\n")).hasMessageContaining("ended inside an event");
    }

    @Test
    void badEventsAreCaught() {
        assertThatThrownBy(() -> SseEvents.parseAndValidate(RUN_CREATED.replace("\"status\":\"queued\",", "")))
                .hasMessageContaining("thread.run.created").hasMessageContaining("status");
        assertThatThrownBy(() -> SseEvents.parseAndValidate(DELTA_2.replace("\"index\":0,", "\"index\":\"0\",")))
                .hasMessageContaining("thread.message.delta");
        assertThatThrownBy(() -> SseEvents.parseAndValidate("event: thread.run.exploded\ndata: {}\n\n"))
                .hasMessageContaining("not an Assistants stream event");
        assertThatThrownBy(() -> SseEvents.parseAndValidate("event: done\ndata: DONE\n\n")).hasMessageContaining("[DONE]");
        assertThatThrownBy(() -> SseEvents.parseAndValidate(
                "event: error\ndata: {\"message\":\"m\",\"type\":\"server_error\",\"param\":null,\"code\":null}\n\n"))
                .hasMessageContaining("ErrorResponse");
        SseEvents.parseAndValidate(
                "event: error\ndata: {\"error\":{\"message\":\"m\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n");
    }

    @Test
    void theCheckingStreamPassesBytesThroughAndStopsAtABadEvent() throws IOException {
        String good = RUN_CREATED + MESSAGE_CREATED + DELTA_1;
        try (SseEvents.CheckingInputStream in = new SseEvents.CheckingInputStream(new ByteArrayInputStream(good.getBytes(UTF_8)))) {
            assertThat(new String(readInSmallPieces(in), UTF_8)).isEqualTo(good);
            assertThat(in.events()).hasSize(3);
        }
        String bad = RUN_CREATED.replace("\"object\":\"thread.run\"", "\"object\":\"thread.run.oops\"");
        try (InputStream in = new SseEvents.CheckingInputStream(new ByteArrayInputStream(bad.getBytes(UTF_8)))) {
            assertThatThrownBy(() -> readInSmallPieces(in)).isInstanceOf(AssertionError.class).hasMessageContaining("thread.run.created");
        }
    }

    @Test
    void theReplayCatchesWhatCrashesTheSdkHelpers() {
        assertThatThrownBy(() -> StreamReplay.replay(SseEvents.parse(RUN_CREATED + DELTA_1 + MESSAGE_CREATED)))
                .hasMessageContaining("before its thread.message.created");
        assertThatThrownBy(() -> StreamReplay.replay(SseEvents.parse(RUN_CREATED + MESSAGE_CREATED + DELTA_2)))
                .hasMessageContaining("must carry \"annotations\"");
        assertThatThrownBy(() -> StreamReplay.replay(SseEvents.parse(RUN_CREATED + MESSAGE_CREATED + DELTA_1 + DELTA_1)))
                .hasMessageContaining("re-sends \"annotations\": []");
        String citation = DELTA_2.replace("\"value\":\"!\"", "\"value\":\"!\",\"annotations\":[{\"index\":0,\"type\":\"file_citation\","
                + "\"text\":\"!\",\"start_index\":5,\"end_index\":6,\"file_citation\":{\"file_id\":\"file-1\",\"quote\":\"\"}}]");
        assertThat(citation).contains("file_citation");
        assertThat(StreamReplay.replay(SseEvents.parse(RUN_CREATED + MESSAGE_CREATED + DELTA_1 + citation)).messages()).hasSize(1);
        assertThatThrownBy(() -> StreamReplay.replay(SseEvents.parse(RUN_CREATED + MESSAGE_CREATED + DELTA_1 + citation + citation)))
                .hasMessageContaining("without a new numeric index");
        String completedShort = MESSAGE_CREATED.replace("thread.message.created", "thread.message.completed")
                .replace("\"status\":\"in_progress\"", "\"status\":\"completed\"")
                .replace("\"content\":[]", "\"content\":[{\"type\":\"text\",\"text\":{\"value\":\"Hell\",\"annotations\":[]}}]");
        assertThatThrownBy(() -> StreamReplay.replay(SseEvents.parse(RUN_CREATED + MESSAGE_CREATED + DELTA_1 + DELTA_2 + completedShort)))
                .hasMessageContaining("add up to 'Hello!'");
        String step = "event: thread.run.step.created\ndata: {\"id\":\"step_1\",\"type\":\"tool_calls\",\"status\":\"in_progress\","
                + "\"step_details\":{\"type\":\"tool_calls\",\"tool_calls\":[]}}\n\n";
        String head = "event: thread.run.step.delta\ndata: {\"id\":\"step_1\",\"object\":\"thread.run.step.delta\",\"delta\":{\"step_details\":"
                + "{\"type\":\"tool_calls\",\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":"
                + "{\"name\":\"f\",\"arguments\":\"\",\"output\":null}}]}}}\n\n";
        assertThat(StreamReplay.replay(SseEvents.parse(step + head + head.replace("\"id\":\"call_1\",", "")
                .replace("\"name\":\"f\",", ""))).steps().get("step_1").path("step_details").path("tool_calls")).hasSize(1);
        assertThatThrownBy(() -> StreamReplay.replay(SseEvents.parse(step + head + head)))
                .hasMessageContaining("re-sends id or name");
        assertThatThrownBy(() -> StreamReplay.replay(SseEvents.parse(step + head.replace("\"index\":0,", ""))))
                .hasMessageContaining("without a numeric index");
        assertThatThrownBy(() -> StreamReplay.replay(SseEvents.parse(RUN_CREATED.replace("thread.run.created", "thread.run.completed")
                .replace("\"status\":\"queued\"", "\"status\":\"completed\"") + MESSAGE_CREATED)))
                .hasMessageContaining("after thread.run.completed");
    }

    @Test
    void theReplayRebuildsACodeInterpreterCallAndRefusesOneThatDiffersFromItsCompletedStep() {
        String step = "event: thread.run.step.created\ndata: {\"id\":\"step_1\",\"type\":\"tool_calls\",\"status\":\"in_progress\","
                + "\"step_details\":{\"type\":\"tool_calls\",\"tool_calls\":[]}}\n\n";
        String start = stepDelta("{\"index\":0,\"id\":\"call_1\",\"type\":\"code_interpreter\",\"code_interpreter\":{\"input\":\"\",\"outputs\":[]}}");
        String input1 = stepDelta("{\"index\":0,\"type\":\"code_interpreter\",\"code_interpreter\":{\"input\":\"print(\"}}");
        String input2 = stepDelta("{\"index\":0,\"type\":\"code_interpreter\",\"code_interpreter\":{\"input\":\"1)\"}}");
        String outputs = stepDelta("{\"index\":0,\"type\":\"code_interpreter\",\"code_interpreter\":{\"outputs\":"
                + "[{\"index\":0,\"type\":\"logs\",\"logs\":\"1\\n\"}]}}");
        String completed = "event: thread.run.step.completed\ndata: {\"id\":\"step_1\",\"type\":\"tool_calls\",\"status\":\"completed\","
                + "\"step_details\":{\"type\":\"tool_calls\",\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"code_interpreter\","
                + "\"code_interpreter\":{\"outputs\":[{\"logs\":\"1\\n\",\"type\":\"logs\"}],\"input\":\"print(1)\"}}]}}\n\n";

        StreamReplay.Result replay = StreamReplay.replay(SseEvents.parse(step + start + input1 + input2 + outputs + completed));
        assertThat(replay.steps().get("step_1").path("status").asText()).isEqualTo("completed");
        assertThatThrownBy(() -> StreamReplay.replay(SseEvents.parse(step + start + input1 + outputs + completed)))
                .hasMessageContaining("are not the ones thread.run.step.completed lists");
        assertThatThrownBy(() -> StreamReplay.replay(SseEvents.parse(step + start + input1 + input2 + completed)))
                .hasMessageContaining("are not the ones thread.run.step.completed lists");
        assertThatThrownBy(() -> StreamReplay.replay(SseEvents.parse(step + start + input1 + input2 + outputs + outputs + completed)))
                .as("logs sent twice are concatenated by the SDKs").hasMessageContaining("1\\n1\\n");
    }

    private static String stepDelta(String call) {
        return "event: thread.run.step.delta\ndata: {\"id\":\"step_1\",\"object\":\"thread.run.step.delta\",\"delta\":{\"step_details\":"
                + "{\"type\":\"tool_calls\",\"tool_calls\":[" + call + "]}}}\n\n";
    }

    private static byte[] readInSmallPieces(InputStream in) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        byte[] buffer = new byte[7];
        for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
            out.write(buffer, 0, n);
        }
        return out.toByteArray();
    }
}
