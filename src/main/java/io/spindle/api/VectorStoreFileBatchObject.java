package io.spindle.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * {@code object: "vector_store.file_batch"} (the live API's word; the spec's enum says
 * {@code vector_store.files_batch}, and the SDKs do not check it). Status and counts come from the
 * batch's files when read.
 */
@JsonPropertyOrder({"id", "object", "created_at", "vector_store_id", "status", "file_counts"})
public record VectorStoreFileBatchObject(String id, long createdAt, String vectorStoreId, String status,
                                         VectorStoreObject.FileCounts fileCounts) {

    @JsonProperty("object")
    public String object() {
        return "vector_store.file_batch";
    }

    /**
     * The batch as its files say: {@code in_progress} while any is; then {@code cancelled} if it was
     * cancelled, {@code failed} if every file failed, else {@code completed}.
     */
    public static String status(boolean cancelled, VectorStoreObject.FileCounts counts) {
        if (counts.inProgress() > 0) {
            return "in_progress";
        }
        if (cancelled) {
            return "cancelled";
        }
        return counts.total() > 0 && counts.failed() == counts.total() ? "failed" : "completed";
    }

    public static ApiException notFound(String id) {
        return ApiException.notFound("file batch", id);
    }
}
