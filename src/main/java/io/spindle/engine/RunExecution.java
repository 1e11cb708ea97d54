package io.spindle.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindle.api.ApiException;
import io.spindle.api.Ids;
import io.spindle.api.Json;
import io.spindle.api.MessageDeltaObject;
import io.spindle.api.MessageObject;
import io.spindle.api.MessageRequest;
import io.spindle.api.RunObject;
import io.spindle.api.RunStepObject;
import io.spindle.api.Usage;
import io.spindle.store.LeaseLostException;
import io.spindle.store.RunChange;
import io.spindle.store.LeaseQueue;
import io.spindle.upstream.Cancellation;
import io.spindle.upstream.ChatListener;
import io.spindle.upstream.ChatResult;
import io.spindle.upstream.Tokenizer;
import io.spindle.upstream.UpstreamException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Takes one claimed run to its next stop: one model call, recorded as steps and messages, ending
 * in {@code requires_action} or a final status. Every write is fenced by the claim's lease. A run
 * picked up again after a crash reuses its unfinished step and message, so nothing is duplicated.
 */
final class RunExecution implements Workers.Job {
    private static final Logger LOG = Logger.getLogger(RunExecution.class.getName());
    static final String CANCELLED = "cancelled";
    static final String EXPIRED = "expired";
    static final String SHUTDOWN = "shutdown";
    /** Largest text in one delta event; 1,000 characters stay under NOTIFY's 8 kB even as escaped UTF-8. */
    private static final int MAX_DELTA_CHARS = 1_000;

    private final RunEngine engine;
    private final LeaseQueue.Lease claim;
    private final Cancellation cancellation = new Cancellation();

    // The turn being executed: ids of the step and message it writes, reused after a crash.
    private RunObject run;
    private String messageId;
    private String messageStepId;
    private boolean messageDone;
    private String toolStepId;
    private boolean toolStepStarted;
    private final TreeMap<Integer, String> callIds = new TreeMap<>();
    private final StringBuilder text = new StringBuilder();
    /** The run was taken over from a node that had begun streaming its answer (see {@link #endStreamsOfInterruptedAnswer}). */
    private boolean interruptedAnswer;

    RunExecution(RunEngine engine, LeaseQueue.Lease claim) {
        this.engine = engine;
        this.claim = claim;
    }

    @Override
    public LeaseQueue.Lease lease() {
        return claim;
    }

    @Override
    public void stop(String reason) {
        cancellation.cancel(reason);
    }

    @Override
    public void run() {
        try {
            List<RunStepObject> steps = change(this::begin);
            if (steps != null) {
                if (interruptedAnswer) {
                    endStreamsOfInterruptedAnswer();
                }
                execute(steps);
            }
        } catch (LeaseLostException e) {
            LOG.fine(() -> "run " + claim.id() + " was taken over; stopping here");
        } catch (ApiException e) {
            LOG.fine(() -> "run " + claim.id() + " is gone: " + e.getMessage());
        } catch (Throwable e) {
            // an Error too (StackOverflowError, OutOfMemoryError, AssertionError, ...): the run must not stay in_progress
            LOG.log(Level.SEVERE, "run " + claim.id() + " failed inside Spindle", e);
            failQuietly("Sorry, something went wrong.");
        }
    }

    /** Moves the run to in_progress; returns its steps, or null when there is nothing to execute. */
    private List<RunStepObject> begin(RunChange change) {
        RunObject current = change.run();
        long now = engine.now();
        if (current.status().equals(RunObject.CANCELLING)) {
            RunEndings.cancelled(change, now);
            return null;
        }
        if (!current.status().equals(RunObject.QUEUED) && !current.status().equals(RunObject.IN_PROGRESS)) {
            change.releaseLease();
            return null;
        }
        if (current.expiresAt() != null && now >= current.expiresAt()) {
            RunEndings.expired(change, now);
            return null;
        }
        List<RunStepObject> steps = change.steps();
        long rounds = steps.stream().filter(s -> s.type().equals(RunStepObject.TOOL_CALLS) && !s.inProgress()).count();
        if (rounds >= engine.settings().maxToolRounds()) {
            RunEndings.failed(change, now, "server_error", "The run exceeded the limit of " + engine.settings().maxToolRounds()
                    + " function-call rounds (SPINDLE_MAX_TOOL_ROUNDS).");
            return null;
        }
        Usage used = usedSoFar(steps);
        if (current.maxCompletionTokens() != null && used.completionTokens() >= current.maxCompletionTokens()) {
            RunEndings.incomplete(change, now, "max_completion_tokens");
            return null;
        }
        boolean resumed = current.status().equals(RunObject.IN_PROGRESS);
        if (current.status().equals(RunObject.QUEUED)) {
            RunObject.Builder b = current.toBuilder();
            b.status = RunObject.IN_PROGRESS;
            b.startedAt = now;
            current = b.build();
            change.setRun(current);
        }
        RunStepObject previous = null;
        for (RunStepObject s : steps) {
            if (s.inProgress() && s.type().equals(RunStepObject.MESSAGE_CREATION)) {
                messageStepId = s.id();
                messageId = s.stepDetails().path("message_creation").path("message_id").asText();
            } else if (s.inProgress() && s.type().equals(RunStepObject.TOOL_CALLS)) {
                toolStepId = s.id();
                if (previous != null && previous.type().equals(RunStepObject.MESSAGE_CREATION)) {
                    // the text the interrupted answer wrote before its calls: the new answer rewrites it too
                    messageStepId = previous.id();
                    messageId = previous.stepDetails().path("message_creation").path("message_id").asText();
                }
            }
            previous = s;
        }
        interruptedAnswer = resumed && (messageStepId != null || toolStepId != null);
        run = current;
        return steps;
    }

