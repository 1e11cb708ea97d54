package io.spindle.store;

import io.spindle.api.ApiException;
import io.spindle.api.AssistantObject;
import io.spindle.api.Json;
import io.spindle.api.ListPage;
import io.spindle.api.ListQuery;
import io.spindle.api.MessageObject;
import io.spindle.api.ThreadObject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
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

    public JdbcStore(Database db) {
        this.db = db;
    }

    // ---- assistants

    @Override
    public void insertAssistant(String project, AssistantObject a) {
        db.write(c -> update(c, "INSERT INTO assistants (id, project, created_at, body) VALUES (?, ?, ?, ?)",
                a.id(), project, a.createdAt(), Json.write(a)));
    }

    @Override
    public Optional<AssistantObject> assistant(String project, String id) {
        return db.read(c -> one(c, AssistantObject.class, "SELECT body FROM assistants WHERE project = ? AND id = ?", project, id));
    }

    @Override
    public boolean updateAssistant(String project, AssistantObject a) {
        return db.write(c -> update(c, "UPDATE assistants SET body = ? WHERE project = ? AND id = ?",
                Json.write(a), project, a.id())) == 1;
    }

    @Override
    public boolean deleteAssistant(String project, String id) {
        return db.write(c -> update(c, "DELETE FROM assistants WHERE project = ? AND id = ?", project, id)) == 1;
    }

    @Override
    public ListPage<AssistantObject> assistants(String project, ListQuery query) {
        return db.read(c -> page(c, AssistantObject.class, AssistantObject::id, "assistants",
                new Scope("project = ?", project), query));
    }

    // ---- threads

    @Override
    public void insertThread(String project, ThreadObject t, List<MessageObject> messages) {
        db.write(c -> {
            update(c, "INSERT INTO threads (id, project, created_at, body) VALUES (?, ?, ?, ?)",
                    t.id(), project, t.createdAt(), Json.write(t));
            for (MessageObject m : messages) {
                insertMessage(c, project, m);
            }
            return null;
        });
    }

    @Override
    public Optional<ThreadObject> thread(String project, String id) {
        return db.read(c -> one(c, ThreadObject.class, "SELECT body FROM threads WHERE project = ? AND id = ?", project, id));
    }

    @Override
    public boolean updateThread(String project, ThreadObject t) {
        return db.write(c -> update(c, "UPDATE threads SET body = ? WHERE project = ? AND id = ?",
                Json.write(t), project, t.id())) == 1;
    }

    @Override
    public boolean deleteThread(String project, String id) {
        return db.write(c -> {
            if (update(c, "DELETE FROM threads WHERE project = ? AND id = ?", project, id) == 0) {
                return false;
            }
            update(c, "DELETE FROM messages WHERE project = ? AND thread_id = ?", project, id);
            return true;
        });
    }

    // ---- messages

    @Override
    public void insertMessage(String project, MessageObject m) {
        db.write(c -> insertMessage(c, project, m));
    }

    private static int insertMessage(Connection c, String project, MessageObject m) throws SQLException {
        return update(c, "INSERT INTO messages (id, project, thread_id, run_id, created_at, body) VALUES (?, ?, ?, ?, ?, ?)",
                m.id(), project, m.threadId(), m.runId(), m.createdAt(), Json.write(m));
    }

    @Override
    public Optional<MessageObject> message(String project, String threadId, String id) {
        return db.read(c -> one(c, MessageObject.class,
                "SELECT body FROM messages WHERE project = ? AND thread_id = ? AND id = ?", project, threadId, id));
    }

    @Override
    public boolean updateMessage(String project, MessageObject m) {
        return db.write(c -> update(c, "UPDATE messages SET body = ? WHERE project = ? AND thread_id = ? AND id = ?",
                Json.write(m), project, m.threadId(), m.id())) == 1;
    }

    @Override
    public boolean deleteMessage(String project, String threadId, String id) {
        return db.write(c -> update(c, "DELETE FROM messages WHERE project = ? AND thread_id = ? AND id = ?",
                project, threadId, id)) == 1;
    }

    @Override
    public ListPage<MessageObject> messages(String project, String threadId, String runId, ListQuery query) {
        Scope scope = runId == null
                ? new Scope("project = ? AND thread_id = ?", project, threadId)
                : new Scope("project = ? AND thread_id = ? AND run_id = ?", project, threadId, runId);
        return db.read(c -> page(c, MessageObject.class, MessageObject::id, "messages", scope, query));
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

    // ---- the SQL plumbing

    /** The rows a list covers: a WHERE fragment and its arguments. */
    private record Scope(String where, Object... args) {}

    /**
     * One page of a list ordered by (created_at, seq). The cursors {@code after}/{@code before} are ids
     * of items in the same list; their position bounds the page.
     */
    private static <T> ListPage<T> page(Connection c, Class<T> type, Function<T, String> idOf, String table,
                                        Scope scope, ListQuery q) throws SQLException {
        List<Object> args = new ArrayList<>(List.of(scope.args()));
        StringBuilder sql = new StringBuilder("SELECT body FROM ").append(table).append(" WHERE ").append(scope.where());
        // Walking toward the `before` cursor reads backwards from it, then flips the page.
        boolean backwards = q.before() != null && q.after() == null;
        boolean sqlAscending = q.ascending() != backwards;
        if (q.after() != null) {
            sql.append(" AND (created_at, seq) ").append(q.ascending() ? ">" : "<").append(" (?, ?)");
            args.addAll(position(c, table, scope, q.after(), "after"));
        }
        if (q.before() != null) {
            sql.append(" AND (created_at, seq) ").append(q.ascending() ? "<" : ">").append(" (?, ?)");
            args.addAll(position(c, table, scope, q.before(), "before"));
        }
        String direction = sqlAscending ? " ASC" : " DESC";
        sql.append(" ORDER BY created_at").append(direction).append(", seq").append(direction).append(" LIMIT ?");
        args.add(q.limit() + 1);
        List<T> rows = all(c, type, sql.toString(), args.toArray());
        boolean hasMore = rows.size() > q.limit();
        List<T> data = new ArrayList<>(hasMore ? rows.subList(0, q.limit()) : rows);
        if (backwards) {
            Collections.reverse(data);
        }
        return data.isEmpty()
                ? new ListPage<>(data, null, null, false)
                : new ListPage<>(data, idOf.apply(data.getFirst()), idOf.apply(data.getLast()), hasMore);
    }

    private static List<Object> position(Connection c, String table, Scope scope, String id, String param) throws SQLException {
        Object[] args = new Object[scope.args().length + 1];
        System.arraycopy(scope.args(), 0, args, 0, scope.args().length);
        args[scope.args().length] = id;
        try (PreparedStatement ps = prepare(c, "SELECT created_at, seq FROM " + table + " WHERE " + scope.where() + " AND id = ?", args);
             ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                throw ApiException.invalid("Invalid '" + param + "': '" + id + "' is not the id of an object in this list.",
                        param, "invalid_value");
            }
            return List.of(rs.getLong(1), rs.getLong(2));
        }
    }

    private static <T> Optional<T> one(Connection c, Class<T> type, String sql, Object... args) throws SQLException {
        List<T> rows = all(c, type, sql, args);
        return rows.isEmpty() ? Optional.empty() : Optional.of(rows.getFirst());
    }

    private static <T> List<T> all(Connection c, Class<T> type, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = prepare(c, sql, args); ResultSet rs = ps.executeQuery()) {
            List<T> out = new ArrayList<>();
            while (rs.next()) {
                out.add(Json.read(rs.getString(1), type));
            }
            return out;
        }
    }

    private static int update(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = prepare(c, sql, args)) {
            return ps.executeUpdate();
        }
    }

    private static PreparedStatement prepare(Connection c, String sql, Object... args) throws SQLException {
        PreparedStatement ps = c.prepareStatement(sql);
        for (int i = 0; i < args.length; i++) {
            ps.setObject(i + 1, args[i]);
        }
        return ps;
    }
}
