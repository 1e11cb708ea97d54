package io.spindle.engine;

import io.spindle.api.FileObject;
import io.spindle.api.VectorStoreFileObject;
import io.spindle.ingest.Chunk;
import io.spindle.ingest.Chunker;
import io.spindle.ingest.ExtractedText;
import io.spindle.ingest.IngestException;
import io.spindle.ingest.TextExtraction;
import io.spindle.metrics.Metrics;
import io.spindle.search.Embedder;
import io.spindle.search.VectorBytes;
import io.spindle.store.FileRepository;
import io.spindle.store.LeaseQueue;
import io.spindle.store.VectorStoreRepository;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Ingests the files attached to vector stores, durably: the {@code vector_store_files} rows in
 * progress are a {@link LeaseQueue} worked by {@link Workers}, as runs are. A job reads the file,
 * extracts its text, cuts it into chunks and embeds them; then one transaction fenced by the lease
 * stores the chunks and completes the file. Nothing is written before that, so a job that dies
 * (kill -9, lost lease) leaves nothing behind and the file is simply ingested again; a file detached
 * or cancelled meanwhile makes the final write find nothing.
 *
 * <p>{@code usage_bytes} of a file: the UTF-8 bytes of its chunks' text plus 4 bytes per dimension
 * of each chunk's embedding (what the chunks table holds for it).
 */
public final class Ingestion implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Ingestion.class.getName());
    /** Chunks embedded per call; between calls a job notices it was asked to stop. */
    private static final int EMBED_BATCH = 16;
    /**
     * A file whose ingestion kept dying with its node (a document that crashes the process) fails after this many tries.
     * A job counts its attempt when it starts (a crash leaves no chance to count it later) and gives it back when it was
     * stopped because its node shut down: only interruptions nobody asked for count.
     */
    private static final int MAX_ATTEMPTS = 3;
    static final String SHUTDOWN = "shutdown";

    private final VectorStoreRepository stores;
    private final FileRepository files;
    private final Embedder embedder;
    private final TextExtraction extraction;
    private final Chunker chunker = new Chunker();
    private final Workers<Job> workers;
    private final ScheduledExecutorService scheduler;
    private final Metrics metrics;

    /**
     * @param maxConcurrent files ingested at once on this node; 0 ingests none (an API-only node)
     * @param scratchDir    where documents are copied while their text is extracted
     */
    public Ingestion(VectorStoreRepository stores, FileRepository files, Embedder embedder, String node, int maxConcurrent,
                     Duration lease, Path scratchDir, Metrics metrics, InstantSource clock) {
        this.stores = stores;
        this.metrics = metrics;
        this.files = files;
        this.embedder = embedder;
        this.extraction = new TextExtraction(TextExtraction.DEFAULT_MAX_CHARS, scratchDir);
        this.workers = new Workers<>("ingestion", new LeaseQueue(stores.database(), VectorStoreRepository.QUEUE), node,
                maxConcurrent, lease, clock, Job::new);
        this.scheduler = Executors.newScheduledThreadPool(1, Thread.ofPlatform().daemon().name("ingestion-timer").factory());
    }

    public void start() {
        workers.start(scheduler);
    }

    /** Files were attached: a worker may claim them now. */
    public void wake() {
        workers.wake();
    }

    @Override
    public void close() {
        workers.close(SHUTDOWN);
        scheduler.shutdownNow();
    }

    /** The ingestion of one claimed file. */
    private final class Job implements Workers.Job {
        private final LeaseQueue.Lease lease;
        private volatile boolean stopped;
        private final long startNanos = System.nanoTime();

        Job(LeaseQueue.Lease lease) {
            this.lease = lease;
        }

        @Override
        public LeaseQueue.Lease lease() {
            return lease;
        }

        @Override
        public void stop(String reason) {
            stopped = true;
        }

        @Override
        public void run() {
            Optional<VectorStoreRepository.Work> work = stores.work(lease);
            if (work.isEmpty()) {
                return; // detached, cancelled or claimed by another since
            }
            if (stores.attempt(lease) > MAX_ATTEMPTS) {
                stores.fail(lease, new VectorStoreFileObject.LastError("server_error",
                        "The file could not be processed: its ingestion was interrupted " + MAX_ATTEMPTS + " times."));
                ended("server_error");
                return;
            }
            try {
                ingest(work.get());
            } catch (IngestException e) {
                if (e.getCause() != null) {
                    LOG.log(Level.FINE, "ingesting " + work.get().fileId() + " failed", e);
                }
                stores.fail(lease, new VectorStoreFileObject.LastError(e.code(), e.getMessage()));
                ended(e.code());
            } catch (RuntimeException e) {
                if (stopped) {
                    return; // shutting down: the row goes back to the queue
                }
                LOG.log(Level.WARNING, "ingesting " + work.get().fileId() + " into " + work.get().vectorStoreId() + " failed", e);
                stores.fail(lease, new VectorStoreFileObject.LastError("server_error",
                        "The file could not be processed because of an internal error."));
                ended("server_error");
            } finally {
                if (stopped) {
                    stores.giveBackAttempt(lease); // the node shut down: no fault of the file's (finds nothing once the file ended)
                }
            }
        }

        private void ingest(VectorStoreRepository.Work work) throws IngestException {
            Optional<FileObject> file = files.file(work.project(), work.fileId());
            if (file.isEmpty()) {
                return; // deleted: its delete detaches it from the store
            }
            ExtractedText text = extract(file.get());
            List<Chunk> chunks = chunker.chunk(text.text(), work.file().chunkingStrategy());
            List<VectorStoreRepository.ChunkRow> rows = new ArrayList<>(chunks.size());
            long usage = 0;
            for (int from = 0; from < chunks.size(); from += EMBED_BATCH) {
                if (stopped) {
                    return;
                }
                List<Chunk> part = chunks.subList(from, Math.min(from + EMBED_BATCH, chunks.size()));
                List<float[]> vectors = embedder.embedPassages(part.stream().map(Chunk::text).toList());
                for (int i = 0; i < part.size(); i++) {
                    Chunk chunk = part.get(i);
                    byte[] embedding = VectorBytes.encode(vectors.get(i));
                    rows.add(new VectorStoreRepository.ChunkRow(chunk.text(), chunk.tokens(), embedding));
                    usage += chunk.text().getBytes(StandardCharsets.UTF_8).length + embedding.length;
                }
            }
            if (!stopped) {
                stores.complete(lease, rows, usage);
                ended("completed");
            }
        }

        private void ended(String outcome) {
            metrics.fileIngested(outcome, Duration.ofNanos(System.nanoTime() - startNanos));
        }

        private ExtractedText extract(FileObject file) throws IngestException {
            try {
                Optional<InputStream> content = files.content(file);
                if (content.isEmpty()) {
                    throw new IngestException(IngestException.Kind.SERVER_ERROR, "The file was deleted.", null);
                }
                try (InputStream in = content.get()) {
                    return extraction.extract(file.filename(), in);
                }
            } catch (IOException e) {
                throw new IngestException(IngestException.Kind.SERVER_ERROR, "The file could not be read.", e);
            }
        }
    }
}
