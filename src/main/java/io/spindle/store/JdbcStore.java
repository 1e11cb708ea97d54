package io.spindle.store;

import io.spindle.api.ApiException;
import io.spindle.api.AssistantObject;
import io.spindle.api.Json;
import io.spindle.api.ListPage;
import io.spindle.api.ListQuery;
import io.spindle.api.MessageObject;
import io.spindle.api.RunObject;
import io.spindle.api.RunStepObject;
import io.spindle.api.StoredJson;
import io.spindle.api.ThreadObject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * {@link Store} on plain JDBC, the same SQL for SQLite and PostgreSQL. Each object is one row: the
 * columns we filter and sort on, plus {@code body}, the object's JSON exactly as the API returns
 * it. {@code seq} is an insertion counter that orders objects created in the same second.
 */
public final class JdbcStore implements Store {
    private final Database db;
    private final VectorStoreRepository vectorStores;
    private final InstantSource clock;

    /**
     * {@code vectorStores} (on the same database) creates and fills the vector stores assistants, threads and messages bring;
     * {@code clock} dates the changes retention counts as a thread's activity.
     */
    public JdbcStore(Database db, VectorStoreRepository vectorStores, InstantSource clock) {
        this.db = db;
        this.vectorStores = vectorStores;
        this.clock = clock;
    }

    // ---- assistants

    @Override
    public void insertAssistant(String project, AssistantObject a, Optional<NewVectorStore> newStore) {
        db.write(c -> {
            insertVectorStore(c, project, newStore);
            return Sql.update(c, "INSERT INTO assistants (id, project, created_at, body) VALUES (?, ?, ?, ?)",
                    a.id(), project, a.createdAt(), Json.write(a));
        });
    }

    @Override
    public Optional<AssistantObject> assistant(String project, String id) {
        return db.read(c -> Sql.one(c, AssistantObject.class, "SELECT body FROM assistants WHERE project = ? AND id = ?", project, id));
    }

    @Override
    public boolean updateAssistant(String project, AssistantObject a, Optional<NewVectorStore> newStore) {
        return db.write(c -> {
            if (Sql.update(c, "UPDATE assistants SET body = ? WHERE project = ? AND id = ?", Json.write(a), project, a.id()) == 0) {
                return false;
            }
            insertVectorStore(c, project, newStore);
            return true;
        });
    }

    @Override
    public boolean deleteAssistant(String project, String id) {
        return db.write(c -> {
            Sql.keepCursor(c, "assistants", project, id);
            return Sql.update(c, "DELETE FROM assistants WHERE project = ? AND id = ?", project, id);
        }) == 1;
    }

    @Override
    public ListPage<AssistantObject> assistants(String project, ListQuery query) {
        return db.read(c -> Sql.page(c, "assistants", Sql.Scope.of(project), query))
                .map(stored -> Json.read(stored.json(), AssistantObject.class));
    }

    // ---- threads

    @Override
    public ThreadObject insertThread(String project, ThreadObject t, Optional<NewVectorStore> newStore, List<MessageObject> messages) {
        return db.write(c -> insertThread(c, project, t, newStore, messages));
    }

    /** A new thread with its vector store and messages, in the transaction of {@code c}; returns the thread as stored. */
    private ThreadObject insertThread(Connection c, String project, ThreadObject t, Optional<NewVectorStore> newStore,
                                      List<MessageObject> messages) throws SQLException {
        insertVectorStore(c, project, newStore);
        ThreadObject thread = withAttachments(c, project, t, messages);
        Sql.update(c, "INSERT INTO threads (id, project, created_at, body) VALUES (?, ?, ?, ?)",
                thread.id(), project, thread.createdAt(), Json.write(thread));
        for (MessageObject m : messages) {
            insertMessage(c, project, m, Json.write(m));
        }
        return thread;
    }

    @Override
    public Optional<ThreadObject> thread(String project, String id) {
        return db.read(c -> Sql.one(c, ThreadObject.class, "SELECT body FROM threads WHERE project = ? AND id = ?", project, id));
    }