    /**
     * The node that executed this run before stopped mid-answer, and its streams may have shown part of that answer.
     * This answer replaces it in the same message and step, which deltas cannot express (they only add): the run's
     * open streams, on every node, end here with an error; the run goes on.
     */
    private void endStreamsOfInterruptedAnswer() {
        engine.events().publish(claim.project(), run, RunEvents.error("The server executing this run stopped mid-answer; "
                + "another one took the run over and writes its answer again. Retrieve the run and its messages to follow it."));
    }

    private void execute(List<RunStepObject> steps) {
        Usage used = usedSoFar(steps);
        List<MessageObject> messages = engine.store().threadMessages(claim.project(), run.threadId());
        Prompt.Built prompt = Prompt.build(run, messages, steps, used, engine.contextTokens());
        if (prompt.overPromptBudget()) {
            change(c -> {
                RunEndings.incomplete(c, engine.now(), "max_prompt_tokens");
                return null;
            });
            return;
        }
        ScheduledFuture<?> deadline = run.expiresAt() == null ? null : engine.scheduler().schedule(
                () -> cancellation.cancel(EXPIRED), Math.max(0, run.expiresAt() * 1000 - engine.nowMillis()), TimeUnit.MILLISECONDS);
        ChatResult result;
        try {
            result = engine.chat().complete(prompt.body(), new TurnListener(), cancellation);
        } catch (UpstreamException e) {
            stopAfter(e);
            return;
        } finally {
            if (deadline != null) {
                deadline.cancel(false);
            }
        }
        Usage usage = result.usage() != null ? result.usage() : counted(prompt, result);
        change(c -> finishTurn(c, result, usage));
    }

    /** A model call that did not finish: cancelled, expired, handed back at shutdown, or failed. */
    private void stopAfter(UpstreamException e) {
        String reason = cancellation.reason();
        change(c -> {
            long now = engine.now();
            if (SHUTDOWN.equals(reason)) {
                c.releaseLease();
                return null;
            }
            keepPartialText(c);
            if (c.run().status().equals(RunObject.CANCELLING)) {
                RunEndings.cancelled(c, now);
            } else if (EXPIRED.equals(reason)) {
                RunEndings.expired(c, now);
            } else {
                LOG.warning("run " + claim.id() + " failed: " + e.forLog());
                RunEndings.failed(c, now, e.kind().code, e.getMessage());
            }
            return null;
        });
    }

