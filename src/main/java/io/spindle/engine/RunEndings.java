package io.spindle.engine;

import com.fasterxml.jackson.databind.JsonNode;
import io.spindle.api.Json;
import io.spindle.api.RunObject;
import io.spindle.api.RunStepObject;
import io.spindle.api.Usage;
import io.spindle.store.RunChange;
import java.util.Map;

/**
 * The one way a run ends, whatever the reason: its unfinished steps and message end with it, its
 * usage becomes the sum of its steps', {@code expires_at} is cleared, and its lease is handed back.
 */
final class RunEndings {
    /** How an unfinished step and message end when the run ends with a given status. */
    private static final Map<String, String[]> LEFTOVERS = Map.of(
            RunObject.CANCELLED, new String[] {"cancelled", "run_cancelled"},
            RunObject.EXPIRED, new String[] {"expired", "run_expired"},
            RunObject.FAILED, new String[] {"failed", "run_failed"},
            RunObject.COMPLETED, new String[] {"completed", "run_failed"},
            RunObject.INCOMPLETE, new String[] {"completed", "max_tokens"});

    private RunEndings() {}

    static void completed(RunChange change, long now) {
        end(change, RunObject.COMPLETED, now, null, null);
    }

    static void cancelled(RunChange change, long now) {
        end(change, RunObject.CANCELLED, now, null, null);
    }

    static void expired(RunChange change, long now) {
        end(change, RunObject.EXPIRED, now, null, null);
    }

    static void failed(RunChange change, long now, String code, String message) {
        end(change, RunObject.FAILED, now, Json.object().put("code", code).put("message", message), null);
    }

    /** {@code reason}: {@code max_completion_tokens} or {@code max_prompt_tokens}. */
    static void incomplete(RunChange change, long now, String reason) {
        end(change, RunObject.INCOMPLETE, now, null, Json.object().put("reason", reason));
    }

    private static void end(RunChange change, String status, long now, JsonNode lastError, JsonNode incompleteDetails) {
        String[] leftover = LEFTOVERS.get(status);
        Usage total = Usage.ZERO;
        for (RunStepObject step : change.steps()) {
            RunStepObject ended = step;
            if (step.inProgress()) {
                if (step.type().equals(RunStepObject.MESSAGE_CREATION)) {
                    String messageId = step.stepDetails().path("message_creation").path("message_id").asText();
                    change.message(messageId).filter(m -> m.status().equals("in_progress"))
                            .ifPresent(m -> change.saveMessage(m.end("incomplete", Json.object().put("reason", leftover[1]), now)));
                }
                ended = step.finish(leftover[0], now, leftover[0].equals("failed") ? lastError : null, step.usage());
            }
            ended = ended.withoutDeadline();
            if (!ended.equals(step)) {
                change.saveStep(ended);
            }
            total = total.plus(ended.usage());
        }
        RunObject.Builder run = change.run().toBuilder();
        run.status = status;
        run.expiresAt = null;
        run.requiredAction = null;
        run.lastError = lastError;
        run.incompleteDetails = incompleteDetails;
        run.usage = total;
        switch (status) {
            case RunObject.COMPLETED -> run.completedAt = now;
            case RunObject.CANCELLED -> run.cancelledAt = now;
            case RunObject.FAILED -> run.failedAt = now;
            default -> { }
        }
        change.setRun(run.build());
        change.releaseLease();
    }

}
