package io.spindle.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;

/**
 * {@code object: "thread.run.step"}. The live API sent {@code expires_at} (the run's deadline while it
 * is active); the spec requires {@code expired_at} and {@code metadata}. Spindle sends all three:
 * {@code expired_at} is when the step expired, {@code metadata} is always {@code {}}.
 */
@JsonPropertyOrder({"id", "object", "created_at", "run_id", "assistant_id", "thread_id", "type", "status", "cancelled_at",
        "completed_at", "expires_at", "expired_at", "failed_at", "last_error", "step_details", "usage", "metadata"})
public record RunStepObject(
        String id,
        long createdAt,
        String runId,
        String assistantId,
        String threadId,
        String type,
        String status,
        Long cancelledAt,
        Long completedAt,
        Long expiresAt,
        Long expiredAt,
        Long failedAt,
        JsonNode lastError,
        JsonNode stepDetails,
        Usage usage) {

    public static final String MESSAGE_CREATION = "message_creation";
    public static final String TOOL_CALLS = "tool_calls";

    @JsonProperty("object")
    public String object() {
        return "thread.run.step";
    }

    @JsonProperty("metadata")
    public Map<String, String> metadata() {
        return Map.of();
    }

    /**
     * The step as clients see it: a step keeps the usage of its model call from the start, but shows it only once
     * completed, as the live API did; its tool calls show their wire form, with file_search result content only when
     * the client asked for it ({@code include[]}).
     */
    public RunStepObject published(boolean includeResultContent) {
        Usage shownUsage = inProgress() ? null : usage;
        JsonNode details = stepDetails;
        if (TOOL_CALLS.equals(type)) {
            ArrayNode calls = Json.array();
            ToolCall.parseAll(stepDetails.path("tool_calls")).forEach(c -> calls.add(c.wire(includeResultContent)));
            ObjectNode shown = Json.object().put("type", TOOL_CALLS);
            shown.set("tool_calls", calls);
            details = shown;
        }
        return new RunStepObject(id, createdAt, runId, assistantId, threadId, type, status, cancelledAt, completedAt,
                expiresAt, expiredAt, failedAt, lastError, details, shownUsage);
    }

    public boolean inProgress() {
        return "in_progress".equals(status);
    }

    /**
     * The step in a final status; {@code at} fills the matching timestamp. It keeps showing the run's
     * deadline ({@code expires_at}) until the run itself ends, as the live API did.
     */
    public RunStepObject finish(String newStatus, long at, JsonNode error, Usage finalUsage) {
        return new RunStepObject(id, createdAt, runId, assistantId, threadId, type, newStatus,
                newStatus.equals("cancelled") ? Long.valueOf(at) : cancelledAt,
                newStatus.equals("completed") ? Long.valueOf(at) : completedAt,
                expiresAt,
                newStatus.equals("expired") ? Long.valueOf(at) : expiredAt,
                newStatus.equals("failed") ? Long.valueOf(at) : failedAt,
                error, stepDetails, finalUsage);
    }

    /** The step once its run has ended: it no longer shows the run's deadline. */
    public RunStepObject withoutDeadline() {
        return new RunStepObject(id, createdAt, runId, assistantId, threadId, type, status, cancelledAt, completedAt,
                null, expiredAt, failedAt, lastError, stepDetails, usage);
    }

    public RunStepObject withUsage(Usage newUsage) {
        return new RunStepObject(id, createdAt, runId, assistantId, threadId, type, status, cancelledAt, completedAt,
                expiresAt, expiredAt, failedAt, lastError, stepDetails, newUsage);
    }

    public RunStepObject withDetails(JsonNode details) {
        return new RunStepObject(id, createdAt, runId, assistantId, threadId, type, status, cancelledAt, completedAt,
                expiresAt, expiredAt, failedAt, lastError, details, usage);
    }
}
