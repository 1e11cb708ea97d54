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
import io.spindle.api.TextPieces;
import io.spindle.api.Usage;
import io.spindle.api.ToolCall;
import io.spindle.engine.tools.AnnotationStream;
import io.spindle.engine.tools.Annotator;
import io.spindle.engine.tools.ArgumentStream;
import io.spindle.engine.tools.BuiltInTool;
import io.spindle.engine.tools.BuiltInTools;
import io.spindle.engine.tools.ToolFailure;
import io.spindle.engine.tools.ToolRun;
import io.spindle.store.LeaseLostException;
import io.spindle.store.RunChange;
import io.spindle.store.LeaseQueue;
import io.spindle.store.RunOrigin;
import io.spindle.trace.Traced;
import io.spindle.trace.Tracing;
import io.spindle.trace.WorkContext;
import io.spindle.upstream.Cancellation;
import io.spindle.upstream.ChatListener;
import io.spindle.upstream.ChatResult;
import io.spindle.upstream.Tokenizer;
import io.spindle.upstream.UpstreamException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Takes one claimed run to its next stop: a loop of model turns, each recorded as steps and messages. A turn whose
 * calls are all built-in tools executes them here and the loop goes on; a turn with function calls ends in
 * {@code requires_action}; a turn with text only ends the run. Every write is fenced by the claim's lease. A run
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

    private RunObject run;
    /** Where the run came from: read for its trace, only when tracing. */
    private RunOrigin origin = RunOrigin.UNKNOWN;
    /** Whether this turn took the run out of the queue for the first time: its wait there is a span of the trace. */
    private boolean firstStart;
    private BuiltInTools.Offer offer;
    private Turn turn = new Turn();

    /** One model call and what it wrote: the ids of its step and message (reused after a crash), its text and calls. */
    private static final class Turn {
        /** Where this turn's events go ({@link RunChange#streamNode}). */
        String streamNode;
        String messageId;
        String messageStepId;
        boolean messageDone;
        String toolStepId;
        boolean toolStepStarted;
        final TreeMap<Integer, ToolCall> calls = new TreeMap<>();
        /** What streams show of each call's arguments as they arrive, by the upstream's index of the call. */
        final Map<Integer, ArgumentStream> arguments = new HashMap<>();
        final StringBuilder text = new StringBuilder();
        /** The run was taken over from a node that had begun streaming its answer (see {@link #endStreamsOfInterruptedAnswer}). */
        boolean interruptedAnswer;
        /** What the answer may refer to: results of the run's searches, files its code wrote. */
        Annotator annotator = Annotator.NOTHING;
        AnnotationStream annotations = new AnnotationStream(Annotator.NOTHING);
        /** The parts the answer's message shows before its text: figures of the calls since the run's last message. */
        List<ObjectNode> leadingParts = List.of();
        boolean textAnnounced;
        /** How many calls of each tool the run made in earlier turns. */
        Map<String, Integer> earlierCalls = Map.of();

        /** The position of a call among the run's calls of the same tool, given the calls of this turn before it. */
        int ordinal(String name, Collection<ToolCall> before) {
            return earlierCalls.getOrDefault(name, 0) + (int) before.stream().filter(c -> c.name().equals(name)).count();
        }
    }

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
        long claimedAt = engine.nowMillis();
        try (WorkContext.Binding work = WorkContext.bind(new WorkContext(null, claim.project(), null, claim.id()));
             Traced span = engine.tracing().run(() -> {
                 origin = engine.origin(claim.id());
                 return origin.traceParent();
             }, Map.of("spindle.run_id", claim.id(), "spindle.project", claim.project()))) {
            turns(claimedAt, span);
        }
    }

    /** The loop of turns, within the execution's span. */
    private void turns(long claimedAt, Traced span) {
        try {
            boolean again = true;
            while (again) {
                turn = new Turn();
                List<RunStepObject> steps = change(this::begin);
                if (steps == null) {
                    return;
                }
                if (firstStart) {
                    engine.tracing().past("run queued", () -> origin.queuedAtMillis().orElse(claimedAt), claimedAt);
                }
                span.attribute("spindle.thread_id", run.threadId());
                span.attribute("gen_ai.request.model", run.model());
                WorkContext.update(w -> w.withThread(run.threadId()));
                if (turn.interruptedAnswer) {
                    endStreamsOfInterruptedAnswer();
                }
                again = execute(steps);
            }
        } catch (LeaseLostException e) {
            LOG.fine(() -> "run " + claim.id() + " was taken over; stopping here");
        } catch (ApiException e) {
            LOG.fine(() -> "run " + claim.id() + " is gone: " + e.getMessage());
        } catch (Throwable e) {
            // an Error too (StackOverflowError, OutOfMemoryError, AssertionError, ...): the run must not stay in_progress
            LOG.log(Level.SEVERE, "run " + claim.id() + " failed inside Spindle", e);
            span.failed(e);
            failQuietly("Sorry, something went wrong.");
        }
    }

    /** Moves the run to in_progress; returns its steps, or null when there is nothing to execute. */
    private List<RunStepObject> begin(RunChange change) {
        RunObject current = change.run();
        turn.streamNode = change.streamNode();
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
                    + " tool-call rounds (SPINDLE_MAX_TOOL_ROUNDS).");
            return null;
        }
        Usage used = usedSoFar(steps);
        if (current.maxCompletionTokens() != null && used.completionTokens() >= current.maxCompletionTokens()) {
            RunEndings.incomplete(change, now, "max_completion_tokens");
            return null;
        }
        boolean resumed = current.status().equals(RunObject.IN_PROGRESS);
        firstStart = current.status().equals(RunObject.QUEUED) && current.startedAt() == null;
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
                turn.messageStepId = s.id();
                turn.messageId = s.stepDetails().path("message_creation").path("message_id").asText();
            } else if (s.inProgress() && s.type().equals(RunStepObject.TOOL_CALLS)) {
                turn.toolStepId = s.id();
                if (previous != null && previous.type().equals(RunStepObject.MESSAGE_CREATION)) {
                    // the text the interrupted answer wrote before its calls: the new answer rewrites it too
                    turn.messageStepId = previous.id();
                    turn.messageId = previous.stepDetails().path("message_creation").path("message_id").asText();
                }
            }
            previous = s;
        }
        turn.interruptedAnswer = resumed && (turn.messageStepId != null || turn.toolStepId != null);
        run = current;
        return steps;
    }

    /**
     * The node that executed this run before stopped mid-answer, and its streams may have shown part of that answer.
     * This answer replaces it in the same message and step, which deltas cannot express (they only add): the run's
     * open streams, on every node, end here with an error; the run goes on.
     */
    private void endStreamsOfInterruptedAnswer() {
        engine.events().publish(claim.project(), run, turn.streamNode, RunEvents.error("The server executing this run stopped mid-answer; "
                + "another one took the run over and writes its answer again. Retrieve the run and its messages to follow it."));
    }

    /** One model turn, and the built-in calls it made; true when the run goes on with another turn. */
    private boolean execute(List<RunStepObject> steps) {
        Usage used = usedSoFar(steps);
        List<MessageObject> messages = engine.store().threadMessages(claim.project(), run.threadId());
        offer = engine.tools().offer(claim.project(), run, messages);
        ImageSource images = engine.images().source(claim.project());
        Prompt.Built prompt = Prompt.build(run, offer, messages, steps, used, engine.contextTokens(run.model()), images);
        if (prompt.overPromptBudget()) {
            change(c -> {
                RunEndings.incomplete(c, engine.now(), "max_prompt_tokens");
                return null;
            });
            return false;
        }
        List<ToolCall> earlier = completedCalls(steps);
        turn.annotator = offer.annotator(earlier);
        turn.annotations = new AnnotationStream(turn.annotator);
        turn.leadingParts = partsSinceLastMessage(steps);
        turn.earlierCalls = callsByName(earlier);
        ScheduledFuture<?> deadline = run.expiresAt() == null ? null : engine.scheduler().schedule(
                () -> cancellation.cancel(EXPIRED), Math.max(0, run.expiresAt() * 1000 - engine.nowMillis()), TimeUnit.MILLISECONDS);
        try {
            ChatResult result;
            try (Traced call = engine.tracing().child("chat " + run.model(), Tracing.Kind.CLIENT,
                    Map.of("gen_ai.operation.name", "chat", "gen_ai.request.model", run.model()))) {
                try {
                    result = engine.chat().complete(prompt.body(), new TurnListener(), cancellation);
                } catch (UpstreamException e) {
                    call.failed(e);
                    publishText(turn.annotations.finish());
                    stopTurn(e);
                    return false;
                }
                if (result.usage() != null) {
                    call.attribute("gen_ai.usage.input_tokens", result.usage().promptTokens());
                    call.attribute("gen_ai.usage.output_tokens", result.usage().completionTokens());
                }
                call.attribute("gen_ai.response.finish_reasons", result.finishReason());
            }
            publishText(turn.annotations.finish());
            Usage usage = result.usage() != null ? result.usage() : counted(prompt, result);
            List<BuiltInCall> builtIn = change(c -> finishTurn(c, result, usage));
            return !builtIn.isEmpty() && executeBuiltIn(builtIn, usage);
        } finally {
            if (deadline != null) {
                deadline.cancel(false);
            }
        }
    }

    /**
     * A turn that did not finish: cancelled, expired, handed back at shutdown, or failed ({@code failure}, null when
     * the stop came from this node's cancellation alone).
     */
    private void stopTurn(UpstreamException failure) {
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
            } else if (failure != null) {
                LOG.warning("run " + claim.id() + " failed: " + failure.forLog());
                RunEndings.failed(c, now, failure.kind().code, failure.getMessage());
            } else {
                RunEndings.cancelled(c, now);
            }
            return null;
        });
    }

    /** A built-in call begun by the model, at {@code index} of its step's calls, with the tool and context that execute it. */
    private record BuiltInCall(int index, ToolCall begun, BuiltInTool tool, ToolRun context) {}

    /**
     * Records the turn: its text as a completed message, or its calls in a tool_calls step. Function calls alone stop
     * the run in {@code requires_action}; built-in calls are returned to be executed outside this transaction.
     */
    private List<BuiltInCall> finishTurn(RunChange c, ChatResult result, Usage usage) {
        long now = engine.now();
        if (c.run().status().equals(RunObject.CANCELLING)) {
            keepPartialText(c);
            RunEndings.cancelled(c, now);
            return List.of();
        }
        if (!result.toolCalls().isEmpty()) {
            endMessageBeforeCalls(c, now);
            List<ToolCall> calls = new ArrayList<>();
            List<BuiltInCall> builtIn = new ArrayList<>();
            // the calls as announced while streaming, in index order (upstreams do not all count from 0)
            List<ToolCall> streamed = new ArrayList<>(turn.calls.values());
            for (int i = 0; i < result.toolCalls().size(); i++) {
                ChatResult.ToolCall call = result.toolCalls().get(i);
                String id = i < streamed.size() ? streamed.get(i).id() : Ids.call();
                var offered = offer.forName(call.name());
                if (offered.isPresent()) {
                    ToolRun context = new ToolRun(claim.project(), run, turn.ordinal(call.name(), calls), cancellation);
                    ToolCall begun = offered.get().tool().begin(id, call.arguments(), offered.get().entry(), context);
                    builtIn.add(new BuiltInCall(i, begun, offered.get().tool(), context));
                    calls.add(begun);
                } else {
                    calls.add(new ToolCall.Function(id, call.name(), call.arguments(), null));
                }
            }
            c.saveStep(toolStep(c, now).withDetails(toolDetails(calls)).withUsage(usage));
            if (builtIn.isEmpty()) {
                requireAction(c, calls);
            }
            return builtIn;
        }
        turn.text.setLength(0);
        turn.text.append(result.text());
        ensureMessage(c, now);
        if (turn.toolStepId != null) {
            // calls begun by an answer interrupted by a crash; this answer has none
            c.deleteStep(turn.toolStepId);
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
        return List.of();
    }

    /** The run waits for the outputs of its pending function calls; the lease goes back. */
    private static void requireAction(RunChange c, List<ToolCall> calls) {
        ArrayNode required = Json.array();
        for (ToolCall call : calls) {
            if (call instanceof ToolCall.Function fn && fn.pending()) {
                required.add(fn.required());
            }
        }
        RunObject.Builder b = c.run().toBuilder();
        b.status = RunObject.REQUIRES_ACTION;
        ObjectNode action = Json.object().put("type", "submit_tool_outputs");
        action.putObject("submit_tool_outputs").set("tool_calls", required);
        b.requiredAction = action;
        c.setRun(b.build());
        c.releaseLease();
    }

    /**
     * Executes the turn's built-in calls, outside any transaction, then records their results: the step completes and
     * the run goes on (true), or, when the turn also called functions, the run waits for their outputs.
     */
    private boolean executeBuiltIn(List<BuiltInCall> builtIn, Usage usage) {
        List<ToolCall> done = new ArrayList<>();
        for (BuiltInCall call : builtIn) {
            if (cancellation.isCancelled()) {
                stopTurn(null);
                return false;
            }
            try (Traced span = engine.tracing().child("execute_tool " + call.tool().type(), Tracing.Kind.INTERNAL,
                    Map.of("gen_ai.operation.name", "execute_tool", "gen_ai.tool.name", call.tool().type(),
                            "gen_ai.tool.call.id", call.begun().id()))) {
                ToolCall executed = executeTool(call, span);
                done.add(executed);
                executed.resultDeltas(call.index(), MAX_DELTA_CHARS).forEach(this::publishStepDelta);
            } catch (ToolFailure f) {
                LOG.fine(() -> "run " + claim.id() + ": " + call.tool().type() + " failed: " + f.getMessage());
                change(c -> {
                    if (c.run().active()) {
                        RunEndings.failed(c, engine.now(), f.code(), f.getMessage());
                    }
                    return null;
                });
                return false;
            }
        }
        if (cancellation.isCancelled()) {
            stopTurn(null);
            return false;
        }
        return change(c -> recordBuiltIn(c, done, usage));
    }

    /** One built-in call; its span records a failure. */
    private static ToolCall executeTool(BuiltInCall call, Traced span) {
        try {
            return call.tool().execute(call.begun(), call.context());
        } catch (RuntimeException e) {
            span.failed(e);
            throw e;
        }
    }

    private boolean recordBuiltIn(RunChange c, List<ToolCall> done, Usage usage) {
        long now = engine.now();
        if (c.run().status().equals(RunObject.CANCELLING)) {
            RunEndings.cancelled(c, now);
            return false;
        }
        RunStepObject step = c.steps().stream().filter(s -> s.id().equals(turn.toolStepId)).findFirst().orElseThrow();
        List<ToolCall> calls = new ArrayList<>();
        for (ToolCall call : ToolCall.parseAll(step.stepDetails().path("tool_calls"))) {
            calls.add(done.stream().filter(d -> d.id().equals(call.id())).findFirst().orElse(call));
        }
        RunStepObject filled = step.withDetails(toolDetails(calls));
        if (calls.stream().anyMatch(ToolCall::pending)) {
            c.saveStep(filled);
            requireAction(c, calls);
            return false;
        }
        c.saveStep(filled.finish("completed", now, null, usage));
        return true;
    }

    /** Creates the turn's message and its step when the first text arrives (or reuses a crashed turn's). */
    private void ensureMessage(RunChange c, long now) {
        boolean fresh = turn.messageId == null;
        if (fresh) {
            turn.messageId = Ids.message();
            turn.messageStepId = Ids.step();
        }
        if (fresh || c.steps().stream().noneMatch(s -> s.id().equals(turn.messageStepId))) {
            ObjectNode details = Json.object().put("type", RunStepObject.MESSAGE_CREATION);
            details.putObject("message_creation").put("message_id", turn.messageId);
            c.saveNewStep(newStep(turn.messageStepId, RunStepObject.MESSAGE_CREATION, details, now));
            if (turn.toolStepId != null) {
                // calls begun by an answer interrupted by a crash would now come before this text: made again if needed
                c.deleteStep(turn.toolStepId);
                turn.toolStepId = null;
            }
        }
        if (fresh || c.message(turn.messageId).isEmpty()) {
            c.saveNewMessage(new MessageObject(turn.messageId, now, run.assistantId(), run.threadId(), run.id(), "in_progress",
                    null, null, null, "assistant", Json.array(), Json.array(), Map.of()));
        }
    }

    /**
     * Tool calls begin: the text so far completes the turn's message. A message without text can only be left
     * by an answer interrupted by a crash and replaced by this one: it is removed with its step.
     */
    private void endMessageBeforeCalls(RunChange c, long now) {
        if (turn.messageId == null || turn.messageDone) {
            return;
        }
        if (!turn.text.isEmpty()) {
            completeMessage(c, now, "completed", null, Usage.ZERO);
            return;
        }
        c.deleteStep(turn.messageStepId);
        c.deleteMessage(turn.messageId);
        turn.messageId = null;
        turn.messageStepId = null;
        turn.messageDone = true;
    }

    private void completeMessage(RunChange c, long now, String status, JsonNode incomplete, Usage usage) {
        MessageObject m = c.message(turn.messageId).orElseThrow();
        c.saveMessage(m.withContent(textContent()).end(status, incomplete, now));
        c.steps().stream().filter(s -> s.id().equals(turn.messageStepId)).findFirst()
                .ifPresent(s -> c.saveStep(s.finish("completed", now, null, usage)));
        turn.messageDone = true;
    }

    /**
     * A turn that stops early keeps the text streamed so far in its message, which then ends
     * {@code incomplete} with the run: what a client accumulated from the deltas is what is stored.
     */
    private void keepPartialText(RunChange c) {
        if (turn.messageId == null || turn.messageDone || turn.text.isEmpty()) {
            return;
        }
        c.message(turn.messageId).filter(m -> m.status().equals("in_progress"))
                .ifPresent(m -> c.saveMessage(m.withContent(textContent())));
    }

    /**
     * The message's content: the figures shown since the run's last message, then the text part, annotated where it
     * cites a search result or links a file the run's code wrote.
     */
    private ArrayNode textContent() {
        String value = turn.text.toString();
        ObjectNode part = MessageRequest.textPart(value);
        ArrayNode annotations = (ArrayNode) part.path("text").path("annotations");
        AnnotationStream.annotations(value, turn.annotator).forEach(a -> annotations.add(a.json()));
        ArrayNode content = Json.array();
        turn.leadingParts.forEach(content::add);
        return content.add(part);
    }

    private RunStepObject toolStep(RunChange c, long now) {
        if (turn.toolStepId == null) {
            turn.toolStepId = Ids.step();
        }
        return c.steps().stream().filter(s -> s.id().equals(turn.toolStepId)).findFirst()
                .orElseGet(() -> newStep(turn.toolStepId, RunStepObject.TOOL_CALLS, toolDetails(List.of()), now));
    }

    private RunStepObject newStep(String id, String type, JsonNode details, long now) {
        return new RunStepObject(id, now, run.id(), run.assistantId(), run.threadId(), type, "in_progress", null, null,
                run.expiresAt(), null, null, null, details, null);
    }

    private static ObjectNode toolDetails(List<ToolCall> calls) {
        ObjectNode details = Json.object().put("type", RunStepObject.TOOL_CALLS);
        details.set("tool_calls", ToolCall.storedAll(calls));
        return details;
    }

    /**
     * The parts the run's calls add to its next message (figures, as {@code image_file} parts) since the last message
     * it completed.
     */
    private static List<ObjectNode> partsSinceLastMessage(List<RunStepObject> steps) {
        List<ObjectNode> parts = new ArrayList<>();
        for (RunStepObject s : steps) {
            if (s.inProgress()) {
                continue;
            }
            if (s.type().equals(RunStepObject.MESSAGE_CREATION)) {
                parts.clear();
            } else {
                ToolCall.parseAll(s.stepDetails().path("tool_calls")).forEach(call -> parts.addAll(call.answerParts()));
            }
        }
        return List.copyOf(parts);
    }

    private static Map<String, Integer> callsByName(List<ToolCall> calls) {
        Map<String, Integer> out = new HashMap<>();
        calls.forEach(call -> out.merge(call.name(), 1, Integer::sum));
        return out;
    }

    private static List<ToolCall> completedCalls(List<RunStepObject> steps) {
        List<ToolCall> out = new ArrayList<>();
        for (RunStepObject s : steps) {
            if (s.type().equals(RunStepObject.TOOL_CALLS) && !s.inProgress()) {
                out.addAll(ToolCall.parseAll(s.stepDetails().path("tool_calls")));
            }
        }
        return out;
    }

    /**
     * Publishes answer text as message deltas: a reference (citation marker, sandbox link) comes whole, with its
     * annotation. The first text of the message comes after the figures that lead it.
     */
    private void publishText(List<AnnotationStream.Piece> pieces) {
        if (turn.messageId == null || pieces.isEmpty() || !engine.events().watched(claim.id(), turn.streamNode)) {
            return;
        }
        int index = turn.leadingParts.size();
        if (!turn.textAnnounced) {
            for (int i = 0; i < index; i++) {
                String fileId = turn.leadingParts.get(i).path("image_file").path("file_id").asText();
                publishDelta(MessageDeltaObject.imageFile(turn.messageId, i, fileId));
            }
        }
        for (AnnotationStream.Piece piece : pieces) {
            if (!piece.annotations().isEmpty()) {
                List<Object> annotations = new ArrayList<>();
                for (int i = 0; i < piece.annotations().size(); i++) {
                    annotations.add(piece.annotations().get(i).delta(piece.firstIndex() + i));
                }
                publishDelta(MessageDeltaObject.text(turn.messageId, index, piece.text(), annotations));
                turn.textAnnounced = true;
                continue;
            }
            for (String part : pieces(piece.text())) {
                publishDelta(MessageDeltaObject.text(turn.messageId, index, part, turn.textAnnounced ? null : List.of()));
                turn.textAnnounced = true;
            }
        }
    }

    private void publishDelta(MessageDeltaObject delta) {
        engine.events().delta(claim.project(), run, turn.streamNode, new RunEvents.Event("thread.message.delta", delta));
    }

    /**
     * A delta cut into pieces of at most {@value #MAX_DELTA_CHARS} characters (never inside a
     * surrogate pair): an upstream that answers in one piece (or ignores streaming) still streams,
     * and every event fits in one notification between nodes.
     */
    private static List<String> pieces(String delta) {
        return TextPieces.cut(delta, MAX_DELTA_CHARS);
    }

    /**
     * Persists the turn's message and steps as the model's answer starts to arrive, and publishes
     * the answer's pieces as deltas (only after the object they belong to was announced).
     */
    private final class TurnListener implements ChatListener {
        @Override
        public void text(String delta) {
            if (turn.messageDone) {
                return;
            }
            if (turn.text.isEmpty()) {
                change(c -> {
                    ensureMessage(c, engine.now());
                    return null;
                });
            }
            turn.text.append(delta);
            publishText(turn.annotations.feed(delta));
        }

        @Override
        public void toolCallStarted(int index, String name) {
            String callId = Ids.call();
            var offered = offer.forName(name);
            ToolCall call = offered
                    .map(o -> o.tool().begin(callId, "", o.entry(),
                            new ToolRun(claim.project(), run, turn.ordinal(name, turn.calls.headMap(index).values()), cancellation)))
                    .orElseGet(() -> new ToolCall.Function(callId, name, "", null));
            // the call's position in the step, which streams show (upstreams do not all count from 0)
            int position = turn.calls.headMap(index).size();
            turn.calls.put(index, call);
            turn.arguments.put(index, offered.map(o -> o.tool().argumentStream(position))
                    .orElseGet(() -> piece -> List.of(ToolCall.Function.argumentsDelta(position, piece))));
            if (!turn.toolStepStarted) {
                turn.toolStepStarted = true;
                change(c -> {
                    long now = engine.now();
                    endMessageBeforeCalls(c, now);
                    c.saveStep(toolStep(c, now));
                    return null;
                });
            }
            publishStepDelta(call.startDelta(position));
        }

        @Override
        public void toolCallArguments(int index, String delta) {
            ArgumentStream stream = turn.arguments.getOrDefault(index, ArgumentStream.none());
            for (String piece : pieces(delta)) {
                stream.feed(piece).forEach(RunExecution.this::publishStepDelta);
            }
        }
    }

    /** Publishes one tool call's delta of the turn's tool_calls step. */
    private void publishStepDelta(ObjectNode call) {
        if (!engine.events().watched(claim.id(), turn.streamNode)) {
            return;
        }
        ObjectNode event = Json.object().put("id", turn.toolStepId).put("object", "thread.run.step.delta");
        ObjectNode details = event.putObject("delta").putObject("step_details").put("type", RunStepObject.TOOL_CALLS);
        details.putArray("tool_calls").add(call);
        engine.events().delta(claim.project(), run, turn.streamNode, new RunEvents.Event("thread.run.step.delta", event));
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
