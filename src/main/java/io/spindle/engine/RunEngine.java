package io.spindle.engine;

import io.spindle.Settings;
import io.spindle.api.RunObject;
import io.spindle.engine.tools.BuiltInTools;
import io.spindle.metrics.Metrics;
import io.spindle.store.FileRepository;
import io.spindle.store.OtherNodes;
import io.spindle.store.RunChange;
import io.spindle.store.RunOrigin;
import io.spindle.store.RunQueue;
import io.spindle.store.Store;
import io.spindle.trace.Traced;
import io.spindle.trace.Tracing;
import io.spindle.upstream.ChatModel;
import io.spindle.upstream.ModelRoute;
import io.spindle.upstream.ModelRouter;
import java.time.InstantSource;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * Executes runs. A poller claims queued runs from the database and runs each on its own virtual
 * thread; a heartbeat keeps the leases of the runs this node executes alive and notices cancels
 * made on other nodes; a sweeper expires runs past their deadline that their executor did not end.
 * Waiting for tool outputs holds no thread: the run is back in the database until outputs arrive.
 */
public final class RunEngine implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(RunEngine.class.getName());

    private final Store store;
    private final RunQueue queue;
    private final Workers<RunExecution> workers;
    private final ChatModel chat;
    private final ModelRouter models;
    private final BuiltInTools tools;
    private final ImageFiles images;
    private final Settings.Runs settings;
    private final int contextTokens;
    private final String node;
    private final InstantSource clock;
    private final RunEvents events;
    private final OtherNodes others;
    private final Metrics metrics;
    private final Tracing tracing;
    private static final String CANCEL_CHANNEL = "spindle_cancel";
    /** Per-run order of commit-then-publish (striped: changes of a run never nest). */
    private final ReentrantLock[] publishing = Stream.generate(ReentrantLock::new).limit(64)
            .toArray(ReentrantLock[]::new);
    private final ScheduledExecutorService scheduler;

    /**
     * @param chat    the model calls of runs ({@code models}, or a wrapper of it)
     * @param models  the routes of models: their context windows, and whether a new run's model has one
     * @param others  the other nodes sharing the database ({@link OtherNodes#NONE} on a single node)
     * @param tracing the spans of runs, and of their changes
     */
    public RunEngine(Store store, RunQueue queue, ChatModel chat, ModelRouter models, BuiltInTools tools, FileRepository files,
                     OtherNodes others, Tracing tracing, Settings settings, Metrics metrics, InstantSource clock) {
        this.store = store;
        this.metrics = metrics;
        this.tracing = tracing;
        this.tools = tools;
        this.images = new ImageFiles(files);
        this.others = others;
        others.on(CANCEL_CHANNEL, this::cancelLocal);
        this.queue = queue;
        this.chat = chat;
        this.models = models;
        this.settings = settings.runs();
        this.contextTokens = settings.upstream().contextTokens();
        this.node = settings.nodeId();
        this.clock = clock;
        this.workers = new Workers<>("run", queue.leases(), node, this.settings.maxConcurrent(), this.settings.lease(), clock,
                lease -> new RunExecution(this, lease));
        this.scheduler = Executors.newScheduledThreadPool(1, Thread.ofPlatform().daemon().name("run-engine-timer").factory());
        this.events = new RunEvents(others, node, store, scheduler);
        metrics.gauge("spindle.runs.executing", "Runs this node is executing now", () -> workers.jobs().size());
        metrics.gauge("spindle.streams.open", "Event streams (SSE) of runs open on this node", events::openStreams);
        metrics.gauge("spindle.runs.queued", "Runs waiting for a node to execute them (all nodes; read from the database)",
                () -> queue.backlog().runs());
        metrics.gauge("spindle.runs.queued.oldest.age.seconds", "Seconds since the oldest queued run was created (0: none queued)",
                this::oldestQueuedAge);
    }

    private double oldestQueuedAge() {
        RunQueue.Backlog backlog = queue.backlog();
        return backlog.runs() == 0 ? 0 : Math.max(0, now() - backlog.oldestCreatedAt());
    }

    public void start() {
        others.start();
        workers.start(scheduler);
        long beat = Math.max(500, settings.lease().toMillis() / 3);
        scheduler.scheduleWithFixedDelay(this::noticeCancels, beat, beat, TimeUnit.MILLISECONDS);
        scheduler.scheduleWithFixedDelay(this::expireAbandoned, 1, 1, TimeUnit.SECONDS);
    }

    /** Something may be claimable now (a run was created, cancelled or given tool outputs). */
    public void wake() {
        workers.wake();
    }

    /** Stops the execution of a run at once, on whichever node has it (the run is already `cancelling`). */
    public void cancelEverywhere(String runId) {
        cancelLocal(runId);
        others.send(CANCEL_CHANNEL, runId);
    }

    private void cancelLocal(String runId) {
        workers.job(runId).ifPresent(e -> e.stop(RunExecution.CANCELLED));
    }

    /** Stops the runs executing here that were cancelled on another node (a missed notification, or no cluster). */
    private void noticeCancels() {
        try {
            if (!workers.jobs().isEmpty()) {
                for (RunQueue.RunRef ref : queue.cancelling(node)) {
                    cancelLocal(ref.runId());
                }
            }
        } catch (Throwable e) {
            // a scheduled task that throws is never run again: this one must always return
            LOG.log(Level.WARNING, "looking for cancelled runs failed", e);
        }
    }

    /**
     * Ends the runs past their deadline that their executor did not end: those nobody executes
     * (waiting for tool outputs, or orphaned), and those still leased a lease time after the
     * deadline, whose executor is stuck. The change is not fenced by the lease (this is not the
     * lease holder) and ending releases the lease, so the stuck executor can write nothing after.
     */
    private void expireAbandoned() {
        try {
            for (RunQueue.RunRef ref : queue.expired(now(), nowMillis(), settings.lease().toSeconds())) {
                try {
                    change(ref.project(), ref.runId(), null, change -> {
                        RunObject run = change.run();
                        if (run.active() && run.expiresAt() != null && now() >= run.expiresAt()) {
                            RunEndings.expired(change, now());
                        }
                        return null;
                    });
                } catch (RuntimeException e) {
                    // one run that cannot be ended does not keep the others from expiring
                    LOG.log(Level.WARNING, "expiring run " + ref.runId() + " failed", e);
                }
            }
        } catch (Throwable e) {
            // a scheduled task that throws is never run again: this one must always return
            LOG.log(Level.WARNING, "expiring runs failed", e);
        }
    }

    Store store() {
        return store;
    }

    public RunEvents events() {
        return events;
    }

    /**
     * {@link Store#changeRun}, then the events of what it committed. Commit and publication happen
     * under the run's lock, so that a change made in reaction to another (the executor claiming a
     * run that tool outputs just re-queued) cannot publish its events before that one did.
     */
    <T> T change(String project, String runId, String leaseToken, Function<RunChange, T> fn) {
        ReentrantLock lock = publishing(runId);
        lock.lock();
        try (Traced span = tracing.child("run change", Tracing.Kind.INTERNAL, Map.of("spindle.run_id", runId))) {
            RunChange[] committed = new RunChange[1];
            T result;
            try {
                result = store.changeRun(project, runId, leaseToken, c -> {
                    committed[0] = c;
                    T r = fn.apply(c);
                    events.changing(c);
                    return r;
                });
            } catch (RuntimeException e) {
                span.failed(e);
                throw e;
            }
            span.attribute("spindle.run.status", committed[0].run().status());
            events.changed(committed[0]);
            countEnding(committed[0]);
            return result;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Starts listening to a run's events ({@link RunEvents#subscribe}), under the run's lock: the events of a change
     * this node committed before are all delivered by then, so none of them reaches the new subscription.
     */
    RunEvents.Subscription subscribe(String runId, boolean fromCreation) {
        ReentrantLock lock = publishing(runId);
        lock.lock();
        try {
            return events.subscribe(runId, fromCreation);
        } finally {
            lock.unlock();
        }
    }

    private ReentrantLock publishing(String runId) {
        return publishing[Math.floorMod(runId.hashCode(), publishing.length)];
    }

    /** This node's name (in leases, and where a run's stream is). */
    String node() {
        return node;
    }

    /** A committed change that took a run to a final status counts it, with its {@code last_error.code}. */
    private void countEnding(RunChange change) {
        if (change != null && change.runBefore().active() && !change.run().active()) {
            RunObject run = change.run();
            metrics.runEnded(run.status(), run.lastError() == null ? "" : run.lastError().path("code").asText(""));
        }
    }

    Metrics metrics() {
        return metrics;
    }

    Tracing tracing() {
        return tracing;
    }

    /** Where a run came from, for its trace. */
    RunOrigin origin(String runId) {
        return queue.origin(runId);
    }

    ChatModel chat() {
        return chat;
    }

    BuiltInTools tools() {
        return tools;
    }

    ImageFiles images() {
        return images;
    }

    Settings.Runs settings() {
        return settings;
    }

    ModelRouter models() {
        return models;
    }

    /** The context window of {@code model}: its route's, or the setting's when it has none (any more). */
    int contextTokens(String model) {
        return models.route(model).map(ModelRoute::contextTokens).orElse(contextTokens);
    }

    ScheduledExecutorService scheduler() {
        return scheduler;
    }

    long now() {
        return clock.instant().getEpochSecond();
    }

    long nowMillis() {
        return clock.millis();
    }

    /** Stops claiming, hands the runs in flight back to the queue, and ends the open streams. */
    @Override
    public void close() {
        workers.close(RunExecution.SHUTDOWN);
        events.endAll("This Spindle node is shutting down; the run goes on. Retrieve the run to follow it.");
        scheduler.shutdownNow();
        others.close();
    }
}