    private Void finishTurn(RunChange c, ChatResult result, Usage usage) {
        long now = engine.now();
        if (c.run().status().equals(RunObject.CANCELLING)) {
            keepPartialText(c);
            RunEndings.cancelled(c, now);
            return null;
        }
        if (!result.toolCalls().isEmpty()) {
            endMessageBeforeCalls(c, now);
            ArrayNode calls = Json.array();
            ArrayNode required = Json.array();
            List<String> ids = new ArrayList<>(callIds.values());
            for (int i = 0; i < result.toolCalls().size(); i++) {
                ChatResult.ToolCall call = result.toolCalls().get(i);
                String id = i < ids.size() ? ids.get(i) : Ids.call();
                ObjectNode fn = calls.addObject().put("id", id).put("type", "function").putObject("function");
                fn.put("name", call.name()).put("arguments", call.arguments()).putNull("output");
                required.addObject().put("id", id).put("type", "function").putObject("function")
                        .put("name", call.name()).put("arguments", call.arguments());
            }
            RunStepObject step = toolStep(c, now).withDetails(toolDetails(calls));
            c.saveStep(step.withUsage(usage));
            RunObject.Builder b = c.run().toBuilder();
            b.status = RunObject.REQUIRES_ACTION;
            ObjectNode action = Json.object().put("type", "submit_tool_outputs");
            action.putObject("submit_tool_outputs").set("tool_calls", required);
            b.requiredAction = action;
            c.setRun(b.build());
            c.releaseLease();
            return null;
        }
        text.setLength(0);
        text.append(result.text());
        ensureMessage(c, now);
        if (toolStepId != null) {
            // calls begun by an answer interrupted by a crash; this answer has none
            c.deleteStep(toolStepId);
        }
        switch (result.finishReason()) {
            case "length" -> {
                completeMessage(c, now, "incomplete", Json.object().put("reason", "max_tokens"), usage);
                RunEndings.incomplete(c, now, "max_completion_tokens");
            }
            case "content_filter" -> {
                completeMessage(c, now, "incomplete", Json.object().put("reason", "content_filter"), usage);
                RunEndings.completed(c, now);
            }
            default -> {
                completeMessage(c, now, "completed", null, usage);
                RunEndings.completed(c, now);
            }
        }
        return null;
    }

    /** Creates the turn's message and its step when the first text arrives (or reuses a crashed turn's). */
    private void ensureMessage(RunChange c, long now) {
        if (messageId == null) {
            messageId = Ids.message();
            messageStepId = Ids.step();
        }
        if (c.steps().stream().noneMatch(s -> s.id().equals(messageStepId))) {
            ObjectNode details = Json.object().put("type", RunStepObject.MESSAGE_CREATION);
            details.putObject("message_creation").put("message_id", messageId);
            c.saveStep(newStep(messageStepId, RunStepObject.MESSAGE_CREATION, details, now));
            if (toolStepId != null) {
                // calls begun by an answer interrupted by a crash would now come before this text: made again if needed
                c.deleteStep(toolStepId);
                toolStepId = null;
            }
        }
        if (c.message(messageId).isEmpty()) {
            c.saveMessage(new MessageObject(messageId, now, run.assistantId(), run.threadId(), run.id(), "in_progress",
                    null, null, null, "assistant", Json.array(), Json.array(), Map.of()));
        }
    }

    /**
     * Function calls begin: the text so far completes the turn's message. A message without text can only be left
     * by an answer interrupted by a crash and replaced by this one: it is removed with its step.
     */
    private void endMessageBeforeCalls(RunChange c, long now) {
        if (messageId == null || messageDone) {
            return;
        }
        if (!text.isEmpty()) {
            completeMessage(c, now, "completed", null, Usage.ZERO);
            return;
        }
        c.deleteStep(messageStepId);
        c.deleteMessage(messageId);
        messageId = null;
        messageStepId = null;
        messageDone = true;
    }

    private void completeMessage(RunChange c, long now, String status, JsonNode incomplete, Usage usage) {
        MessageObject m = c.message(messageId).orElseThrow();
        c.saveMessage(m.withContent(textContent()).end(status, incomplete, now));
        c.steps().stream().filter(s -> s.id().equals(messageStepId)).findFirst()
                .ifPresent(s -> c.saveStep(s.finish("completed", now, null, usage)));
        messageDone = true;
    }

    /**
     * A turn that stops early keeps the text streamed so far in its message, which then ends
     * {@code incomplete} with the run: what a client accumulated from the deltas is what is stored.
     */
    private void keepPartialText(RunChange c) {
        if (messageId == null || messageDone || text.isEmpty()) {
            return;
        }
        c.message(messageId).filter(m -> m.status().equals("in_progress"))
                .ifPresent(m -> c.saveMessage(m.withContent(textContent())));
    }

    private ArrayNode textContent() {
        return Json.array().add(MessageRequest.textPart(text.toString()));
    }

    private RunStepObject toolStep(RunChange c, long now) {
        if (toolStepId == null) {
            toolStepId = Ids.step();
        }
        return c.steps().stream().filter(s -> s.id().equals(toolStepId)).findFirst()
                .orElseGet(() -> newStep(toolStepId, RunStepObject.TOOL_CALLS, toolDetails(Json.array()), now));
    }

