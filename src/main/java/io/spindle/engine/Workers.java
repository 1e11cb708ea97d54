package io.spindle.engine;

import io.spindle.store.Database;
import io.spindle.store.LeaseQueue;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Works through a {@link LeaseQueue}: a poller claims rows while a slot is free and runs a job for
 * each on its own virtual thread; a heartbeat renews the leases of the jobs running here, and only
 * theirs. At start the node takes back what it held before a crash; at close it stops its jobs and
 * hands their rows back. Runs and file ingestion both work this way.
 */
final class Workers<J extends Workers.Job> {
    private static final Logger LOG = Logger.getLogger(Workers.class.getName());
    private static final long IDLE_POLL_MILLIS = 500;
    private static final long STOP_WAIT_MILLIS = 5_000;

    /** The work on one claimed row. */
    interface Job extends Runnable {
        LeaseQueue.Lease lease();

        /** Asks the job to stop soon (cancel, expiry, shutdown); it ends its own way. */
        void stop(String reason);
    }

    private final String kind;
    private final LeaseQueue queue;
    private final String node;
    private final long leaseMillis;
    private final InstantSource clock;
    private final Function<LeaseQueue.Lease, J> jobs;
    private final Semaphore slots;
    private final Semaphore wakeUp = new Semaphore(0);
    private final Map<String, J> running = new ConcurrentHashMap<>();
    private volatile boolean open;
    private Thread poller;

    /**
     * @param kind what the rows are, for thread names and logs ("run")
     * @param maxConcurrent jobs at once on this node; 0 claims nothing
     */
    Workers(String kind, LeaseQueue queue, String node, int maxConcurrent, Duration lease, InstantSource clock,
            Function<LeaseQueue.Lease, J> jobs) {
        this.kind = kind;
        this.queue = queue;
        this.node = node;
        this.leaseMillis = lease.toMillis();
        this.clock = clock;
        this.jobs = jobs;
        this.slots = new Semaphore(maxConcurrent);
    }

    void start(ScheduledExecutorService scheduler) {
        int recovered = queue.releaseAll(node);
        if (recovered > 0) {
            LOG.info("resuming " + recovered + " " + kind + "(s) this node held before it stopped");
        }
        open = true;
        poller = Thread.ofVirtual().name(kind + "-poller").start(this::poll);
        long beat = Math.max(500, leaseMillis / 3);
        scheduler.scheduleWithFixedDelay(this::heartbeat, beat, beat, TimeUnit.MILLISECONDS);
    }

    /** Something may be claimable now. */
    void wake() {
        wakeUp.release();
    }

    /** The job working on this row here, if any. */
    Optional<J> job(String id) {
        return Optional.ofNullable(running.get(id));
    }

    Collection<J> jobs() {
        return running.values();
    }

    private void poll() {
        while (open) {
            try {
                if (!claimOne()) {
                    wakeUp.tryAcquire(IDLE_POLL_MILLIS, TimeUnit.MILLISECONDS);
                    wakeUp.drainPermits();
                }
            } catch (InterruptedException e) {
                return;
            } catch (Throwable e) {
                if (!open) {
                    return; // interrupted by close() while claiming
                }
                LOG.log(Level.WARNING, "claiming " + kind + "s failed; retrying", e);
                sleepQuietly(IDLE_POLL_MILLIS);
            }
        }
    }

    /** Claims a row and starts its job; false when no slot is free or nothing is claimable. */
    private boolean claimOne() {
        // a node whose database pool is at its limit takes on no more work; what it runs goes on, slower
        if (queue.saturated() || !slots.tryAcquire()) {
            return false;
        }
        J job = null;
        boolean started = false;
        try {
            Optional<LeaseQueue.Lease> lease = queue.claim(node, clock.millis(), leaseMillis);
            if (lease.isPresent()) {
                J claimed = jobs.apply(lease.get());
                job = claimed;
                running.put(lease.get().id(), claimed);
                Thread.ofVirtual().name(kind + "-" + lease.get().id()).start(() -> execute(claimed));
                started = true;
            }
            return started;
        } finally {
            if (!started) {
                // a job that could not start is not renewed: its lease runs out and the row is claimed again
                if (job != null) {
                    running.remove(job.lease().id(), job);
                }
                slots.release();
            }
        }
    }

    private void execute(J job) {
        try {
            Database.patiently(job::run);
        } catch (Throwable e) {
            LOG.log(Level.SEVERE, kind + " " + job.lease().id() + " ended with an unexpected failure", e);
        } finally {
            running.remove(job.lease().id(), job);
            slots.release();
            wake();
        }
    }

    /** Renews the leases of the jobs running here, and only theirs. */
    private void heartbeat() {
        try {
            List<LeaseQueue.Lease> live = running.values().stream().map(Job::lease).toList();
            queue.renew(live, clock.millis(), leaseMillis);
        } catch (Throwable e) {
            // a scheduled task that throws is never run again: this one must always return
            LOG.log(Level.WARNING, kind + " heartbeat failed", e);
        }
    }

    /** Stops claiming, asks the running jobs to stop, waits briefly for them and hands their rows back. */
    void close(String reason) {
        if (poller == null) {
            return; // never started: the rows this node id holds may be a live process's (a refused second start)
        }
        open = false;
        poller.interrupt();
        try {
            poller.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        running.values().forEach(job -> job.stop(reason));
        long until = System.currentTimeMillis() + STOP_WAIT_MILLIS;
        while (!running.isEmpty() && System.currentTimeMillis() < until) {
            sleepQuietly(20);
        }
        try {
            queue.releaseAll(node);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "could not hand back " + kind + "s at shutdown", e);
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
