package io.spindle.search;

import io.spindle.store.ChunkRepository;
import io.spindle.store.IndexLog;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Logger;
import org.apache.lucene.store.LockObtainFailedException;

/**
 * This node's {@link ChunkIndex}, kept in step with the database: it applies the log of chunk changes
 * ({@code index_changes}) in order, and remembers in the index itself how far it got ({@link ChunkIndex#position()}),
 * so a restart goes on from there. An index that is new, unreadable or made with another embedding model starts from
 * the beginning of the log, which rebuilds it from the database. {@link #search} catches up first, so a file
 * completed on any node is found by the next search on every node. One catch-up at a time; searches run alongside.
 */
public final class IndexFollower implements Closeable {
    private static final Logger LOG = Logger.getLogger(IndexFollower.class.getName());
    /** Changes read and applied (in one index commit) at a time. */
    static final int BATCH = 500;

    private final ChunkIndex index;
    private final String embeddingModel;
    private final ChunkRepository chunks;
    private final ReentrantLock catchingUp = new ReentrantLock();

    private IndexFollower(ChunkIndex index, String embeddingModel, ChunkRepository chunks) {
        this.index = index;
        this.embeddingModel = embeddingModel;
        this.chunks = chunks;
    }

    /**
     * Opens the index in {@code dir} for {@code embeddingModel}'s vectors; it catches up on the first {@link #catchUp}.
     *
     * @throws IOException when the directory cannot be used, e.g. another process has this index open
     */
    public static IndexFollower open(Path dir, String embeddingModel, ChunkRepository chunks) throws IOException {
        ChunkIndex index;
        try {
            index = ChunkIndex.open(dir, embeddingModel);
        } catch (LockObtainFailedException e) {
            throw new IOException("the search index in " + dir + " is open in another process", e);
        }
        if (index.needsRebuild()) {
            LOG.info("search index in " + dir + " is rebuilt from the database");
        }
        return new IndexFollower(index, embeddingModel, chunks);
    }

    /** The seq of the last log entry the index holds. */
    public long position() {
        return index.position();
    }

    /** Applies every change committed so far; returns how many it applied. */
    public int catchUp() {
        catchingUp.lock();
        try {
            int applied = 0;
            while (true) {
                List<ChunkRepository.Change> changes = chunks.changesAfter(index.position(), BATCH);
                if (changes.isEmpty()) {
                    return applied;
                }
                index.apply(edits(changes), changes.getLast().seq());
                applied += changes.size();
            }
        } finally {
            catchingUp.unlock();
        }
    }

    /** Catches up, then searches: what was committed before the call is found. */
    public List<ChunkHit> search(ChunkQuery query) {
        catchUp();
        return index.search(query);
    }

    /**
     * The index edits for a batch of changes. An add reads the file's chunks as they are now, so an add that a later
     * change of the batch makes stale (the same file again, or its whole store removed) is left out.
     */
    private List<ChunkIndex.Edit> edits(List<ChunkRepository.Change> changes) {
        Set<String> touchedLater = new HashSet<>();
        List<ChunkIndex.Edit> reversed = new ArrayList<>();
        for (ChunkRepository.Change change : changes.reversed()) {
            String store = change.vectorStoreId();
            String file = change.fileId();
            if (change.kind().equals(IndexLog.REMOVE)) {
                reversed.add(file == null ? new ChunkIndex.Edit.RemoveStore(store) : new ChunkIndex.Edit.RemoveFile(store, file));
            } else if (change.kind().equals(IndexLog.ADD) && file != null) {
                if (!touchedLater.contains(store) && !touchedLater.contains(store + "/" + file)) {
                    // a file without chunks now was removed since, by a change still to come
                    // Another model's vectors are never searched here (nor comparable): such a store's files stay out.
                    chunks.file(store, file).filter(f -> f.embeddingModel().equals(embeddingModel))
                            .ifPresent(f -> reversed.add(new ChunkIndex.Edit.Put(fileChunks(f))));
                }
            } else {
                LOG.warning("index change " + change.seq() + " is not understood (" + change.kind() + ", " + store + ", " + file
                        + "); skipped");
            }
            touchedLater.add(file == null ? store : store + "/" + file);
        }
        return reversed.reversed();
    }

    private static FileChunks fileChunks(ChunkRepository.StoredFile file) {
        List<Chunk> list = new ArrayList<>(file.chunks().size());
        for (ChunkRepository.StoredChunk chunk : file.chunks()) {
            list.add(new Chunk(chunk.ordinal(), chunk.text(), VectorBytes.decode(chunk.embedding())));
        }
        return new FileChunks(file.vectorStoreId(), file.fileId(), file.fileName(), file.attributes(), list);
    }

    @Override
    public void close() throws IOException {
        catchingUp.lock();
        try {
            index.close();
        } finally {
            catchingUp.unlock();
        }
    }
}
