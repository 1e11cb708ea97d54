package io.spindle.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindle.testing.OpenAiSchemas;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Tool calls keep what the engine needs in their stored form and show clients only the wire form. */
class ToolCallTest {

    private static final ToolCall.FileSearch SEARCH = new ToolCall.FileSearch("call_1", "{\"queries\":[\"cake\"]}", 2,
            "default_2024_08_21", 0.5, List.of(new ToolCall.FileSearch.Result("file-a", "foods.txt", 0.75, Json.object().put("k", "v"),
            "Filip: cake")), "【2:0†foods.txt】\nFilip: cake");

    @Test
    void aFileSearchCallSurvivesItsStoredForm() {
        assertThat(ToolCall.parse(SEARCH.stored())).isEqualTo(SEARCH);
    }

    @Test
    void aFunctionCallSurvivesItsStoredFormPendingOrAnswered() {
        ToolCall.Function pending = new ToolCall.Function("call_2", "get_weather", "{}", null);
        assertThat(ToolCall.parse(pending.stored())).isEqualTo(pending);
        assertThat(pending.pending()).isTrue();
        ToolCall.Function answered = pending.withOutput("sunny");
        assertThat(ToolCall.parse(answered.stored())).isEqualTo(answered);
        assertThat(answered.pending()).isFalse();
    }

    @Test
    void theWireFormHidesTheEnginesFieldsAndShowsContentOnlyWhenIncluded() {
        assertThat(SEARCH.wire(false)).isEqualTo(Json.readTree("""
                {"id": "call_1", "type": "file_search", "file_search": {
                  "ranking_options": {"ranker": "default_2024_08_21", "score_threshold": 0.5},
                  "results": [{"file_id": "file-a", "file_name": "foods.txt", "score": 0.75, "attributes": {"k": "v"}}]}}"""));
        assertThat(SEARCH.wire(true).path("file_search").path("results").path(0).path("content"))
                .isEqualTo(Json.readTree("[{\"type\": \"text\", \"text\": \"Filip: cake\"}]"));
        assertThat(SEARCH.startDelta(1)).isEqualTo(Json.readTree("""
                {"index": 1, "id": "call_1", "type": "file_search", "file_search": {
                  "ranking_options": {"ranker": "default_2024_08_21", "score_threshold": 0.5}, "results": []}}"""));
    }

    @Test
    void aStepShowsItsCallsInWireFormWhetherStoredOrAlreadyPublished() {
        var details = Json.object().put("type", RunStepObject.TOOL_CALLS);
        details.set("tool_calls", ToolCall.storedAll(List.of(SEARCH)));
        RunStepObject step = new RunStepObject("step_1", 1, "run_1", "asst_1", "thread_1", RunStepObject.TOOL_CALLS, "completed",
                null, 2L, null, null, null, null, details, Usage.ZERO);
        RunStepObject shown = step.published(true);
        assertThat(shown.stepDetails().path("tool_calls").path(0)).isEqualTo(SEARCH.wire(true));
        assertThat(shown.published(false).stepDetails().path("tool_calls").path(0)).isEqualTo(SEARCH.wire(false));
    }

    private static final ToolCall.CodeInterpreter CODE = new ToolCall.CodeInterpreter("call_3", "{\"code\": \"print(42)\"}",
            List.of(new ToolCall.CodeInterpreter.Logs("42\n"), new ToolCall.CodeInterpreter.Image("file-img")),
            List.of(new ToolCall.CodeInterpreter.WrittenFile("out.csv", "file-csv")), "42\n[a figure]");

    @Test
    void aCodeInterpreterCallSurvivesItsStoredFormBegunOrDone() {
        assertThat(ToolCall.parse(CODE.stored())).isEqualTo(CODE);
        ToolCall.CodeInterpreter begun = new ToolCall.CodeInterpreter("call_3", "{\"code\": \"x\"}");
        assertThat(ToolCall.parse(begun.stored())).isEqualTo(begun);
        assertThat(begun.pending()).isTrue();
        assertThat(CODE.pending()).isFalse();
    }

    @Test
    void aCodeInterpreterCallAddsAnImageFilePartPerFigureToTheAnswer() {
        assertThat(CODE.answerParts()).containsExactly((ObjectNode) Json.readTree("""
                {"type": "image_file", "image_file": {"file_id": "file-img"}}"""));
        OpenAiSchemas.assertValid("MessageContentImageFileObject", CODE.answerParts().getFirst());
        assertThat(new ToolCall.Function("call_1", "f", "{}", "out").answerParts()).isEmpty();
    }

