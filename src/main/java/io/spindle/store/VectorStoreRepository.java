package io.spindle.store;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindle.api.ChunkingStrategy;
import io.spindle.api.Ids;
import io.spindle.api.Json;
import io.spindle.api.ListPage;
import io.spindle.api.ListQuery;
import io.spindle.api.StoredJson;
import io.spindle.api.VectorStoreFileBatchObject;
import io.spindle.api.VectorStoreFileObject;
import io.spindle.api.VectorStoreObject;
import io.spindle.api.VectorStoreObject.FileCounts;
import io.spindle.api.VectorStoreRequest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Vector stores, their files (also the ingestion queue, {@link #QUEUE}), file batches and chunks:
 * one aggregate, every change of it one transaction. A store's status, file counts and usage are
 * derived from its files' rows when read; a file row's {@code body} is always the object as shown,
 * its {@code status} and {@code usage_bytes} columns mirror it for counting. Every change of a
 * store's chunks appends to {@link IndexLog} in its transaction.
 *
 * <p>A store past its {@code expires_at} reads as {@code expired} at once; {@link #expire} marks it
 * for good, and a use never brings it back.
 */
public final class VectorStoreRepository {
    /** The files waiting for ingestion, as {@link LeaseQueue} claims them. */
    public static final LeaseQueue.Table QUEUE = new LeaseQueue.Table("vector_store_files", "status = 'in_progress'");

    private static final String FILES = "vector_store_files";

    private final Database db;
    private final InstantSource clock;
    private final String embeddingModel;

    /** New stores are embedded with {@code embeddingModel} (this node's). */
    public VectorStoreRepository(Database db, InstantSource clock, String embeddingModel) {
        this.db = db;
        this.clock = clock;
        this.embeddingModel = embeddingModel;
    }

    public Database database() {
        return db;
    }

    // ---- stores

    /** Creates a store with its first files (each checked to exist, in the transaction). */
    public VectorStoreObject create(String project, NewVectorStore store) {
        db.write(c -> {
            insert(c, project, store);
            return null;
        });
        return find(project, store.store().id()).orElseThrow();
    }

    /** Creates a store in the transaction of {@code c}: {@link #create}, or the write of the assistant or thread that made it. */
    void insert(Connection c, String project, NewVectorStore created) throws SQLException {
        VectorStoreObject store = created.store();
        Sql.update(c, "INSERT INTO vector_stores (id, project, created_at, last_active_at, expires_at, expired, embedding_model, body) "
                        + "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", store.id(), project, store.createdAt(), store.lastActiveAt(),
                store.expiresAt(), false, embeddingModel, Json.write(store));
        for (VectorStoreRequest.NewFile file : created.files()) {
            insertFile(c, project, store.id(), file, null, store.createdAt());
        }
    }

    /**
     * Puts files that messages attach for file_search into their thread's store, in the transaction of {@code c}:
     * the store {@code current} names, unless the project no longer has it; else a new store expiring as thread
     * helpers' do. A file already in the store stays as it is. Returns the id of the store used; an expired one is
     * refused.
     */
    String addToThreadStore(Connection c, String project, Optional<String> current, List<String> fileIds, long now) throws SQLException {
        Optional<Row> row = current.isPresent() ? lockUsableStore(c, project, current.get()) : Optional.empty();
        if (row.isEmpty()) {
            List<VectorStoreRequest.NewFile> files = fileIds.stream().map(VectorStoreRepository::attachment).toList();
            VectorStoreObject store = VectorStoreObject.created(Ids.vectorStore(), now, null, null,
                    VectorStoreObject.ExpiresAfter.THREAD_HELPER, Map.of());
            insert(c, project, new NewVectorStore(store, files));
            return store.id();
        }
        String storeId = row.get().store().id();
        touch(c, row.get(), now);
        for (String fileId : fileIds) {
            if (!Sql.exists(c, "SELECT 1 FROM vector_store_files WHERE vector_store_id = ? AND file_id = ?", storeId, fileId)) {
                insertFile(c, project, storeId, attachment(fileId), null, now);
            }
        }
        return storeId;
    }

    /** A file attached to a message: cut the default way, no attributes. */
    private static VectorStoreRequest.NewFile attachment(String fileId) {
        return new VectorStoreRequest.NewFile(fileId, ChunkingStrategy.AUTO, Json.object());
    }

    public Optional<VectorStoreObject> find(String project, String id) {
        return db.read(c -> {
            List<VectorStoreObject> stores = current(c, project, List.of(id));
            return stores.isEmpty() ? Optional.empty() : Optional.of(stores.getFirst());
        });
    }

    public ListPage<VectorStoreObject> list(String project, ListQuery query) {
        return db.read(c -> {
            ListPage<StoredJson> page = Sql.page(c, "vector_stores", Sql.Scope.of(project), query);
            List<VectorStoreObject> stores = current(c, project, page.data().stream().map(StoredJson::id).toList());
            return new ListPage<>(stores, page.firstId(), page.lastId(), page.hasMore());
        });
    }

    /** Changes name, expiry policy and metadata; empty when the project has no such store. */
    public Optional<VectorStoreObject> update(String project, String id, VectorStoreRequest.Update update) {
        boolean found = db.write(c -> {
            Optional<Row> row = lockStore(c, project, id);
            if (row.isEmpty()) {
                return false;
            }
            VectorStoreObject old = row.get().store();
            if (row.get().expired(now())) {
                throw VectorStoreObject.expired(id);
            }
            VectorStoreObject.ExpiresAfter policy = update.setExpiresAfter() ? update.expiresAfter() : old.expiresAfter();
            long lastActive = now();
            Long expiresAt = policy == null ? null : policy.expiresAt(lastActive);
            VectorStoreObject changed = new VectorStoreObject(old.id(), old.createdAt(), update.setName() ? update.name() : old.name(),
                    old.description(), 0, FileCounts.NONE, old.status(), policy, expiresAt, lastActive,
                    update.metadata() == null ? old.metadata() : update.metadata());
            Sql.update(c, "UPDATE vector_stores SET body = ?, last_active_at = ?, expires_at = ? WHERE project = ? AND id = ?",
                    Json.write(changed), lastActive, expiresAt, project, id);
            return true;
        });
        return found ? find(project, id) : Optional.empty();
    }

    /** Deletes a store with its files, batches and chunks; false when the project has no such store. */
    public boolean delete(String project, String id) {
        return db.write(c -> {
            if (lockStore(c, project, id).isEmpty()) {
                return false;
            }
            Sql.update(c, "DELETE FROM chunks WHERE vector_store_id = ?", id);
            Sql.update(c, "DELETE FROM vector_store_files WHERE vector_store_id = ?", id);
            Sql.update(c, "DELETE FROM vector_store_file_batches WHERE vector_store_id = ?", id);
            Sql.keepCursor(c, "vector_stores", project, id);
            Sql.update(c, "DELETE FROM vector_stores WHERE project = ? AND id = ?", project, id);
            IndexLog.append(c, db.dialect(), IndexLog.REMOVE, id, null);
            return true;
        });
    }

    /** The store was used now (a search): its expiry moves with it, unless it expired already. */
    public void touch(String project, String id) {
        db.write(c -> {
            long now = now();
            Optional<Row> row = lockStore(c, project, id);
            if (row.isPresent() && !row.get().expired(now)) {
                touch(c, row.get(), now);
            }
            return null;
        });
    }

    /** Marks the stores past their {@code expires_at} expired for good; returns how many. */
    public int expire(long now) {
        return db.write(c -> Sql.update(c, "UPDATE vector_stores SET expired = ? WHERE NOT expired AND expires_at IS NOT NULL AND expires_at <= ?",
                true, now));
    }

    /**
     * The embedding model of a store that can be used (searched): empty when the project has no such store; an
     * expired one (past its {@code expires_at} even before {@link #expire} marks it) is refused.
     */
    public Optional<String> usableEmbeddingModel(String project, String id) {
        return db.read(c -> readStore(c, project, id, "").map(row -> {
            if (row.expired(now())) {
                throw VectorStoreObject.expired(id);
            }
            return row.embeddingModel();
        }));
    }

    // ---- files

    /**
     * Attaches a file (again: a file attached before starts over); the store must exist and not be
     * expired, the file must exist. Empty when the project has no such store.
     */
    public Optional<VectorStoreFileObject> attach(String project, String storeId, VectorStoreRequest.NewFile file) {
        return db.write(c -> {
            Optional<Row> row = lockUsableStore(c, project, storeId);
            if (row.isEmpty()) {
                return Optional.empty();
            }
            long now = now();
            touch(c, row.get(), now);
            return Optional.of(insertFile(c, project, storeId, file, null, now));
        });
    }

    public Optional<VectorStoreFileObject> file(String project, String storeId, String fileId) {
        return db.read(c -> Sql.one(c, VectorStoreFileObject.class,
                "SELECT body FROM vector_store_files WHERE project = ? AND vector_store_id = ? AND file_id = ?", project, storeId, fileId));
    }

    /** A page of a store's files (or a batch's, when {@code batchId} is set), each as stored; {@code status} filters when set. */
    public ListPage<StoredJson> files(String project, String storeId, String batchId, String status, ListQuery query) {
        Sql.Scope scope = Sql.Scope.of(project).and("vector_store_id", storeId);
        if (batchId != null) {
            scope = scope.and("batch_id", batchId);
        }
        if (status != null) {
            scope = scope.and("status", status);
        }
        Sql.Scope files = scope;
        return db.read(c -> Sql.page(c, FILES, "file_id", files, query));
    }

    /** Replaces a file's attributes; a completed file goes back into the index with them. */
    public Optional<VectorStoreFileObject> updateAttributes(String project, String storeId, String fileId, ObjectNode attributes) {
        return db.write(c -> {
            Optional<VectorStoreFileObject> found = lockFile(c, project, storeId, fileId);
            if (found.isEmpty()) {
                return Optional.empty();
            }
            VectorStoreFileObject changed = found.get().withAttributes(attributes);
            Sql.update(c, "UPDATE vector_store_files SET body = ? WHERE vector_store_id = ? AND file_id = ?",
                    Json.write(changed), storeId, fileId);
            if (changed.status().equals(VectorStoreFileObject.COMPLETED)) {
                IndexLog.append(c, db.dialect(), IndexLog.ADD, storeId, fileId);
            }
            return Optional.of(changed);
        });
    }

    /** Removes a file from a store (the file itself stays); false when it was not in the store. */
    public boolean detach(String project, String storeId, String fileId) {
        return db.write(c -> {
            if (Sql.update(c, "DELETE FROM vector_store_files WHERE project = ? AND vector_store_id = ? AND file_id = ?",
                    project, storeId, fileId) == 0) {
                return false;
            }
            removeChunks(c, db.dialect(), storeId, fileId);
            return true;
        });
    }

    /** A deleted file leaves every store of its project, in the delete's transaction ({@link FileRepository}). */
    static void detachEverywhere(Connection c, Database.Dialect dialect, String project, String fileId) throws SQLException {
        List<String> stores = new ArrayList<>();
        try (PreparedStatement ps = Sql.prepare(c, "SELECT vector_store_id FROM vector_store_files WHERE project = ? AND file_id = ?",
                project, fileId); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                stores.add(rs.getString(1));
            }
        }
        for (String store : stores) {
            Sql.update(c, "DELETE FROM vector_store_files WHERE vector_store_id = ? AND file_id = ?", store, fileId);
            removeChunks(c, dialect, store, fileId);
        }
    }

    /** The texts of a file's chunks in order; empty when the file is not in the store. */
    public Optional<List<String>> chunkTexts(String project, String storeId, String fileId) {
        return db.read(c -> {
            if (!Sql.exists(c, "SELECT 1 FROM vector_store_files WHERE project = ? AND vector_store_id = ? AND file_id = ?",
                    project, storeId, fileId)) {
                return Optional.empty();
            }
            List<String> texts = new ArrayList<>();
            try (PreparedStatement ps = Sql.prepare(c, "SELECT text FROM chunks WHERE vector_store_id = ? AND file_id = ? ORDER BY ordinal",
                    storeId, fileId); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    texts.add(rs.getString(1));
                }
            }
            return Optional.of(texts);
        });
    }

    // ---- batches

    /** Attaches files as one batch; empty when the project has no such store. */
    public Optional<VectorStoreFileBatchObject> createBatch(String project, String storeId, String batchId,
                                                            List<VectorStoreRequest.NewFile> files) {
        boolean created = db.write(c -> {
            Optional<Row> row = lockUsableStore(c, project, storeId);
            if (row.isEmpty()) {
                return false;
            }
            long now = now();
            touch(c, row.get(), now);
            VectorStoreFileBatchObject batch = new VectorStoreFileBatchObject(batchId, now, storeId, "in_progress", FileCounts.NONE);
            Sql.update(c, "INSERT INTO vector_store_file_batches (id, project, vector_store_id, created_at, cancelled, body) VALUES (?, ?, ?, ?, ?, ?)",
                    batchId, project, storeId, now, false, Json.write(batch));
            for (VectorStoreRequest.NewFile file : files) {
                insertFile(c, project, storeId, file, batchId, now);
            }
            return true;
        });
        return created ? batch(project, storeId, batchId) : Optional.empty();
    }

    public Optional<VectorStoreFileBatchObject> batch(String project, String storeId, String batchId) {
        return db.read(c -> batch(c, project, storeId, batchId));
    }

    /** Cancels the batch's files still in progress (their ingestion's final write then finds nothing to do). */
    public Optional<VectorStoreFileBatchObject> cancelBatch(String project, String storeId, String batchId) {
        return db.write(c -> {
            if (!Sql.exists(c, "SELECT 1 FROM vector_store_file_batches WHERE project = ? AND vector_store_id = ? AND id = ?",
                    project, storeId, batchId)) {
                return Optional.empty();
            }
            Sql.update(c, "UPDATE vector_store_file_batches SET cancelled = ? WHERE id = ?", true, batchId);
            List<VectorStoreFileObject> open = Sql.all(c, VectorStoreFileObject.class,
                    "SELECT body FROM vector_store_files WHERE batch_id = ? AND status = ?", batchId, VectorStoreFileObject.IN_PROGRESS);
            for (VectorStoreFileObject file : open) {
                Sql.update(c, "UPDATE vector_store_files SET status = ?, body = ?, lease_owner = NULL, lease_token = NULL, lease_until = NULL "
                                + "WHERE vector_store_id = ? AND file_id = ? AND status = ?", VectorStoreFileObject.CANCELLED,
                        Json.write(file.withStatus(VectorStoreFileObject.CANCELLED, 0)), storeId, file.id(), VectorStoreFileObject.IN_PROGRESS);
            }
            return batch(c, project, storeId, batchId);
        });
    }

    // ---- ingestion

    /** What ingesting a claimed file needs to know. */
    public record Work(String project, String vectorStoreId, String fileId, VectorStoreFileObject file) {}

    /** A chunk ready to be stored: its text, token count and embedding (as {@code VectorBytes} encodes it). */
    public record ChunkRow(String text, int tokens, byte[] embedding) {}

    /** The claimed row, while the lease holds and the file is still in progress. */
    public Optional<Work> work(LeaseQueue.Lease lease) {
        return db.read(c -> {
            try (PreparedStatement ps = Sql.prepare(c, "SELECT project, vector_store_id, file_id, body FROM vector_store_files "
                    + "WHERE id = ? AND lease_token = ? AND status = ?", lease.id(), lease.token(), VectorStoreFileObject.IN_PROGRESS);
                 ResultSet rs = ps.executeQuery()) {
                return rs.next()
                        ? Optional.of(new Work(rs.getString(1), rs.getString(2), rs.getString(3), Json.read(rs.getString(4), VectorStoreFileObject.class)))
                        : Optional.empty();
            }
        });
    }

    /**
     * Stores a file's chunks and completes it, in one transaction fenced by the lease: when the row
     * is gone, cancelled or claimed by another, nothing is written and the answer is false.
     */
    public boolean complete(LeaseQueue.Lease lease, List<ChunkRow> chunks, long usageBytes) {
        return db.write(c -> {
            Optional<Work> work = lockLeased(c, lease);
            if (work.isEmpty()) {
                return false;
            }
            String store = work.get().vectorStoreId();
            String fileId = work.get().fileId();
            Sql.update(c, "DELETE FROM chunks WHERE vector_store_id = ? AND file_id = ?", store, fileId);
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO chunks (vector_store_id, file_id, ordinal, text, tokens, embedding) VALUES (?, ?, ?, ?, ?, ?)")) {
                for (int i = 0; i < chunks.size(); i++) {
                    ChunkRow chunk = chunks.get(i);
                    ps.setString(1, store);
                    ps.setString(2, fileId);
                    ps.setInt(3, i);
                    ps.setString(4, chunk.text());
                    ps.setInt(5, chunk.tokens());
                    ps.setBytes(6, chunk.embedding());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            VectorStoreFileObject done = work.get().file().withStatus(VectorStoreFileObject.COMPLETED, usageBytes);
            finish(c, lease, done);
            IndexLog.append(c, db.dialect(), IndexLog.ADD, store, fileId);
            return true;
        });
    }

    /** Ends a file {@code failed} with its {@code last_error}, fenced by the lease as {@link #complete} is. */
    public boolean fail(LeaseQueue.Lease lease, VectorStoreFileObject.LastError error) {
        return db.write(c -> {
            Optional<Work> work = lockLeased(c, lease);
            if (work.isEmpty()) {
                return false;
            }
            finish(c, lease, work.get().file().failed(error));
            return true;
        });
    }

    /** Counts one more attempt at a claimed file; returns the count, or 0 when the lease no longer holds. */
    public int attempt(LeaseQueue.Lease lease) {
        return db.write(c -> {
            if (Sql.update(c, "UPDATE vector_store_files SET attempts = attempts + 1 WHERE id = ? AND lease_token = ?",
                    lease.id(), lease.token()) == 0) {
                return 0;
            }
            try (PreparedStatement ps = Sql.prepare(c, "SELECT attempts FROM vector_store_files WHERE id = ?", lease.id());
                 ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getInt(1) : 0;
            }
        });
    }

    /** Takes back the attempt a claimed file's job counted (it was stopped for shutdown); nothing when the lease no longer holds. */
    public void giveBackAttempt(LeaseQueue.Lease lease) {
        db.write(c -> Sql.update(c, "UPDATE vector_store_files SET attempts = attempts - 1 WHERE id = ? AND lease_token = ? AND attempts > 0",
                lease.id(), lease.token()));
    }

    // ---- internals

    /** A store's row as kept. */
    private record Row(String project, VectorStoreObject store, long lastActiveAt, Long expiresAt, boolean expired, String embeddingModel) {
        boolean expired(long now) {
            return expired || (expiresAt != null && expiresAt <= now);
        }
    }

    private VectorStoreFileObject insertFile(Connection c, String project, String storeId, VectorStoreRequest.NewFile file,
                                             String batchId, long now) throws SQLException {
        String share = db.dialect().forShare;
        // the file may have been deleted since the request checked it; its delete locks the row first
        if (!Sql.exists(c, "SELECT 1 FROM files WHERE project = ? AND id = ? AND (expires_at IS NULL OR expires_at > ?)" + share,
                project, file.fileId(), now)) {
            throw VectorStoreFileObject.notFound(file.fileId());
        }
        if (Sql.update(c, "DELETE FROM vector_store_files WHERE vector_store_id = ? AND file_id = ?", storeId, file.fileId()) > 0) {
            removeChunks(c, db.dialect(), storeId, file.fileId());
        }
        VectorStoreFileObject object = new VectorStoreFileObject(file.fileId(), 0, now, storeId, VectorStoreFileObject.IN_PROGRESS,
                null, file.chunkingStrategy(), file.attributes());
        Sql.update(c, "INSERT INTO vector_store_files (id, project, vector_store_id, file_id, batch_id, created_at, status, body) "
                        + "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", Ids.vectorStoreFile(), project, storeId, file.fileId(), batchId,
                now, VectorStoreFileObject.IN_PROGRESS, Json.write(object));
        return object;
    }

    private static void removeChunks(Connection c, Database.Dialect dialect, String storeId, String fileId) throws SQLException {
        Sql.update(c, "DELETE FROM chunks WHERE vector_store_id = ? AND file_id = ?", storeId, fileId);
        IndexLog.append(c, dialect, IndexLog.REMOVE, storeId, fileId);
    }

    private void touch(Connection c, Row row, long now) throws SQLException {
        VectorStoreObject.ExpiresAfter policy = row.store().expiresAfter();
        Sql.update(c, "UPDATE vector_stores SET last_active_at = ?, expires_at = ? WHERE id = ?",
                now, policy == null ? null : policy.expiresAt(now), row.store().id());
    }

    private Optional<Row> lockStore(Connection c, String project, String id) throws SQLException {
        return readStore(c, project, id, db.dialect().forUpdate);
    }

    private static Optional<Row> readStore(Connection c, String project, String id, String lock) throws SQLException {
        try (PreparedStatement ps = Sql.prepare(c, "SELECT body, last_active_at, expires_at, expired, embedding_model FROM vector_stores "
                + "WHERE project = ? AND id = ?" + lock, project, id); ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                return Optional.empty();
            }
            long expiresAt = rs.getLong(3);
            Long expires = rs.wasNull() ? null : expiresAt;
            return Optional.of(new Row(project, Json.read(rs.getString(1), VectorStoreObject.class), rs.getLong(2), expires, rs.getBoolean(4),
                    rs.getString(5)));
        }
    }

    /** The store, refusing an expired one. */
    private Optional<Row> lockUsableStore(Connection c, String project, String id) throws SQLException {
        Optional<Row> row = lockStore(c, project, id);
        if (row.isPresent() && row.get().expired(now())) {
            throw VectorStoreObject.expired(id);
        }
        return row;
    }

    private Optional<VectorStoreFileObject> lockFile(Connection c, String project, String storeId, String fileId) throws SQLException {
        String lock = db.dialect().forUpdate;
        return Sql.one(c, VectorStoreFileObject.class, "SELECT body FROM vector_store_files WHERE project = ? AND vector_store_id = ? "
                + "AND file_id = ?" + lock, project, storeId, fileId);
    }

    private Optional<Work> lockLeased(Connection c, LeaseQueue.Lease lease) throws SQLException {
        String lock = db.dialect().forUpdate;
        try (PreparedStatement ps = Sql.prepare(c, "SELECT project, vector_store_id, file_id, body FROM vector_store_files "
                + "WHERE id = ? AND lease_token = ? AND status = ?" + lock, lease.id(), lease.token(), VectorStoreFileObject.IN_PROGRESS);
             ResultSet rs = ps.executeQuery()) {
            return rs.next()
                    ? Optional.of(new Work(rs.getString(1), rs.getString(2), rs.getString(3), Json.read(rs.getString(4), VectorStoreFileObject.class)))
                    : Optional.empty();
        }
    }

    private void finish(Connection c, LeaseQueue.Lease lease, VectorStoreFileObject file) throws SQLException {
        Sql.update(c, "UPDATE vector_store_files SET status = ?, usage_bytes = ?, body = ?, lease_owner = NULL, lease_token = NULL, "
                + "lease_until = NULL WHERE id = ? AND lease_token = ?", file.status(), file.usageBytes(), Json.write(file), lease.id(), lease.token());
    }

    private Optional<VectorStoreFileBatchObject> batch(Connection c, String project, String storeId, String batchId) throws SQLException {
        long createdAt;
        boolean cancelled;
        try (PreparedStatement ps = Sql.prepare(c, "SELECT created_at, cancelled FROM vector_store_file_batches "
                + "WHERE project = ? AND vector_store_id = ? AND id = ?", project, storeId, batchId); ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                return Optional.empty();
            }
            createdAt = rs.getLong(1);
            cancelled = rs.getBoolean(2);
        }
        FileCounts counts = counts(c, "batch_id", List.of(batchId)).getOrDefault(batchId, Tally.EMPTY).counts();
        return Optional.of(new VectorStoreFileBatchObject(batchId, createdAt, storeId, VectorStoreFileBatchObject.status(cancelled, counts), counts));
    }

    /** File counts and usage of a group of files. */
    private record Tally(FileCounts counts, long usageBytes) {
        static final Tally EMPTY = new Tally(FileCounts.NONE, 0);
    }

    /** The files of each of these stores (or batches, by {@code column}) counted by status, in one grouped query. */
    private static Map<String, Tally> counts(Connection c, String column, List<String> ids) throws SQLException {
        Map<String, Tally> out = new HashMap<>();
        if (ids.isEmpty()) {
            return out;
        }
        String marks = String.join(", ", Collections.nCopies(ids.size(), "?"));
        Map<String, long[]> sums = new HashMap<>();
        try (PreparedStatement ps = Sql.prepare(c, "SELECT " + column + ", status, COUNT(*), SUM(usage_bytes) FROM vector_store_files WHERE "
                + column + " IN (" + marks + ") GROUP BY " + column + ", status", ids.toArray()); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                long[] s = sums.computeIfAbsent(rs.getString(1), k -> new long[5]);
                long n = rs.getLong(3);
                switch (rs.getString(2)) {
                    case VectorStoreFileObject.IN_PROGRESS -> s[0] += n;
                    case VectorStoreFileObject.COMPLETED -> s[1] += n;
                    case VectorStoreFileObject.FAILED -> s[2] += n;
                    case VectorStoreFileObject.CANCELLED -> s[3] += n;
                    default -> { }
                }
                s[4] += rs.getLong(4);
            }
        }
        sums.forEach((id, s) -> out.put(id, new Tally(new FileCounts(s[0], s[1], s[2], s[3], s[0] + s[1] + s[2] + s[3]), s[4])));
        return out;
    }

    /** These stores as they are now, in the given order (missing ones left out). */
    private List<VectorStoreObject> current(Connection c, String project, List<String> ids) throws SQLException {
        if (ids.isEmpty()) {
            return List.of();
        }
        Map<String, Row> rows = new HashMap<>();
        String marks = String.join(", ", Collections.nCopies(ids.size(), "?"));
        List<Object> args = new ArrayList<>();
        args.add(project);
        args.addAll(ids);
        try (PreparedStatement ps = Sql.prepare(c, "SELECT id, body, last_active_at, expires_at, expired, embedding_model FROM vector_stores "
                + "WHERE project = ? AND id IN (" + marks + ")", args.toArray()); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                long expiresAt = rs.getLong(4);
                Long expires = rs.wasNull() ? null : expiresAt;
                rows.put(rs.getString(1), new Row(project, Json.read(rs.getString(2), VectorStoreObject.class), rs.getLong(3), expires,
                        rs.getBoolean(5), rs.getString(6)));
            }
        }
        Map<String, Tally> tallies = counts(c, "vector_store_id", ids);
        long now = now();
        List<VectorStoreObject> out = new ArrayList<>();
        for (String id : ids) {
            Row row = rows.get(id);
            if (row != null) {
                Tally tally = tallies.getOrDefault(id, Tally.EMPTY);
                out.add(row.store().with(tally.counts(), tally.usageBytes(), row.lastActiveAt(), row.expiresAt(), row.expired(now)));
            }
        }
        return out;
    }

    private long now() {
        return clock.instant().getEpochSecond();
    }
}
