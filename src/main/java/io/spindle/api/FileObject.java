package io.spindle.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * {@code object: "file"}, keys in the order the live API sent them. Uploads are {@code processed} at
 * once; {@code expires_at} is null unless the upload set {@code expires_after}.
 */
@JsonPropertyOrder({"object", "id", "purpose", "filename", "bytes", "created_at", "expires_at", "status", "status_details"})
public record FileObject(String id, String purpose, String filename, long bytes, long createdAt, Long expiresAt) {

    @JsonProperty("object")
    public String object() {
        return "file";
    }

    @JsonProperty("status")
    public String status() {
        return "processed";
    }

    @JsonProperty("status_details")
    public String statusDetails() {
        return null;
    }

    /** The live API's answer for an id that names no file of the project (any id: files have no prefix check). */
    public static ApiException notFound(String id) {
        return new ApiException(ApiException.Kind.NOT_FOUND, "No such File object: " + id, "id", null);
    }
}