    @Test
    void aCodeInterpreterCallShowsItsCodeAndOutputsAsTheLiveApiDid() {
        assertThat(CODE.wire(false)).isEqualTo(Json.readTree("""
                {"id": "call_3", "type": "code_interpreter", "code_interpreter": {"input": "print(42)", "outputs": [
                  {"type": "logs", "logs": "42\\n"}, {"type": "image", "image": {"file_id": "file-img"}}]}}"""));
        assertThat(CODE.startDelta(0)).isEqualTo(Json.readTree("""
                {"index": 0, "id": "call_3", "type": "code_interpreter", "code_interpreter": {"input": "", "outputs": []}}"""));
    }

    @Test
    void anExecutedCodeInterpreterCallStreamsShortOutputsInOneDeltaIndexedForTheSdkMerge() {
        assertThat(CODE.resultDeltas(2, 1_000)).containsExactly((ObjectNode) Json.readTree("""
                {"index": 2, "type": "code_interpreter", "code_interpreter": {"outputs": [
                  {"index": 0, "type": "logs", "logs": "42\\n"}, {"index": 1, "type": "image", "image": {"file_id": "file-img"}}]}}"""));
        assertThat(new ToolCall.CodeInterpreter("call_4", "{}", List.of(), List.of(), "Nothing ran").resultDeltas(0, 1_000)).isEmpty();
    }

    @Test
    void longLogsStreamInPiecesOfTheirOwnThatAddUpToThem() {
        String logs = "x" + "ab😀".repeat(500); // the 1,000th character is the first half of an emoji
        ToolCall.CodeInterpreter call = new ToolCall.CodeInterpreter("call_5", "{}", List.of(new ToolCall.CodeInterpreter.Logs(logs),
                new ToolCall.CodeInterpreter.Image("file-img")), List.of(), "read back");

        List<ObjectNode> deltas = call.resultDeltas(0, 1_000);

        List<JsonNode> items = deltas.stream().flatMap(d -> d.path("code_interpreter").path("outputs").valueStream()).toList();
        assertThat(deltas).as("the last piece of the logs shares its delta with the image").hasSize(3);
        assertThat(items.getLast()).isEqualTo(Json.readTree("""
                {"index": 1, "type": "image", "image": {"file_id": "file-img"}}"""));
        List<JsonNode> pieces = items.subList(0, items.size() - 1);
        assertThat(pieces).hasSize(3).allSatisfy(p -> {
            assertThat(p.path("index").asInt()).isZero();
            assertThat(p.path("type").asText()).isEqualTo("logs");
            assertThat(p.path("logs").asText().length()).isLessThanOrEqualTo(1_000);
            assertThat(Character.isHighSurrogate(p.path("logs").asText().charAt(p.path("logs").asText().length() - 1))).isFalse();
        });
        assertThat(pieces.stream().map(p -> p.path("logs").asText()).reduce("", String::concat)).isEqualTo(logs);
        assertThat(ToolCall.CodeInterpreter.inputDelta(1, "pri")).isEqualTo(Json.readTree("""
                {"index": 1, "type": "code_interpreter", "code_interpreter": {"input": "pri"}}"""));
    }

    @Test
    void searchesAndFunctionsShowNoResultDelta() {
        assertThat(SEARCH.resultDeltas(0, 1_000)).isEmpty();
        assertThat(new ToolCall.Function("call_2", "get_weather", "{}", "sunny").resultDeltas(0, 1_000)).isEmpty();
        assertThat(ToolCall.Function.argumentsDelta(0, "{\"a")).isEqualTo(Json.readTree("""
                {"index": 0, "type": "function", "function": {"arguments": "{\\"a"}}"""));
    }

    @Test
    void codeSentBareInsteadOfAsJsonIsTheInput() {
        assertThat(new ToolCall.CodeInterpreter("c", "print('hi')").input()).isEqualTo("print('hi')");
        assertThat(new ToolCall.CodeInterpreter("c", "42").input()).isEqualTo("42");
        assertThat(new ToolCall.CodeInterpreter("c", "{\"code\": \"1 + 1\"}").input()).isEqualTo("1 + 1");
    }
}
