package io.spindle.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindle.api.Json;
import io.spindle.api.MessageDeltaObject;
import io.spindle.api.MessageObject;
import io.spindle.api.RunObject;
import io.spindle.api.RunStepObject;
import io.spindle.store.Database;
import io.spindle.store.Notifications;
import io.spindle.store.RunChange;
import io.spindle.store.Store;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The stream of a run's events, as the Assistants API names them ({@code thread.run.in_progress},
 * {@code thread.message.delta}, ...). State events are derived from each committed {@link RunChange};
 * deltas come straight from the model call. Subscribers read from a bounded queue of their own, so
 * a slow reader never slows the run: its text deltas join into larger ones, and a reader that still
 * falls {@value #BUFFERED_EVENTS} events behind is cut off with an error event.
 *
 * <p>On one node, events go straight to the subscribers. With several nodes on PostgreSQL
 * ({@code cluster} set), every event travels through NOTIFY, even to this node's own subscribers:
 * state events are sent inside the transaction of their change, so every node receives all events
 * of a run in commit order, whichever node made them. An event too large for a notification is sent
 * as a reference and read back from the database.
 */
public final class RunEvents {
    private static final Logger LOG = Logger.getLogger(RunEvents.class.getName());
    static final int BUFFERED_EVENTS = 10_000;
    /** A text delta stops taking in later ones at this length. */
    private static final int MERGED_TEXT_CHARS = 8_192;
    static final String CHANNEL = "spindle_run_events";

    private static final int BATCH_BYTES = 6_000;
    private static final long BATCH_MILLIS = 10;

    private final Notifications cluster;
    private final Store store;
    private final ScheduledExecutorService timer;
    /** A delta waiting to be sent to the other nodes, with its length as sent. */
    private record PendingDelta(ObjectNode item, int length) {}

    private final List<PendingDelta> pendingDeltas = new ArrayList<>();
    private int pendingBytes;
    private ScheduledFuture<?> scheduledFlush;

    /** @param cluster null on a single node */
    RunEvents(Notifications cluster, Store store, ScheduledExecutorService timer) {
        this.cluster = cluster;
        this.store = store;
        this.timer = timer;
        if (cluster != null) {
            cluster.on(CHANNEL, this::received);
            // Events sent while this node could not listen are lost: its open streams end rather than skip some.
            cluster.onGap(() -> endAll("This Spindle node lost its connection to the database for a moment; "
                    + "the run goes on. Retrieve the run to follow it."));
        }
    }

    /** One event: its name and its data object (a record or a JSON node). */
    public record Event(String name, Object data) {}

    /** Events that end a stream: the run stopped, or waits for tool outputs, or its stream cannot go on ({@code error}). */
    private static final Set<String> LAST = Set.of("thread.run.requires_action", "thread.run.completed",
            "thread.run.incomplete", "thread.run.failed", "thread.run.cancelled", "thread.run.expired", "error");

    private final Map<String, List<Subscription>> subscribers = new ConcurrentHashMap<>();

    /**
     * Starts listening to a run's events; call before the action whose events the caller wants.
     *
     * <p>Between nodes, a run that already had events (tool outputs submitted) may still have some of its earlier ones
     * on their way to this node: they were committed before this call, yet arrive after it. So the subscription first
     * sends a marker through the same channel and takes events only once the marker came back: notifications arrive
     * in commit order, so whatever comes after the marker was committed after it.
     */
    public Subscription subscribe(String runId, boolean fromCreation) {
        Subscription s = new Subscription(runId, fromCreation);
        if (cluster != null && !fromCreation) {
            s.awaitedMarker = UUID.randomUUID().toString();
        }
        subscribers.compute(runId, (id, list) -> {
            List<Subscription> l = list != null ? list : new CopyOnWriteArrayList<>();
            l.add(s);
            return l;
        });
        if (s.awaitedMarker != null) {
            cluster.send(CHANNEL, Json.object().put("run", runId).put("marker", s.awaitedMarker).toString());
        }
        return s;
    }

    /** True for the event after which a stream ends. */
    public static boolean endsStream(Event event) {
        return LAST.contains(event.name());
    }

    /** How many subscriptions (open event streams) this node serves now. */
    int openStreams() {
        return subscribers.values().stream().mapToInt(List::size).sum();
    }

    /** True when someone may read this run's events (so building a delta is worth it). */
    boolean watched(String runId) {
        return cluster != null || subscribers.containsKey(runId);
    }

    /** Publishes an event that is not part of a change (a run's creation, a delta). */
    void publish(String project, RunObject run, Event event) {
        if (cluster != null) {
            cluster.send(CHANNEL, payload(project, run.threadId(), run.id(), event));
        } else {
            deliver(run.id(), event);
        }
    }

    /**
     * Publishes a delta. With several nodes, deltas of all runs of this node are gathered for a few
     * milliseconds and sent as one notification, rather than one database round trip per token.
     */
    void delta(String project, RunObject run, Event event) {
        if (cluster == null) {
            deliver(run.id(), event);
            return;
        }
        ObjectNode item = Json.object().put("project", project).put("thread", run.threadId()).put("run", run.id())
                .put("name", event.name());
        item.set("data", Json.tree(event.data()));
        PendingDelta pending = new PendingDelta(item, item.toString().length());
        synchronized (pendingDeltas) {
            pendingDeltas.add(pending);
            pendingBytes += pending.length();
            if (pendingBytes >= BATCH_BYTES) {
                flushDeltas();
            } else if (scheduledFlush == null) {
                scheduledFlush = timer.schedule(this::flushInBackground, BATCH_MILLIS, TimeUnit.MILLISECONDS);
            }
        }
    }

    /**
     * The timer's flush, on a thread of its own that waits for a database connection as a run does: the timer must
     * not block on a busy pool, and deltas must not be dropped for one.
     */
    private void flushInBackground() {
        Thread.ofVirtual().name("stream-deltas").start(() -> {
            try {
                Database.patiently(this::flushDeltas);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "sending stream deltas to the other nodes failed", e);
            }
        });
    }

    /**
     * Sends the gathered deltas. An executor calls this before each change of its run, and the lock
     * is held while sending, so a run's deltas never trail the events of its next change.
     */
    void flushDeltas() {
        if (cluster == null) {
            return;
        }
        synchronized (pendingDeltas) {
            if (scheduledFlush != null) {
                scheduledFlush.cancel(false);
                scheduledFlush = null;
            }
            if (pendingDeltas.isEmpty()) {
                return;
            }
            ObjectNode batch = Json.object();
            var items = batch.putArray("batch");
            int bytes = 0;
            for (PendingDelta pending : pendingDeltas) {
                if (bytes + pending.length() > Notifications.MAX_PAYLOAD_BYTES && !items.isEmpty()) {
                    cluster.send(CHANNEL, batch.toString());
                    items.removeAll();
                    bytes = 0;
                }
                items.add(pending.item());
                bytes += pending.length();
            }
            cluster.send(CHANNEL, batch.toString());
            pendingDeltas.clear();
            pendingBytes = 0;
        }
    }

    /** Called inside a change's transaction, before it commits. */
    void changing(RunChange change) {
        if (cluster == null) {
            return;
        }
        RunObject run = change.runBefore();
        for (Event e : eventsOf(change)) {
            Notifications.sendWith(change, CHANNEL, payload(change.project(), run.threadId(), run.id(), e));
        }
    }

    /** Called once a change committed. */
    void changed(RunChange change) {
        if (cluster == null && change != null && subscribers.containsKey(change.runBefore().id())) {
            eventsOf(change).forEach(e -> deliver(change.runBefore().id(), e));
        }
    }

    /** Ends every open stream of this node with an error event (the node is shutting down; runs go on elsewhere). */
    void endAll(String message) {
        Event error = error(message);
        subscribers.values().forEach(list -> list.forEach(s -> s.offer(error)));
    }

    /** An {@code error} event, which ends the streams that receive it; the run itself goes on. */
    static Event error(String message) {
        ObjectNode body = Json.object();
        body.putObject("error").put("message", message).put("type", "server_error").putNull("param").putNull("code");
        return new Event("error", body);
    }

    private void deliver(String runId, Event event) {
        List<Subscription> list = subscribers.get(runId);
        if (list != null) {
            for (Subscription s : list) {
                s.offer(event);
            }
        }
    }

    /** What a change did, in the order it did it. */
    private static List<Event> eventsOf(RunChange change) {
        List<Event> out = new ArrayList<>();
        for (RunChange.Saved saved : change.journal()) {
            out.addAll(eventsOf(saved.before(), saved.after()));
        }
        return out;
    }

    /** {@code {"project","thread","run","name","data"}}, or a reference instead of {@code data} when too large. */
    private static String payload(String project, String threadId, String runId, Event event) {
        ObjectNode p = Json.object().put("project", project).put("thread", threadId).put("run", runId).put("name", event.name());
        JsonNode data = Json.tree(event.data());
        p.set("data", data);
        String full = p.toString();
        if (full.getBytes(StandardCharsets.UTF_8).length <= Notifications.MAX_PAYLOAD_BYTES) {
            return full;
        }
        p.remove("data");
        return p.put("ref", data.path("object").asText()).put("id", data.path("id").asText()).toString();
    }

    /** A notification from any node (this one included). */
    private void received(String text) {
        JsonNode p = Json.read(text, JsonNode.class);
        if (p.has("batch")) {
            for (JsonNode item : p.get("batch")) {
                String run = item.path("run").asText();
                if (subscribers.containsKey(run)) {
                    deliver(run, deltaEvent(item.path("name").asText(), item.get("data")));
                }
            }
            return;
        }
        String runId = p.path("run").asText();
        if (!subscribers.containsKey(runId)) {
            return;
        }
        if (p.has("marker")) {
            subscribers.getOrDefault(runId, List.of()).forEach(s -> s.markerArrived(p.path("marker").asText()));
            return;
        }
        Object data = p.has("data") ? p.get("data") : load(p);
        if (data != null) {
            deliver(runId, new Event(p.path("name").asText(), data));
        }
    }

    private static Event deltaEvent(String name, JsonNode data) {
        return name.equals("thread.message.delta")
                ? new Event(name, Json.MAPPER.convertValue(data, MessageDeltaObject.class))
                : new Event(name, data);
    }

    private Object load(JsonNode ref) {
        String project = ref.path("project").asText();
        String thread = ref.path("thread").asText();
        String id = ref.path("id").asText();
        return switch (ref.path("ref").asText()) {
            case "thread.run" -> store.run(project, thread, id).orElse(null);
            case "thread.run.step" -> store.step(project, thread, ref.path("run").asText(), id).map(s -> s.published(true)).orElse(null);
            case "thread.message" -> store.message(project, thread, id).orElse(null);
            case "thread" -> store.thread(project, id).orElse(null);
            default -> null;
        };
    }

    private static List<Event> eventsOf(Object before, Object after) {
        List<Event> out = new ArrayList<>();
        switch (after) {
            case RunObject run -> {
                if (before == null || !((RunObject) before).status().equals(run.status())) {
                    out.add(new Event("thread.run." + run.status(), run));
                }
            }
            case RunStepObject step -> {
                RunStepObject shown = step.published(true);
                if (before == null) {
                    out.add(new Event("thread.run.step.created", shown));
                    if (step.inProgress()) {
                        out.add(new Event("thread.run.step.in_progress", shown));
                    }
                } else if (!((RunStepObject) before).status().equals(step.status())) {
                    out.add(new Event("thread.run.step." + step.status(), shown));
                }
            }
            case MessageObject message -> {
                if (before == null) {
                    out.add(new Event("thread.message.created", message));
                    out.add(new Event("thread.message.in_progress", message));
                } else if (!((MessageObject) before).status().equals(message.status())) {
                    out.add(new Event("thread.message." + message.status(), message));
                }
            }
            default -> { }
        }
        return out;
    }

    /** One reader of one run's events. */
    public final class Subscription implements AutoCloseable {
        private final String runId;
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition arrived = lock.newCondition();
        private final ArrayDeque<Event> queue = new ArrayDeque<>();
        private final List<Event> early = new ArrayList<>();
        private boolean created;
        private boolean overflowed;
        /** The marker this subscription waits for before it takes events (see {@link #subscribe}); null once it came. */
        private volatile String awaitedMarker;

        private Subscription(String runId, boolean fromCreation) {
            this.runId = runId;
            this.created = !fromCreation;
        }

        /**
         * A new run's executor may publish before its creator announced {@code thread.run.created}
         * and {@code thread.run.queued}; such events wait here until it has.
         */
        private void markerArrived(String marker) {
            if (marker.equals(awaitedMarker)) {
                awaitedMarker = null;
            }
        }

        private void offer(Event event) {
            if (awaitedMarker != null && !event.name().equals("error")) {
                return; // committed before this subscription began
            }
            lock.lock();
            try {
                if (!created && !event.name().equals("error")) {
                    switch (event.name()) {
                        case "thread.created", "thread.run.created" -> enqueue(event);
                        case "thread.run.queued" -> {
                            created = true;
                            enqueue(event);
                            early.forEach(this::enqueue);
                            early.clear();
                        }
                        default -> early.add(event);
                    }
                    return;
                }
                enqueue(event);
            } finally {
                lock.unlock();
            }
        }

        /**
         * With the lock held. A text delta that arrives while the reader has not yet taken the one
         * before it joins that one: a reader that falls behind gets fewer, larger deltas, and the
         * queue holds the text, not an event per token.
         */
        private void enqueue(Event event) {
            Event last = queue.peekLast();
            if (last != null && last.data() instanceof MessageDeltaObject earlier && event.data() instanceof MessageDeltaObject later
                    && earlier.joins(later) && earlier.value().length() < MERGED_TEXT_CHARS) {
                queue.pollLast();
                queue.addLast(new Event(event.name(), earlier.followedBy(later)));
            } else if (queue.size() < BUFFERED_EVENTS) {
                queue.addLast(event);
            } else {
                overflowed = true;
            }
            arrived.signal();
        }

        /**
         * All events that arrived since the last call, waiting up to {@code timeoutMillis} for the
         * first (empty when none came); throws when the reader fell too far behind.
         */
        public List<Event> next(long timeoutMillis) throws InterruptedException {
            lock.lock();
            try {
                long nanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
                while (queue.isEmpty() && !overflowed && nanos > 0) {
                    nanos = arrived.awaitNanos(nanos);
                }
                if (overflowed) {
                    throw new IllegalStateException("the client read the stream too slowly and fell "
                            + BUFFERED_EVENTS + " events behind; the run goes on, fetch it with a GET");
                }
                List<Event> out = new ArrayList<>(queue);
                queue.clear();
                return out;
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void close() {
            subscribers.computeIfPresent(runId, (id, list) -> {
                list.remove(this);
                return list.isEmpty() ? null : list;
            });
        }
    }
}
