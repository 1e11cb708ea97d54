package io.spindle.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.Optional;

/** {@code object: "thread"}. */
@JsonPropertyOrder({"id", "object", "created_at", "metadata", "tool_resources"})
public record ThreadObject(String id, long createdAt, Map<String, String> metadata, JsonNode toolResources) {

    @JsonProperty("object")
    public String object() {
        return "thread";
    }

    /** The thread's vector store for file_search ({@code tool_resources.file_search.vector_store_ids[0]}), if it has one. */
    public Optional<String> vectorStoreId() {
        return Tools.vectorStoreId(toolResources);
    }

    /** The thread with this vector store for file_search, in place of any other; its other resources kept. */
    public ThreadObject withVectorStore(String vectorStoreId) {
        ObjectNode resources = toolResources.deepCopy();
        resources.putObject("file_search").putArray("vector_store_ids").add(vectorStoreId);
        return new ThreadObject(id, createdAt, metadata, resources);
    }
}
