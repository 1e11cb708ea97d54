package io.spindle.engine;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindle.api.ApiException;
import io.spindle.api.AssistantObject;
import io.spindle.api.Ids;
import io.spindle.api.MessageObject;
import io.spindle.api.MessageRequest;
import io.spindle.api.RunObject;
import io.spindle.api.RunRequest;
import io.spindle.api.RunStepObject;
import io.spindle.api.ThreadObject;
import io.spindle.api.ToolCall;
import io.spindle.store.NewVectorStore;
import io.spindle.store.RunChange;
import io.spindle.store.RunOrigin;
import io.spindle.store.Store;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * What clients do to runs: create (on a thread, or with a new thread), cancel, submit tool outputs,
 * change metadata. Each is one transaction; the engine is woken to pick up what became claimable.
 */
public final class Runs {
    private final Store store;
    private final RunEngine engine;
    private final FileSearchStores fileSearch;
    private final Duration expiry;
    private final InstantSource clock;

    public Runs(Store store, RunEngine engine, FileSearchStores fileSearch, Duration expiry, InstantSource clock) {
        this.store = store;
        this.engine = engine;
        this.fileSearch = fileSearch;
        this.expiry = expiry;
        this.clock = clock;
    }

    /**
     * A run that was just created or resumed: with {@code stream: true}, also the subscription to its
     * events, opened before anything could happen to the run (null otherwise).
     */
    public record Started(RunObject run, RunEvents.Subscription events) {}

    public Started create(String project, String threadId, RunRequest.Parsed request) {
        ThreadObject thread = store.thread(project, threadId).orElseThrow(() -> ApiException.notFound("thread", threadId));
        AssistantObject assistant = assistant(project, request.assistantId());
        long now = now();
        RunObject run = request.toRun(Ids.run(), thread.id(), assistant, now, now + expiry.toSeconds());
        engine.models().require(run.model());
        engine.tools().checkAvailable(run.tools());
        List<MessageObject> messages = messages(request.additionalMessages(), thread.id(), now);
        fileSearch.checkAttachments(project, messages, "additional_messages");
        Started started = start(project, request.stream(), run, () -> {
            store.insertRun(project, run, messages, origin(), streamNode(request.stream()));
            return Optional.empty();
        });
        fileSearch.queued(Optional.empty(), messages);
        return started;
    }

    /** A new thread and its first run; the stream begins with {@code thread.created}. */
    public Started createThreadAndRun(String project, RunRequest.Parsed request) {
        AssistantObject assistant = assistant(project, request.assistantId());
        long now = now();
        ThreadObject thread = request.thread().toThread(Ids.thread(), now);
        RunObject run = request.toRun(Ids.run(), thread.id(), assistant, now, now + expiry.toSeconds());
        engine.models().require(run.model());
        engine.tools().checkAvailable(run.tools());
        List<MessageObject> messages = messages(request.thread().messages(), thread.id(), now);
        Optional<NewVectorStore> newStore = fileSearch.forThread(project, request.thread().newStore(), now);
        fileSearch.checkAttachments(project, messages, "thread.messages");
        Started started = start(project, request.stream(), run, () ->
                Optional.of(store.insertThreadAndRun(project, thread, newStore, messages, run, origin(), streamNode(request.stream()))));
        fileSearch.queued(newStore, messages);
        return started;
    }

    /** The request creating a run, kept with it so that the run's spans join its trace (on whichever node executes it). */
    private RunOrigin origin() {
        return new RunOrigin(engine.tracing().traceParent(), OptionalLong.of(clock.millis()));
    }

    /** Writes the run ({@code insert} returns the thread it created, if any) and announces it. */
    private Started start(String project, boolean stream, RunObject run, Supplier<Optional<ThreadObject>> insert) {
        RunEvents.Subscription subscription = stream ? engine.subscribe(run.id(), true) : null;
        Optional<ThreadObject> newThread;
        try {
            newThread = insert.get();
        } catch (RuntimeException e) {
            if (subscription != null) {
                subscription.close();
            }
            throw e;
        }
        String streamNode = streamNode(stream);
        newThread.ifPresent(thread -> engine.events().publish(project, run, streamNode, new RunEvents.Event("thread.created", thread)));
        engine.events().publish(project, run, streamNode, new RunEvents.Event("thread.run.created", run));
        engine.events().publish(project, run, streamNode, new RunEvents.Event("thread.run.queued", run));
        engine.metrics().runCreated();
        engine.wake();
        return new Started(run, subscription);
    }

    /** Where a turn's events go: to this node when its client streams them, else nowhere. */
    private String streamNode(boolean stream) {
        return stream ? engine.node() : null;
    }

    public RunObject modify(String project, String threadId, String runId, Map<String, String> metadata) {
        return change(project, threadId, runId, c -> {
            RunObject.Builder b = c.run().toBuilder();
            b.metadata = metadata;
            c.setRun(b.build());
            return c.run();
        });
    }

