package io.spindle.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/** {@code object: "assistant"}, keys in the order the live API sent them. */
@JsonPropertyOrder({"id", "object", "created_at", "name", "description", "model", "instructions", "tools", "top_p",
        "temperature", "reasoning_effort", "tool_resources", "metadata", "response_format"})
public record AssistantObject(
        String id,
        long createdAt,
        String name,
        String description,
        String model,
        String instructions,
        JsonNode tools,
        Double topP,
        Double temperature,
        String reasoningEffort,
        JsonNode toolResources,
        Map<String, String> metadata,
        JsonNode responseFormat) {

    @JsonProperty("object")
    public String object() {
        return "assistant";
    }
}
