package io.spindle.engine;

import io.spindle.api.MessageObject;
import io.spindle.api.RunObject;
import io.spindle.api.RunStepObject;
import io.spindle.store.RunChange;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * The stream of a run's events, as the Assistants API names them ({@code thread.run.in_progress},
 * {@code thread.message.delta}, ...). State events are derived from each committed {@link RunChange};
 * deltas come straight from the model call. Subscribers read from a bounded queue of their own, so
 * a slow reader never slows the run: a reader that falls {@value #BUFFERED_EVENTS} events behind is
 * cut off with an error event.
 */
public final class RunEvents {
    static final int BUFFERED_EVENTS = 10_000;

    /** One event: its name and its data object (a record or a JSON node). */
    public record Event(String name, Object data) {}

    /** Events that end a stream: the run stopped, or waits for tool outputs. */
    private static final Set<String> LAST = Set.of("thread.run.requires_action", "thread.run.completed",
            "thread.run.incomplete", "thread.run.failed", "thread.run.cancelled", "thread.run.expired");

    private final Map<String, List<Subscription>> subscribers = new ConcurrentHashMap<>();

    /** Starts listening to a run's events; call before the action whose events the caller wants. */
    public Subscription subscribe(String runId, boolean fromCreation) {
        Subscription s = new Subscription(runId, fromCreation);
        subscribers.compute(runId, (id, list) -> {
            List<Subscription> l = list != null ? list : new CopyOnWriteArrayList<>();
            l.add(s);
            return l;
        });
        return s;
    }

    /** True for the event after which a stream ends. */
    public static boolean endsStream(Event event) {
        return LAST.contains(event.name());
    }

    /** True when someone reads this run's events (so building a delta is worth it). */
    boolean watched(String runId) {
        return subscribers.containsKey(runId);
    }

    void publish(String runId, Event event) {
        List<Subscription> list = subscribers.get(runId);
        if (list != null) {
            for (Subscription s : list) {
                s.offer(event);
            }
        }
    }

    /** Publishes what a committed change did, in the order it did it. */
    void published(RunChange change) {
        if (change == null) {
            return;
        }
        String runId = change.runBefore().id();
        if (!watched(runId)) {
            return;
        }
        for (RunChange.Saved saved : change.journal()) {
            for (Event e : eventsOf(saved.before(), saved.after())) {
                publish(runId, e);
            }
        }
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
                RunStepObject shown = step.published();
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
        private final BlockingQueue<Event> queue = new ArrayBlockingQueue<>(BUFFERED_EVENTS);
        private final List<Event> early = new ArrayList<>();
        private boolean created;
        private volatile boolean overflowed;

        private Subscription(String runId, boolean fromCreation) {
            this.runId = runId;
            this.created = !fromCreation;
        }

        /**
         * A new run's executor may publish before its creator announced {@code thread.run.created}
         * and {@code thread.run.queued}; such events wait here until it has.
         */
        private synchronized void offer(Event event) {
            if (!created) {
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
        }

        private void enqueue(Event event) {
            if (!queue.offer(event)) {
                overflowed = true;
            }
        }

        /** The next event, or null after {@code timeoutMillis}; throws when the reader fell too far behind. */
        public Event next(long timeoutMillis) throws InterruptedException {
            if (overflowed) {
                throw new IllegalStateException("the client read the stream too slowly and fell "
                        + BUFFERED_EVENTS + " events behind; the run goes on, fetch it with a GET");
            }
            return queue.poll(timeoutMillis, TimeUnit.MILLISECONDS);
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
