package io.spindle.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.Map;

/**
 * {@code object: "vector_store"}, keys in the order the live API sent them. {@code status},
 * {@code file_counts}, {@code usage_bytes}, {@code last_active_at} and {@code expires_at} change
 * with the store's files and use: the stored row keeps the rest, and these are filled in when read.
 */
@JsonPropertyOrder({"id", "object", "created_at", "name", "description", "usage_bytes", "file_counts", "status",
        "expires_after", "expires_at", "last_active_at", "metadata"})
public record VectorStoreObject(String id, long createdAt, String name, String description, long usageBytes,
                                FileCounts fileCounts, String status, ExpiresAfter expiresAfter, Long expiresAt,
                                long lastActiveAt, Map<String, String> metadata) {

    /** How many of a store's (or a batch's) files are in each status. */
    @JsonPropertyOrder({"in_progress", "completed", "failed", "cancelled", "total"})
    public record FileCounts(long inProgress, long completed, long failed, long cancelled, long total) {
        public static final FileCounts NONE = new FileCounts(0, 0, 0, 0, 0);
    }

    /** {@code {"anchor":"last_active_at","days":N}}: the store expires N days after it was last used. */
    @JsonPropertyOrder({"anchor", "days"})
    public record ExpiresAfter(String anchor, int days) {
        public static final String LAST_ACTIVE_AT = "last_active_at";
        /**
         * The policy of the stores a thread makes (through tool_resources or a message attachment): OpenAI's docs, "Vector stores
         * created using thread helpers … have a default expiration policy of 7 days" after last use.
         */
        public static final ExpiresAfter THREAD_HELPER = new ExpiresAfter(LAST_ACTIVE_AT, 7);

        /** When a store last used at {@code lastActiveAt} expires. */
        public long expiresAt(long lastActiveAt) {
            return lastActiveAt + days * 86_400L;
        }
    }

    @JsonProperty("object")
    public String object() {
        return "vector_store";
    }

    /** A store as created at {@code now}: no files yet, last active now, expiring by its policy (none when null). */
    public static VectorStoreObject created(String id, long now, String name, String description, ExpiresAfter policy,
                                            Map<String, String> metadata) {
        return new VectorStoreObject(id, now, name, description, 0, FileCounts.NONE, "completed", policy,
                policy == null ? null : policy.expiresAt(now), now, metadata);
    }

    /** The store as it is now: what its files and its use say, over what the row keeps. */
    public VectorStoreObject with(FileCounts counts, long usageBytes, long lastActiveAt, Long expiresAt, boolean expired) {
        String status = expired ? "expired" : counts.inProgress() > 0 ? "in_progress" : "completed";
        return new VectorStoreObject(id, createdAt, name, description, usageBytes, counts, status, expiresAfter, expiresAt,
                lastActiveAt, metadata);
    }

    public static ApiException notFound(String id) {
        return ApiException.notFound("vector store", id);
    }

    /** Using a store past its expiry (dossier §10: the APP wording; 400 chosen, the live status is unconfirmed). */
    public static ApiException expired(String id) {
        return ApiException.invalid("Vector store '" + id + "' has expired", null, "vector_store_expired");
    }
}
