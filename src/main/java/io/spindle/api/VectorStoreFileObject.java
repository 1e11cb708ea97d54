package io.spindle.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code object: "vector_store.file"}, keys in the order the live API sent them; {@code id} is the
 * file's id. {@code attributes} keeps the JSON types of its values (string, number, boolean).
 */
@JsonPropertyOrder({"id", "object", "usage_bytes", "created_at", "vector_store_id", "status", "last_error",
        "chunking_strategy", "attributes"})
public record VectorStoreFileObject(String id, long usageBytes, long createdAt, String vectorStoreId, String status,
                                    LastError lastError, ChunkingStrategy chunkingStrategy, ObjectNode attributes) {

    public static final String IN_PROGRESS = "in_progress";
    public static final String COMPLETED = "completed";
    public static final String FAILED = "failed";
    public static final String CANCELLED = "cancelled";

    /** Why ingestion failed: {@code server_error}, {@code unsupported_file} or {@code invalid_file}. */
    @JsonPropertyOrder({"code", "message"})
    public record LastError(String code, String message) {}

    @JsonProperty("object")
    public String object() {
        return "vector_store.file";
    }

    public VectorStoreFileObject withStatus(String status, long usageBytes) {
        return new VectorStoreFileObject(id, usageBytes, createdAt, vectorStoreId, status, lastError, chunkingStrategy, attributes);
    }

    public VectorStoreFileObject failed(LastError error) {
        return new VectorStoreFileObject(id, 0, createdAt, vectorStoreId, FAILED, error, chunkingStrategy, attributes);
    }

    public VectorStoreFileObject withAttributes(ObjectNode attributes) {
        return new VectorStoreFileObject(id, usageBytes, createdAt, vectorStoreId, status, lastError, chunkingStrategy, attributes);
    }

    /** A file id that names no file of the project, or no file of the store (APP wording, inside vector stores). */
    public static ApiException notFound(String fileId) {
        return ApiException.notFound("file", fileId);
    }
}