    /**
     * Asks a run to stop: it answers {@code cancelling} at once; the engine ends it (cancelled, its
     * model call aborted) moments later.
     */
    public RunObject cancel(String project, String threadId, String runId) {
        RunObject run = change(project, threadId, runId, c -> {
            RunObject current = c.run();
            if (!current.active()) {
                return new ApiException(ApiException.Kind.INVALID_REQUEST,
                        "Cannot cancel run with status '" + current.status() + "'.", null, null);
            }
            if (!current.status().equals(RunObject.CANCELLING)) {
                RunObject.Builder b = current.toBuilder();
                b.status = RunObject.CANCELLING;
                b.requiredAction = null;
                c.setRun(b.build());
            }
            return c.run();
        });
        engine.cancelEverywhere(runId);
        engine.wake();
        return run;
    }

    /**
     * Takes the outputs of every pending function call at once. The run goes back to {@code queued}
     * and the waiting tool_calls step completes with the outputs filled in.
     */
    public Started submitToolOutputs(String project, String threadId, String runId, RunRequest.ToolOutputs outputs) {
        RunEvents.Subscription subscription = outputs.stream() ? engine.subscribe(runId, false) : null;
        RunObject run;
        try {
            run = acceptOutputs(project, threadId, runId, outputs);
        } catch (RuntimeException e) {
            if (subscription != null) {
                subscription.close();
            }
            throw e;
        }
        engine.wake();
        return new Started(run, subscription);
    }

    private RunObject acceptOutputs(String project, String threadId, String runId, RunRequest.ToolOutputs outputs) {
        return change(project, threadId, runId, c -> {
            RunObject current = c.run();
            long now = now();
            if (current.status().equals(RunObject.REQUIRES_ACTION) && current.expiresAt() != null && now >= current.expiresAt()) {
                RunEndings.expired(c, now);
                current = c.run();
            }
            if (!current.status().equals(RunObject.REQUIRES_ACTION)) {
                return new ApiException(ApiException.Kind.INVALID_REQUEST,
                        "Runs in status \"" + current.status() + "\" do not accept tool outputs.", null, null);
            }
            RunStepObject step = c.steps().stream()
                    .filter(s -> s.inProgress() && s.type().equals(RunStepObject.TOOL_CALLS)).reduce((a, b) -> b).orElseThrow();
            List<ToolCall> calls = ToolCall.parseAll(step.stepDetails().path("tool_calls"));
            List<String> expected = calls.stream().filter(call -> call instanceof ToolCall.Function && call.pending())
                    .map(ToolCall::id).toList();
            List<String> got = List.copyOf(outputs.outputs().keySet());
            if (!(got.containsAll(expected) && expected.containsAll(got))) {
                return new ApiException(ApiException.Kind.INVALID_REQUEST,
                        "Expected tool outputs for call_ids " + pythonList(expected) + ", got " + pythonList(got), null, null);
            }
            List<ToolCall> answered = calls.stream().<ToolCall>map(call -> call instanceof ToolCall.Function fn && fn.pending()
                    ? fn.withOutput(outputs.outputs().get(fn.id())) : call).toList();
            ObjectNode details = step.stepDetails().deepCopy();
            details.set("tool_calls", ToolCall.storedAll(answered));
            c.saveStep(step.withDetails(details).finish("completed", now, null, step.usage()));
            RunObject.Builder b = current.toBuilder();
            b.status = RunObject.QUEUED;
            b.requiredAction = null;
            c.setRun(b.build());
            c.streamTo(streamNode(outputs.stream()));
            return c.run();
        });
    }

    /**
     * One change of a run that must belong to the thread in the path; the change returns the run, or
     * the error to answer (returned rather than thrown, so that what it already wrote, such as an
     * expiry, is kept).
     */
    private RunObject change(String project, String threadId, String runId, Function<RunChange, Object> f) {
        Object result = engine.change(project, runId, null, c -> {
            if (!c.run().threadId().equals(threadId)) {
                return ApiException.notFound("run", runId);
            }
            return f.apply(c);
        });
        if (result instanceof ApiException e) {
            throw e;
        }
        return (RunObject) result;
    }

    private AssistantObject assistant(String project, String id) {
        return store.assistant(project, id).orElseThrow(() -> ApiException.notFound("assistant", id));
    }

    private static List<MessageObject> messages(List<MessageRequest.Parsed> parsed, String threadId, long now) {
        return parsed.stream().map(m -> m.toMessage(Ids.message(), threadId, now)).toList();
    }

    /** {@code ['a', 'b']}: the live API formatted call ids the way Python prints a list. */
    private static String pythonList(List<String> ids) {
        return "[" + String.join(", ", ids.stream().map(id -> "'" + id + "'").toList()) + "]";
    }

    private long now() {
        return clock.instant().getEpochSecond();
    }
}
