package io.spindle.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code object: "thread.message"}. The live REST API left out {@code status}, {@code incomplete_details},
 * {@code incomplete_at} and {@code completed_at}; the spec requires them and every SDK accepts them, so
 * Spindle always sends them (REST and stream alike).
 */
@JsonPropertyOrder({"id", "object", "created_at", "assistant_id", "thread_id", "run_id", "status", "incomplete_details",
        "incomplete_at", "completed_at", "role", "content", "attachments", "metadata"})
public record MessageObject(
        String id,
        long createdAt,
        String assistantId,
        String threadId,
        String runId,
        String status,
        JsonNode incompleteDetails,
        Long incompleteAt,
        Long completedAt,
        String role,
        JsonNode content,
        JsonNode attachments,
        Map<String, String> metadata) {

    @JsonProperty("object")
    public String object() {
        return "thread.message";
    }

    /** The files attached for file_search, each once, in order: they belong in the thread's vector store. */
    public List<String> fileSearchFileIds() {
        Set<String> ids = new LinkedHashSet<>();
        for (JsonNode attachment : attachments) {
            for (JsonNode tool : attachment.path("tools")) {
                if (tool.path("type").asText().equals("file_search")) {
                    ids.add(attachment.path("file_id").asText());
                }
            }
        }
        return List.copyOf(ids);
    }

    public MessageObject withContent(JsonNode newContent) {
        return new MessageObject(id, createdAt, assistantId, threadId, runId, status, incompleteDetails, incompleteAt,
                completedAt, role, newContent, attachments, metadata);
    }

    /** The message in its final status: {@code completed}, or {@code incomplete} with its details; {@code at} stamps it. */
    public MessageObject end(String newStatus, JsonNode details, long at) {
        boolean complete = newStatus.equals("completed");
        return new MessageObject(id, createdAt, assistantId, threadId, runId, newStatus, complete ? null : details,
                complete ? null : Long.valueOf(at), complete ? Long.valueOf(at) : null, role, content, attachments, metadata);
    }

    public MessageObject withMetadata(Map<String, String> newMetadata) {
        return new MessageObject(id, createdAt, assistantId, threadId, runId, status, incompleteDetails, incompleteAt,
                completedAt, role, content, attachments, newMetadata);
    }
}