    @Override
    public boolean threadExists(String project, String id) {
        return db.read(c -> Sql.exists(c, "SELECT 1 FROM threads WHERE project = ? AND id = ?", project, id));
    }

    @Override
    public boolean updateThread(String project, ThreadObject t, Optional<NewVectorStore> newStore) {
        return db.write(c -> {
            if (Sql.update(c, "UPDATE threads SET body = ?, modified_at = ? WHERE project = ? AND id = ?",
                    Json.write(t), now(), project, t.id()) == 0) {
                return false;
            }
            insertVectorStore(c, project, newStore);
            return true;
        });
    }

    @Override
    public boolean deleteThread(String project, String id) {
        return db.write(c -> deleteThread(c, project, id).isPresent());
    }

    /** The rows one deleted thread took along. */
    public record DeletedThread(int messages, int runs, int steps) {}

    /**
     * Deletes a thread and every row hanging off it (messages, runs, steps) in the transaction of {@code c}; empty when
     * the project has no such thread. The one way a thread is deleted, by the API and by retention alike.
     */
    static Optional<DeletedThread> deleteThread(Connection c, String project, String id) throws SQLException {
        if (Sql.update(c, "DELETE FROM threads WHERE project = ? AND id = ?", project, id) == 0) {
            return Optional.empty();
        }
        int steps = Sql.update(c, "DELETE FROM run_steps WHERE project = ? AND thread_id = ?", project, id);
        int runs = Sql.update(c, "DELETE FROM runs WHERE project = ? AND thread_id = ?", project, id);
        int messages = Sql.update(c, "DELETE FROM messages WHERE project = ? AND thread_id = ?", project, id);
        return Optional.of(new DeletedThread(messages, runs, steps));
    }

    // ---- messages

    @Override
    public StoredJson insertMessage(String project, MessageObject m) {
        String json = Json.write(m);
        db.write(c -> {
            activeRun(c, m.threadId()).ifPresent(runId -> {
                throw ApiException.invalid("Can't add messages to " + m.threadId() + " while a run " + runId + " is active.");
            });
            addAttachments(c, project, m.threadId(), List.of(m));
            return insertMessage(c, project, m, json);
        });
        return new StoredJson(m.id(), json);
    }

    private void insertVectorStore(Connection c, String project, Optional<NewVectorStore> newStore) throws SQLException {
        if (newStore.isPresent()) {
            vectorStores.insert(c, project, newStore.get());
        }
    }

    /**
     * Files that messages attach for file_search go into the thread's vector store, which is created
     * when the thread has none; returns the thread as it then is (not yet written).
     */
    private ThreadObject withAttachments(Connection c, String project, ThreadObject thread, List<MessageObject> messages)
            throws SQLException {
        List<String> fileIds = messages.stream().flatMap(m -> m.fileSearchFileIds().stream()).distinct().toList();
        if (fileIds.isEmpty()) {
            return thread;
        }
        long now = messages.getFirst().createdAt();
        String storeId = vectorStores.addToThreadStore(c, project, thread.vectorStoreId(), fileIds, now);
        return thread.vectorStoreId().equals(Optional.of(storeId)) ? thread : thread.withVectorStore(storeId);
    }

    /** {@link #withAttachments} for messages added to a stored thread, whose row is updated when it gets a new store. */
    private void addAttachments(Connection c, String project, String threadId, List<MessageObject> messages) throws SQLException {
        if (messages.stream().allMatch(m -> m.fileSearchFileIds().isEmpty())) {
            return;
        }
        ThreadObject thread = Sql.one(c, ThreadObject.class, "SELECT body FROM threads WHERE project = ? AND id = ?", project, threadId)
                .orElseThrow(() -> ApiException.notFound("thread", threadId));
        ThreadObject changed = withAttachments(c, project, thread, messages);
        if (changed != thread) {
            Sql.update(c, "UPDATE threads SET body = ? WHERE project = ? AND id = ?", Json.write(changed), project, threadId);
        }
    }

