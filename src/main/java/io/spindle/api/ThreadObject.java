package io.spindle.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/** {@code object: "thread"}. */
@JsonPropertyOrder({"id", "object", "created_at", "metadata", "tool_resources"})
public record ThreadObject(String id, long createdAt, Map<String, String> metadata, JsonNode toolResources) {

    @JsonProperty("object")
    public String object() {
        return "thread";
    }
}
