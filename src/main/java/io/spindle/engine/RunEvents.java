package io.spindle.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindle.api.Json;
import io.spindle.api.MessageDeltaObject;
import io.spindle.api.MessageObject;
import io.spindle.api.RunObject;
import io.spindle.api.RunStepObject;
import io.spindle.store.Database;
import io.spindle.store.OtherNodes;
import io.spindle.store.RunChange;
import io.spindle.store.Store;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
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
 * <p>A run's events go where its stream is: to the node whose client began the current turn with {@code stream: true}
 * ({@link RunChange#streamNode}), and nowhere when nobody streams it. Events made on that node go straight to its
 * subscribers, after their change committed. Events made on another node (the run executes there, or was cancelled
 * there) travel through {@link OtherNodes} to that node's channel alone: state events inside the transaction of their
 * change, deltas gathered for a few milliseconds into one message. An event too large for one is sent as a reference
 * and read back from the database.
 */
public final class RunEvents {
    private static final Logger LOG = Logger.getLogger(RunEvents.class.getName());
    static final int BUFFERED_EVENTS = 10_000;
    /** A text delta stops taking in later ones at this length. */
    private static final int MERGED_TEXT_CHARS = 8_192;

    private static final int BATCH_BYTES = 6_000;
    private static final long BATCH_MILLIS = 10;

    private final OtherNodes others;
    private final String node;
    private final Store store;
    private final ScheduledExecutorService timer;
    /** A delta waiting to be sent to another node's channel, with its length as sent. */
    private record PendingDelta(String channel, String item) {}

    private final List<PendingDelta> pendingDeltas = new ArrayList<>();
    private int pendingBytes;
    private ScheduledFuture<?> scheduledFlush;

    RunEvents(OtherNodes others, String node, Store store, ScheduledExecutorService timer) {
        this.others = others;
        this.node = node;
        this.store = store;
        this.timer = timer;
        others.on(channel(node), this::received);
        // Events sent while this node could not listen are lost: its open streams end rather than skip some.
        others.onGap(() -> endAll("This Spindle node lost its connection to the database for a moment; "
                + "the run goes on. Retrieve the run to follow it."));
    }

    private final Map<String, String> channels = new ConcurrentHashMap<>();

    private String channel(String node) {
        return channels.computeIfAbsent(node, RunEvents::channelOf);
    }

    /**
     * The channel a node listens on for the events of its streams: named after the node, so that each message reaches
     * the one node that needs it (a lower-case identifier, as LISTEN takes it).
     */
    static String channelOf(String node) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(node.getBytes(StandardCharsets.UTF_8));
            return "spindle_events_" + HexFormat.of().formatHex(hash, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every JDK has SHA-256
        }
    }

    /** One event: its name and its data object (a record or a JSON node). */
    public record Event(String name, Object data) {}

    /** Events that end a stream: the run stopped, or waits for tool outputs, or its stream cannot go on ({@code error}). */
    private static final Set<String> LAST = Set.of("thread.run.requires_action", "thread.run.completed",
            "thread.run.incomplete", "thread.run.failed", "thread.run.cancelled", "thread.run.expired", "error");

    private final Map<String, List<Subscription>> subscribers = new ConcurrentHashMap<>();

    /**
     * Starts listening to a run's events; call before the action whose events the caller wants, under the run's lock
     * ({@link RunEngine#subscribe}), so that no event of an earlier change of this node reaches it.
     *
     * <p>With other nodes, a run that already had events (tool outputs submitted) may still have some of its earlier
     * ones on their way here from another node: they were committed before this call, yet arrive after it. So the
     * subscription first sends a marker through this node's channel and takes events from other nodes only once the
     * marker came back: messages arrive in commit order, so whatever comes after the marker was committed after it.
     */
    Subscription subscribe(String runId, boolean fromCreation) {
        Subscription s = new Subscription(runId, fromCreation);
        if (others.exist() && !fromCreation) {
            s.awaitedMarker = UUID.randomUUID().toString();
        }
        subscribers.compute(runId, (id, list) -> {
            List<Subscription> l = list != null ? list : new CopyOnWriteArrayList<>();
            l.add(s);
            return l;
        });
        if (s.awaitedMarker != null) {
            others.send(channel(node), Json.object().put("run", runId).put("marker", s.awaitedMarker).toString());
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
    boolean watched(String runId, String streamNode) {
        return streamNode != null && (!streamNode.equals(node) || subscribers.containsKey(runId));
    }

    /** Publishes an event that is not part of a change (a run's creation, an error of its executor). */
    void publish(String project, RunObject run, String streamNode, Event event) {
        deliver(run.id(), event, false);
        if (elsewhere(streamNode)) {
            List<String> items = List.of(item(project, run, event, true));
            Batches.pack(items).forEach(payload -> others.send(channel(streamNode), payload));
        }
    }

    /**
     * Publishes a delta. Deltas for another node are gathered for a few milliseconds and sent as one message, rather
     * than one database round trip per token.
     */
    void delta(String project, RunObject run, String streamNode, Event event) {
        if (!elsewhere(streamNode)) {
            deliver(run.id(), event, false);
            return;
        }
        PendingDelta pending = new PendingDelta(channel(streamNode), item(project, run, event, false));
        synchronized (pendingDeltas) {
            pendingDeltas.add(pending);
            pendingBytes += pending.item().length();
            if (pendingBytes >= BATCH_BYTES) {
                flushDeltas();
            } else if (scheduledFlush == null) {
                scheduledFlush = timer.schedule(this::flushInBackground, BATCH_MILLIS, TimeUnit.MILLISECONDS);
            }
        }
    }

    private boolean elsewhere(String streamNode) {
        return streamNode != null && !streamNode.equals(node);
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
                LOG.log(Level.WARNING, "sending stream deltas to other nodes failed", e);
            }
        });
    }

    /**
     * Sends the gathered deltas. An executor calls this before each change of its run, and the lock
     * is held while sending, so a run's deltas never trail the events of its next change.
     */
    void flushDeltas() {
        synchronized (pendingDeltas) {
            if (scheduledFlush != null) {
                scheduledFlush.cancel(false);
                scheduledFlush = null;
            }
            if (pendingDeltas.isEmpty()) {
                return;
            }
            Map<String, List<String>> byChannel = new LinkedHashMap<>();
            for (PendingDelta pending : pendingDeltas) {
                byChannel.computeIfAbsent(pending.channel(), c -> new ArrayList<>()).add(pending.item());
            }
            byChannel.forEach((channel, items) -> Batches.pack(items).forEach(payload -> others.send(channel, payload)));
            pendingDeltas.clear();
            pendingBytes = 0;
        }
    }

    /** Called inside a change's transaction, before it commits: its events go to a stream on another node with it. */
    void changing(RunChange change) {
        String streamNode = change.streamNode();
        if (!elsewhere(streamNode)) {
            return;
        }
        RunObject run = change.runBefore();
        List<String> items = eventsOf(change).stream().map(e -> item(change.project(), run, e, true)).toList();
        Batches.pack(items).forEach(payload -> others.sendWith(change, channel(streamNode), payload));
    }

    /** Called once a change committed: its events go to this node's streams of the run. */
    void changed(RunChange change) {
        if (change != null && subscribers.containsKey(change.runBefore().id())) {
            eventsOf(change).forEach(e -> deliver(change.runBefore().id(), e, false));
        }
    }

    /** Ends every open stream of this node with an error event (the node is shutting down; runs go on elsewhere). */
    void endAll(String message) {
        Event error = error(message);
        subscribers.values().forEach(list -> list.forEach(s -> s.offer(error, false)));
    }

    /** An {@code error} event, which ends the streams that receive it; the run itself goes on. */
    static Event error(String message) {
        ObjectNode body = Json.object();
        body.putObject("error").put("message", message).put("type", "server_error").putNull("param").putNull("code");
        return new Event("error", body);
    }

    /** To this node's subscribers of the run; {@code remote} when another node made the event. */
    private void deliver(String runId, Event event, boolean remote) {
        List<Subscription> list = subscribers.get(runId);
        if (list != null) {
            for (Subscription s : list) {
                s.offer(event, remote);
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

    /**
     * {@code {"project","thread","run","name","data"}}; with {@code mayRefer}, a reference instead of {@code data} when
     * the event is too large for one message (deltas never are: they are cut small).
     */
    private static String item(String project, RunObject run, Event event, boolean mayRefer) {
        ObjectNode p = Json.object().put("project", project).put("thread", run.threadId()).put("run", run.id())
                .put("name", event.name());
        JsonNode data = Json.tree(event.data());
        p.set("data", data);
        String item = p.toString();
        if (mayRefer && Batches.length(item) > Batches.MAX_ITEM_BYTES) {
            p.remove("data");
            item = p.put("ref", data.path("object").asText()).put("id", data.path("id").asText()).toString();
        }
        return item;
    }

    /** A message from another node to this node's streams (or this node's own marker, back). */
    private void received(String text) {
        JsonNode p = Json.read(text, JsonNode.class);
        if (p.has("marker")) {
            subscribers.getOrDefault(p.path("run").asText(), List.of()).forEach(s -> s.markerArrived(p.path("marker").asText()));
            return;
        }
        for (JsonNode item : p.path("batch")) {
            String runId = item.path("run").asText();
            if (!subscribers.containsKey(runId)) {
                continue;
            }
            Object data = item.has("data") ? received(item.path("name").asText(), item.get("data")) : load(item);
            if (data != null) {
                deliver(runId, new Event(item.path("name").asText(), data), true);
            }
        }
    }

    private static Object received(String name, JsonNode data) {
        return name.equals("thread.message.delta") ? Json.MAPPER.convertValue(data, MessageDeltaObject.class) : data;
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
        private final boolean fromCreation;
        /** Whether the stream's own {@code thread.run.queued} came; until it has, later events wait in {@code early}. */
        private boolean queued;
        private boolean overflowed;
        /** The marker this subscription waits for before it takes other nodes' events (see {@link #subscribe}); null once it came. */
        private volatile String awaitedMarker;

        private Subscription(String runId, boolean fromCreation) {
            this.runId = runId;
            this.fromCreation = fromCreation;
        }

        private void markerArrived(String marker) {
            if (marker.equals(awaitedMarker)) {
                awaitedMarker = null;
            }
        }

        /**
         * Puts events in the order the stream shows them. Other nodes' events committed before this subscription began
         * are dropped (see {@link #subscribe}). Until the stream's own {@code thread.run.queued} came (of the run's
         * creation, or of the tool outputs submitted, both made on this node), later events wait: a new run's executor
         * may publish before its creator announced {@code thread.run.created} and {@code thread.run.queued}, and another
         * node's events may overtake those of this node's change that began the turn.
         */
        private void offer(Event event, boolean remote) {
            boolean error = event.name().equals("error");
            if (remote && awaitedMarker != null && !error) {
                return;
            }
            lock.lock();
            try {
                if (queued || error) {
                    enqueue(event);
                } else if (event.name().equals("thread.run.queued") && !remote) {
                    queued = true;
                    enqueue(event);
                    early.forEach(this::enqueue);
                    early.clear();
                } else if (fromCreation ? event.name().equals("thread.created") || event.name().equals("thread.run.created") : !remote) {
                    enqueue(event);
                } else {
                    early.add(event);
                }
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
