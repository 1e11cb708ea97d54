package io.spindle.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import java.util.Set;

/**
 * {@code object: "thread.run"}, keys in the live API's order. {@code instructions} is the system text
 * the run uses (assistant or run instructions, plus {@code additional_instructions}), never null:
 * the spec and the Java SDK require a string.
 */
@JsonPropertyOrder({"id", "object", "created_at", "assistant_id", "thread_id", "status", "started_at", "expires_at",
        "cancelled_at", "failed_at", "completed_at", "required_action", "last_error", "model", "instructions", "tools",
        "tool_resources", "metadata", "temperature", "top_p", "reasoning_effort", "max_completion_tokens",
        "max_prompt_tokens", "truncation_strategy", "incomplete_details", "usage", "response_format", "tool_choice",
        "parallel_tool_calls"})
public record RunObject(
        String id,
        long createdAt,
        String assistantId,
        String threadId,
        String status,
        Long startedAt,
        Long expiresAt,
        Long cancelledAt,
        Long failedAt,
        Long completedAt,
        JsonNode requiredAction,
        JsonNode lastError,
        String model,
        String instructions,
        JsonNode tools,
        JsonNode toolResources,
        Map<String, String> metadata,
        Double temperature,
        Double topP,
        String reasoningEffort,
        Long maxCompletionTokens,
        Long maxPromptTokens,
        JsonNode truncationStrategy,
        JsonNode incompleteDetails,
        Usage usage,
        JsonNode responseFormat,
        JsonNode toolChoice,
        boolean parallelToolCalls) {

    public static final String QUEUED = "queued";
    public static final String IN_PROGRESS = "in_progress";
    public static final String REQUIRES_ACTION = "requires_action";
    public static final String CANCELLING = "cancelling";
    public static final String CANCELLED = "cancelled";
    public static final String FAILED = "failed";
    public static final String COMPLETED = "completed";
    public static final String INCOMPLETE = "incomplete";
    public static final String EXPIRED = "expired";

    /** Statuses in which a run holds its thread's lock. */
    public static final Set<String> ACTIVE = Set.of(QUEUED, IN_PROGRESS, REQUIRES_ACTION, CANCELLING);

    @JsonProperty("object")
    public String object() {
        return "thread.run";
    }

    public boolean active() {
        return ACTIVE.contains(status);
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /** A copy to change: set the public fields, then {@link #build()}. */
    public static final class Builder {
        private final RunObject from;
        public String status;
        public Long startedAt;
        public Long expiresAt;
        public Long cancelledAt;
        public Long failedAt;
        public Long completedAt;
        public JsonNode requiredAction;
        public JsonNode lastError;
        public JsonNode incompleteDetails;
        public Usage usage;
        public Map<String, String> metadata;

        private Builder(RunObject r) {
            from = r;
            status = r.status;
            startedAt = r.startedAt;
            expiresAt = r.expiresAt;
            cancelledAt = r.cancelledAt;
            failedAt = r.failedAt;
            completedAt = r.completedAt;
            requiredAction = r.requiredAction;
            lastError = r.lastError;
            incompleteDetails = r.incompleteDetails;
            usage = r.usage;
            metadata = r.metadata;
        }

        public RunObject build() {
            RunObject r = from;
            return new RunObject(r.id, r.createdAt, r.assistantId, r.threadId, status, startedAt, expiresAt, cancelledAt,
                    failedAt, completedAt, requiredAction, lastError, r.model, r.instructions, r.tools, r.toolResources,
                    metadata, r.temperature, r.topP, r.reasoningEffort, r.maxCompletionTokens, r.maxPromptTokens,
                    r.truncationStrategy, incompleteDetails, usage, r.responseFormat, r.toolChoice, r.parallelToolCalls);
        }
    }
}