    private RunStepObject newStep(String id, String type, JsonNode details, long now) {
        return new RunStepObject(id, now, run.id(), run.assistantId(), run.threadId(), type, "in_progress", null, null,
                run.expiresAt(), null, null, null, details, null);
    }

    private static ObjectNode toolDetails(ArrayNode calls) {
        ObjectNode details = Json.object().put("type", RunStepObject.TOOL_CALLS);
        details.set("tool_calls", calls);
        return details;
    }

    /**
     * Persists the turn's message and steps as the model's answer starts to arrive, and publishes
     * the answer's pieces as deltas (only after the object they belong to was announced).
     */
    private final class TurnListener implements ChatListener {
        @Override
        public void text(String delta) {
            if (messageDone) {
                return;
            }
            boolean first = text.isEmpty();
            if (first) {
                change(c -> {
                    ensureMessage(c, engine.now());
                    return null;
                });
            }
            text.append(delta);
            if (!engine.events().watched(claim.id())) {
                return;
            }
            for (String piece : pieces(delta)) {
                publish("thread.message.delta", MessageDeltaObject.text(messageId, piece, first));
                first = false;
            }
        }

        @Override
        public void toolCallStarted(int index, String name) {
            String callId = Ids.call();
            callIds.put(index, callId);
            if (!toolStepStarted) {
                toolStepStarted = true;
                change(c -> {
                    long now = engine.now();
                    endMessageBeforeCalls(c, now);
                    c.saveStep(toolStep(c, now));
                    return null;
                });
            }
            ObjectNode call = Json.object().put("index", index).put("id", callId).put("type", "function");
            call.putObject("function").put("name", name).put("arguments", "").putNull("output");
            publishStepDelta(call);
        }

        @Override
        public void toolCallArguments(int index, String delta) {
            for (String piece : pieces(delta)) {
                ObjectNode call = Json.object().put("index", index).put("type", "function");
                call.putObject("function").put("arguments", piece);
                publishStepDelta(call);
            }
        }

        /**
         * A delta cut into pieces of at most {@value #MAX_DELTA_CHARS} characters (never inside a
         * surrogate pair): an upstream that answers in one piece (or ignores streaming) still streams,
         * and every event fits in one notification between nodes.
         */
        private static List<String> pieces(String delta) {
            List<String> out = new ArrayList<>();
            int start = 0;
            while (start < delta.length()) {
                int end = Math.min(start + MAX_DELTA_CHARS, delta.length());
                if (end < delta.length() && Character.isHighSurrogate(delta.charAt(end - 1))) {
                    end--;
                }
                out.add(delta.substring(start, end));
                start = end;
            }
            return out;
        }

        private void publishStepDelta(ObjectNode call) {
            if (!engine.events().watched(claim.id())) {
                return;
            }
            ObjectNode event = Json.object().put("id", toolStepId).put("object", "thread.run.step.delta");
            ObjectNode details = event.putObject("delta").putObject("step_details").put("type", RunStepObject.TOOL_CALLS);
            details.putArray("tool_calls").add(call);
            publish("thread.run.step.delta", event);
        }

        private void publish(String name, Object data) {
            engine.events().delta(claim.project(), run, new RunEvents.Event(name, data));
        }
    }

    /** One change of the run, fenced by the lease; pending deltas go out first, so they never trail it. */
    private <T> T change(Function<RunChange, T> f) {
        engine.events().flushDeltas();
        return engine.change(claim.project(), claim.id(), claim.token(), f);
    }

    private void failQuietly(String message) {
        try {
            change(c -> {
                if (c.run().active()) {
                    RunEndings.failed(c, engine.now(), "server_error", message);
                }
                return null;
            });
        } catch (Throwable e) {
            // the run stays as it was: its lease is no longer renewed, so it is claimed again or expired
            LOG.log(Level.WARNING, "could not mark run " + claim.id() + " failed", e);
        }
    }

    private static Usage usedSoFar(List<RunStepObject> steps) {
        Usage used = Usage.ZERO;
        for (RunStepObject s : steps) {
            if (!s.inProgress()) {
                used = used.plus(s.usage());
            }
        }
        return used;
    }

    /** Usage from our own tokenizer, for upstreams that do not report it. */
    private Usage counted(Prompt.Built prompt, ChatResult result) {
        long completion = Tokenizer.count(run.model(), result.text());
        for (ChatResult.ToolCall call : result.toolCalls()) {
            completion += Tokenizer.count(run.model(), call.name()) + Tokenizer.count(run.model(), call.arguments());
        }
        return Usage.of(prompt.promptTokens(), completion, 0, 0);
    }
}
