package io.spindle.engine;

import io.spindle.Settings;
import io.spindle.store.Database;
import io.spindle.store.FileRepository;
import io.spindle.store.LeaseQueue;
import io.spindle.store.RetentionRepository;
import io.spindle.store.RetentionRepository.DeletedThreads;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Deletes for good what the retention settings say: threads idle too long, files unreferenced too long. A sweep runs
 * on one node of the cluster at a time, every {@code SPINDLE_RETENTION_SWEEP_SECONDS}: the row {@code retention} of
 * {@code scheduled_work} is a {@link LeaseQueue}, whose lease the sweeping node holds while it works and keeps until
 * the next sweep is due; any node claims it then. Work is done in small transactions, each followed by a pause as
 * long as it took, so requests (and, on SQLite, their writes) always get their turn.
 */
public final class Retention implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Retention.class.getName());
    public static final LeaseQueue.Table WORK = new LeaseQueue.Table("scheduled_work", "id = 'retention'");
    private static final Duration LEASE = Duration.ofMinutes(5);
    /** How often a node asks whether a sweep is due, at most. */
    private static final Duration MAX_TICK = Duration.ofMinutes(1);
    private static final int THREADS_PER_BATCH = 100;
    private static final int FILES_PER_BATCH = 100;
    /** Files looked at per sweep: one scan for references serves them all; the next sweep takes the rest. */
    private static final int FILES_PER_SWEEP = 10_000;
    private static final long MIN_PAUSE_MILLIS = 10;

    private final Settings.Retention settings;
    private final RetentionRepository repository;
    private final FileRepository files;
    private final LeaseQueue queue;
    private final String node;
    private final InstantSource clock;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("retention").factory());

    public Retention(Settings.Retention settings, RetentionRepository repository, FileRepository files, LeaseQueue queue,
                     String node, InstantSource clock) {
        this.settings = settings;
        this.repository = repository;
        this.files = files;
        this.queue = queue;
        this.node = node;
        this.clock = clock;
    }

    /** Starts asking whether a sweep is due; with neither kind of retention set there is nothing to sweep. */
    public void start() {
        if (settings.threadIdle().isEmpty() && settings.fileUnreferenced().isEmpty()) {
            return;
        }
        long tick = Math.min(settings.every().toMillis(), MAX_TICK.toMillis());
        scheduler.scheduleWithFixedDelay(this::sweepIfDue, 0, tick, TimeUnit.MILLISECONDS);
    }

    private void sweepIfDue() {
        try {
            Optional<LeaseQueue.Lease> lease = queue.claim(node, clock.millis(), LEASE.toMillis());
            if (lease.isPresent()) {
                Database.patiently(() -> sweep(lease.get()));
            }
        } catch (Stopped e) {
            // the node is stopping; the lease runs out and another node sweeps
        } catch (RuntimeException e) {
            // a scheduled task that throws is never run again; the lease runs out and a sweep is tried again
            LOG.log(Level.WARNING, "the retention sweep failed; it is tried again within " + LEASE.toMinutes() + " minutes", e);
        }
    }

    private void sweep(LeaseQueue.Lease lease) {
        long started = System.nanoTime();
        List<String> deleted = new ArrayList<>();
        settings.threadIdle().ifPresent(idle -> {
            DeletedThreads threads = deleteIdleThreads(lease, idle);
            deleted.add(threads.threads() + " idle thread(s) (" + threads.messages() + " message(s), " + threads.runs() + " run(s), "
                    + threads.steps() + " step(s))");
        });
        settings.fileUnreferenced().ifPresent(unused -> deleted.add(deleteUnreferencedFiles(lease, unused) + " unreferenced file(s)"));
        queue.renew(List.of(lease), clock.millis(), settings.every().toMillis());
        LOG.info("retention: deleted " + String.join(" and ", deleted) + " in " + Duration.ofNanos(System.nanoTime() - started).toMillis()
                + " ms; next sweep in " + settings.every().toSeconds() + " s");
    }

    private DeletedThreads deleteIdleThreads(LeaseQueue.Lease lease, Duration idle) {
        long cutoff = clock.instant().minus(idle).getEpochSecond();
        DeletedThreads total = DeletedThreads.NONE;
        long after = 0;
        while (true) {
            List<RetentionRepository.Row> batch = repository.idleThreads(cutoff, after, THREADS_PER_BATCH);
            if (batch.isEmpty()) {
                return total;
            }
            long began = System.nanoTime();
            total = total.plus(repository.deleteIdleThreads(batch, cutoff));
            after = batch.getLast().seq();
            yieldAfter(lease, began);
        }
    }

    private int deleteUnreferencedFiles(LeaseQueue.Lease lease, Duration unused) {
        long now = clock.instant().getEpochSecond();
        long cutoff = clock.instant().minus(unused).getEpochSecond();
        long began = System.nanoTime();
        while (repository.startFileClocks(now, FILES_PER_BATCH) > 0) {
            yieldAfter(lease, began);
            began = System.nanoTime();
        }
        List<RetentionRepository.Row> candidates = repository.unreferencedSince(cutoff, FILES_PER_SWEEP);
        if (candidates.isEmpty()) {
            return 0;
        }
        RetentionRepository.Watermark scanned = repository.watermark();
        Set<String> ids = new LinkedHashSet<>(candidates.stream().map(RetentionRepository.Row::id).toList());
        Set<String> referenced = repository.referencedAmong(ids, now);
        List<String> stillUsed = new ArrayList<>(referenced);
        for (int i = 0; i < stillUsed.size(); i += FILES_PER_BATCH) {
            began = System.nanoTime();
            repository.markReferenced(stillUsed.subList(i, Math.min(stillUsed.size(), i + FILES_PER_BATCH)), now);
            yieldAfter(lease, began);
        }
        List<RetentionRepository.Row> unreferenced = candidates.stream().filter(f -> !referenced.contains(f.id())).toList();
        int deleted = 0;
        for (int i = 0; i < unreferenced.size(); i += FILES_PER_BATCH) {
            began = System.nanoTime();
            for (RetentionRepository.Row file : unreferenced.subList(i, Math.min(unreferenced.size(), i + FILES_PER_BATCH))) {
                // one transaction per file: its bytes go with its row
                deleted += files.deleteIf(file.project(), file.id(), repository.stillUnreferenced(file.id(), cutoff, now, scanned)) ? 1 : 0;
            }
            yieldAfter(lease, began);
        }
        return deleted;
    }

    /** Renews the sweep's lease and pauses as long as the batch begun at {@code began} took. */
    private void yieldAfter(LeaseQueue.Lease lease, long began) {
        queue.renew(List.of(lease), clock.millis(), LEASE.toMillis());
        long took = Duration.ofNanos(System.nanoTime() - began).toMillis();
        try {
            Thread.sleep(Math.max(MIN_PAUSE_MILLIS, took));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Stopped();
        }
    }

    /** The node stopped during a sweep. */
    private static final class Stopped extends RuntimeException {}

    @Override
    public void close() {
        scheduler.shutdownNow();
    }
}