    private static int insertMessage(Connection c, String project, MessageObject m, String json) throws SQLException {
        return Sql.update(c, "INSERT INTO messages (id, project, thread_id, run_id, created_at, body) VALUES (?, ?, ?, ?, ?, ?)",
                m.id(), project, m.threadId(), m.runId(), m.createdAt(), json);
    }

    @Override
    public Optional<MessageObject> message(String project, String threadId, String id) {
        return messageJson(project, threadId, id).map(stored -> Json.read(stored.json(), MessageObject.class));
    }

    @Override
    public Optional<StoredJson> messageJson(String project, String threadId, String id) {
        return db.read(c -> {
            try (PreparedStatement ps = Sql.prepare(c, "SELECT body FROM messages WHERE project = ? AND thread_id = ? AND id = ?",
                    project, threadId, id); ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new StoredJson(id, rs.getString(1))) : Optional.empty();
            }
        });
    }

    @Override
    public boolean updateMessage(String project, MessageObject m) {
        return db.write(c -> {
            int updated = Sql.update(c, "UPDATE messages SET body = ? WHERE project = ? AND thread_id = ? AND id = ?",
                    Json.write(m), project, m.threadId(), m.id());
            touchThread(c, project, m.threadId());
            return updated;
        }) == 1;
    }

    @Override
    public boolean deleteMessage(String project, String threadId, String id) {
        return db.write(c -> {
            Sql.keepCursor(c, "messages", project, id);
            int deleted = Sql.update(c, "DELETE FROM messages WHERE project = ? AND thread_id = ? AND id = ?", project, threadId, id);
            touchThread(c, project, threadId);
            return deleted;
        }) == 1;
    }

    /** A change to a thread's messages that no created_at shows: it keeps the thread from retention's idle threads. */
    private void touchThread(Connection c, String project, String threadId) throws SQLException {
        Sql.update(c, "UPDATE threads SET modified_at = ? WHERE project = ? AND id = ?", now(), project, threadId);
    }

    private long now() {
        return clock.instant().getEpochSecond();
    }

    @Override
    public List<MessageObject> threadMessages(String project, String threadId) {
        return db.read(c -> Sql.all(c, MessageObject.class,
                "SELECT body FROM messages WHERE project = ? AND thread_id = ? ORDER BY created_at, seq", project, threadId));
    }

    @Override
    public ListPage<StoredJson> messages(String project, String threadId, String runId, ListQuery query) {
        Sql.Scope scope = runId == null
                ? Sql.Scope.of(project).and("thread_id", threadId)
                : Sql.Scope.of(project).and("thread_id", threadId).and("run_id", runId);
        return db.read(c -> Sql.page(c, "messages", scope, query));
    }

    // ---- runs and steps

    @Override
    public void insertRun(String project, RunObject run, List<MessageObject> messages, RunOrigin origin, String streamNode) {
        db.write(c -> {
            activeRun(c, run.threadId()).ifPresent(active -> {
                throw ApiException.invalid("Thread " + run.threadId() + " already has an active run " + active + ".");
            });
            addAttachments(c, project, run.threadId(), messages);
            for (MessageObject m : messages) {
                insertMessage(c, project, m, Json.write(m));
            }
            return insertRun(c, project, run, origin, streamNode);
        });
    }

    @Override
    public ThreadObject insertThreadAndRun(String project, ThreadObject thread, Optional<NewVectorStore> newStore,
                                           List<MessageObject> messages, RunObject run, RunOrigin origin, String streamNode) {
        return db.write(c -> {
            ThreadObject stored = insertThread(c, project, thread, newStore, messages);
            insertRun(c, project, run, origin, streamNode);
            return stored;
        });
    }

    private static int insertRun(Connection c, String project, RunObject run, RunOrigin origin, String streamNode)
            throws SQLException {
        return Sql.update(c, "INSERT INTO runs (id, project, thread_id, created_at, status, expires_at, body, trace_parent, queued_at, "
                        + "stream_node) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                run.id(), project, run.threadId(), run.createdAt(), run.status(), run.expiresAt(), Json.write(run),
                origin.traceParent().orElse(null), origin.queuedAtMillis().isPresent() ? origin.queuedAtMillis().getAsLong() : null,
                streamNode);
    }

    /**
     * The active run of a thread, with the thread's row locked on PostgreSQL so that run and message
     * creation on one thread serialise (SQLite has a single writer already). A thread deleted since the
     * route found it is not found, so nothing is written under a deleted thread.
     */
    private Optional<String> activeRun(Connection c, String threadId) throws SQLException {
        String lock = db.dialect().forUpdate;
        if (!Sql.exists(c, "SELECT 1 FROM threads WHERE id = ?" + lock, threadId)) {
            throw ApiException.notFound("thread", threadId);
        }
        try (PreparedStatement ps = Sql.prepare(c, "SELECT id FROM runs WHERE thread_id = ? AND status IN "
                + "('queued', 'in_progress', 'requires_action', 'cancelling')", threadId);
             ResultSet rs = ps.executeQuery()) {
            return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
        }
    }

    @Override
    public Optional<RunObject> run(String project, String threadId, String id) {
        return db.read(c -> Sql.one(c, RunObject.class,
                "SELECT body FROM runs WHERE project = ? AND thread_id = ? AND id = ?", project, threadId, id));
    }

    @Override
    public ListPage<RunObject> runs(String project, String threadId, ListQuery query) {
        return db.read(c -> Sql.page(c, "runs", Sql.Scope.of(project).and("thread_id", threadId), query))
                .map(stored -> Json.read(stored.json(), RunObject.class));
    }

    @Override
    public Optional<RunStepObject> step(String project, String threadId, String runId, String id) {
        return db.read(c -> Sql.one(c, RunStepObject.class,
                "SELECT body FROM run_steps WHERE project = ? AND thread_id = ? AND run_id = ? AND id = ?",
                project, threadId, runId, id));
    }

    @Override
    public ListPage<RunStepObject> steps(String project, String threadId, String runId, ListQuery query) {
        return db.read(c -> Sql.page(c, "run_steps", Sql.Scope.of(project).and("thread_id", threadId).and("run_id", runId), query))
                .map(stored -> Json.read(stored.json(), RunStepObject.class));
    }

    @Override
    public <T> T changeRun(String project, String runId, String leaseToken, Function<RunChange, T> change) {
        String lock = db.dialect().forUpdate;
        return db.write(c -> {
            RunObject run;
            String token;
            String streamNode;
            try (PreparedStatement ps = Sql.prepare(c, "SELECT body, lease_token, stream_node FROM runs WHERE project = ? AND id = ?" + lock,
                    project, runId); ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw ApiException.notFound("run", runId);
                }
                run = Json.read(rs.getString(1), RunObject.class);
                token = rs.getString(2);
                streamNode = rs.getString(3);
            }
            if (leaseToken != null && !leaseToken.equals(token)) {
                throw new LeaseLostException(runId);
            }
            RunChange pending = new RunChange(c, project, run, streamNode);
            T result = change.apply(pending);
            pending.write();
            if (leaseToken != null && pending.midTurn()) {
                // A step of an executor's turn that a resumed run makes again need not wait for the WAL to reach the disk
                // (a commit's fsync cost 1-3 ms here, most of a run's time on PostgreSQL). Only a crash of the database
                // server itself can lose it, and then the run resumes from its last durable change, as after a node's
                // crash. The turn's end, requires_action, and every write a client sends stay synchronous; committing
                // one of them flushes the earlier ones too.
                db.dialect().commitWithoutWaitingForDisk(c);
            }
            return result;
        });
    }

    // ---- health

    @Override
    public boolean ping() {
        try {
            return db.read(c -> c.isValid(2));
        } catch (StoreException e) {
            return false;
        }
    }

    @Override
    public void close() {
        db.close();
    }
}
