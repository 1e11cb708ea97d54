package io.spindle.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * What Spindle reads of a {@code chat.completion.chunk} (or of a whole {@code chat.completion},
 * whose choices carry {@code message} instead of {@code delta}); other keys are skipped while parsing.
 * {@code content} and {@code arguments} stay JSON because servers differ in what they put there.
 */
record ChatChunk(List<Choice> choices, JsonNode usage, JsonNode error) {

    record Choice(Delta delta, Delta message, String finishReason) {}

    record Delta(JsonNode content, List<ToolCall> toolCalls) {}

    record ToolCall(Integer index, Function function) {}

    record Function(String name, JsonNode arguments) {}
}
