package io.spindle.engine;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindle.Settings;
import io.spindle.api.RunObject;
import io.spindle.store.Notifications;
import io.spindle.store.RunChange;
import io.spindle.store.RunQueue;
import io.spindle.store.Store;
import io.spindle.upstream.Cancellation;
import io.spindle.upstream.ChatClient;
import io.spindle.upstream.ChatListener;
import io.spindle.upstream.ChatResult;
import io.spindle.upstream.UpstreamException;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
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
    private static final long IDLE_POLL_MILLIS = 500;

    private final Store store;
    private final RunQueue queue;
    private final Chat chat;
    private final Settings.Runs settings;
    private final int contextTokens;
    private final String node;
    private final InstantSource clock;
    private final Semaphore slots;
    private final Semaphore wakeUp = new Semaphore(0);
    private final Map<String, RunExecution> executions = new ConcurrentHashMap<>();
    private final RunEvents events;
    private final Notifications cluster;
    private static final String CANCEL_CHANNEL = "spindle_cancel";
    /** Per-run order of commit-then-publish (striped: changes of a run never nest). */
    private final ReentrantLock[] publishing = Stream.generate(ReentrantLock::new).limit(64)
            .toArray(ReentrantLock[]::new);
    private final ScheduledExecutorService scheduler;
    private volatile boolean running;
    private Thread poller;

    /** The model call a run makes: {@link ChatClient#complete}. */
    @FunctionalInterface
    interface Chat {
        ChatResult complete(ObjectNode body, ChatListener listener, Cancellation cancellation) throws UpstreamException;
    }

    /** @param cluster PostgreSQL notifications between nodes, or null on a single node (SQLite) */
    public RunEngine(Store store, RunQueue queue, ChatClient chat, Notifications cluster, Settings settings, InstantSource clock) {
        this(store, queue, chat::complete, cluster, settings, clock);
    }

    RunEngine(Store store, RunQueue queue, Chat chat, Notifications cluster, Settings settings, InstantSource clock) {
        this.store = store;
        this.cluster = cluster;
        if (cluster != null) {
            cluster.on(CANCEL_CHANNEL, this::cancelLocal);
        }
        this.queue = queue;
        this.chat = chat;
        this.settings = settings.runs();
        this.contextTokens = settings.upstream().contextTokens();
        this.node = settings.nodeId();
        this.clock = clock;
        this.slots = new Semaphore(this.settings.maxConcurrent());
        this.scheduler = Executors.newScheduledThreadPool(1, Thread.ofPlatform().daemon().name("run-engine-timer").factory());
        this.events = new RunEvents(cluster, store, scheduler);
    }

    public void start() {
        if (cluster != null) {
            cluster.start();
        }
        int recovered = queue.releaseAll(node);
        if (recovered > 0) {
            LOG.info("resuming " + recovered + " run(s) this node held before it stopped");
        }
        running = true;
        poller = Thread.ofVirtual().name("run-poller").start(this::poll);
        long beat = Math.max(500, settings.lease().toMillis() / 3);
        scheduler.scheduleWithFixedDelay(this::heartbeat, beat, beat, TimeUnit.MILLISECONDS);
        scheduler.scheduleWithFixedDelay(this::expireAbandoned, 1, 1, TimeUnit.SECONDS);
    }

    /** Something may be claimable now (a run was created, cancelled or given tool outputs). */
    public void wake() {
        wakeUp.release();
    }

    /** Stops the execution of a run at once, on whichever node has it (the run is already `cancelling`). */
    public void cancelEverywhere(String runId) {
        if (cluster != null) {
            cluster.send(CANCEL_CHANNEL, runId);
        } else {
            cancelLocal(runId);
        }
    }

    private void cancelLocal(String runId) {
        Optional.ofNullable(executions.get(runId)).ifPresent(e -> e.cancel(RunExecution.CANCELLED));
    }

    private void poll() {
        while (running) {
            try {
                if (!claimOne()) {
                    wakeUp.tryAcquire(IDLE_POLL_MILLIS, TimeUnit.MILLISECONDS);
                    wakeUp.drainPermits();
                }
            } catch (InterruptedException e) {
                return;
            } catch (Throwable e) {
                if (!running) {
                    return; // interrupted by close() while claiming
                }
                LOG.log(Level.WARNING, "claiming runs failed; retrying", e);
                sleepQuietly(IDLE_POLL_MILLIS);
            }
        }
    }

    /** Claims a run and starts executing it; false when no slot is free or nothing is claimable. */
    private boolean claimOne() {
        if (!slots.tryAcquire()) {
            return false;
        }
        RunExecution execution = null;
        boolean started = false;
        try {
            Optional<RunQueue.Claim> claim = queue.claim(node, nowMillis(), settings.lease().toMillis());
            if (claim.isPresent()) {
                execution = new RunExecution(this, claim.get());
                executions.put(execution.runId(), execution);
                Thread.ofVirtual().name("run-" + execution.runId()).start(execution);
                started = true;
            }
            return started;
        } finally {
            if (!started) {
                // an execution that could not start is not renewed: its lease runs out and the run is claimed again
                if (execution != null) {
                    executions.remove(execution.runId(), execution);
                }
                slots.release();
            }
        }
    }

    /**
     * Renews the leases of the runs executing here, and only theirs: a lease this node holds on a run
     * it no longer executes runs out, so that the run is claimed again or expired.
     */
    private void heartbeat() {
        try {
            List<RunQueue.Claim> live = executions.values().stream().map(RunExecution::claim).toList();
            if (!live.isEmpty()) {
                queue.renew(live, nowMillis(), settings.lease().toMillis());
                for (RunQueue.RunRef ref : queue.cancelling(node)) {
                    cancelLocal(ref.runId());
                }
            }
        } catch (Throwable e) {
            // a scheduled task that throws is never run again: this one must always return
            LOG.log(Level.WARNING, "heartbeat failed", e);
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

    void finished(RunExecution execution) {
        executions.remove(execution.runId(), execution);
        slots.release();
        wake();
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
        ReentrantLock lock = publishing[Math.floorMod(runId.hashCode(), publishing.length)];
        lock.lock();
        try {
            RunChange[] committed = new RunChange[1];
            T result = store.changeRun(project, runId, leaseToken, c -> {
                committed[0] = c;
                T r = fn.apply(c);
                events.changing(c);
                return r;
            });
            events.changed(committed[0]);
            return result;
        } finally {
            lock.unlock();
        }
    }

    Chat chat() {
        return chat;
    }

    Settings.Runs settings() {
        return settings;
    }

    int contextTokens() {
        return contextTokens;
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

    /** Stops claiming, hands the runs in flight back to the queue, and waits briefly for them. */
    @Override
    public void close() {
        running = false;
        if (poller != null) {
            poller.interrupt();
            try {
                poller.join(2_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        executions.values().forEach(e -> e.cancel(RunExecution.SHUTDOWN));
        events.endAll("This Spindle node is shutting down; the run goes on. Retrieve the run to follow it.");
        long until = System.currentTimeMillis() + 5_000;
        while (!executions.isEmpty() && System.currentTimeMillis() < until) {
            sleepQuietly(20);
        }
        scheduler.shutdownNow();
        if (cluster != null) {
            cluster.close();
        }
        try {
            queue.releaseAll(node);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "could not hand back runs at shutdown", e);
        }
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
