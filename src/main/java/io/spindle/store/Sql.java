package io.spindle.store;

import io.spindle.api.ApiException;
import io.spindle.api.Json;
import io.spindle.api.ListPage;
import io.spindle.api.ListQuery;
import io.spindle.api.StoredJson;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/** The JDBC plumbing every table shares: statements with arguments, JSON rows, and list pages. */
final class Sql {
    private Sql() {}


    /** The rows a list covers: a project's rows, narrowed by conditions (e.g. {@code thread_id = ?}). */
    record Scope(String project, List<String> conditions, List<Object> values) {
        static Scope of(String project) {
            return new Scope(project, List.of(), List.of());
        }

        /** Narrows to rows whose {@code column} equals {@code value}. */
        Scope and(String column, Object value) {
            return where(column + " = ?", value);
        }

        /** Narrows by an SQL condition with its arguments. */
        Scope where(String condition, Object... args) {
            List<String> c = new ArrayList<>(conditions);
            List<Object> v = new ArrayList<>(values);
            c.add(condition);
            v.addAll(List.of(args));
            return new Scope(project, c, v);
        }

        String where() {
            StringBuilder sql = new StringBuilder("project = ?");
            conditions.forEach(condition -> sql.append(" AND (").append(condition).append(")"));
            return sql.toString();
        }

        List<Object> args() {
            List<Object> args = new ArrayList<>(List.of(project));
            args.addAll(values);
            return args;
        }
    }

    /**
     * One page of a list ordered by (created_at, seq), each object as stored. The cursors
     * {@code after}/{@code before} are ids of items in the same list; their position bounds the page.
     */
    static ListPage<StoredJson> page(Connection c, String table, Scope scope, ListQuery q) throws SQLException {
        return page(c, table, "id", scope, q);
    }

    /**
     * As {@link #page(Connection, String, Scope, ListQuery)}, for a table whose objects the API
     * names by another column (a vector store's files by {@code file_id}); such a list's cursors
     * are objects still in it.
     */
    static ListPage<StoredJson> page(Connection c, String table, String idColumn, Scope scope, ListQuery q) throws SQLException {
        List<Object> args = scope.args();
        StringBuilder sql = new StringBuilder("SELECT ").append(idColumn).append(", body FROM ").append(table).append(" WHERE ").append(scope.where());
        // Walking toward the `before` cursor reads backwards from it, then flips the page.
        boolean backwards = q.before() != null && q.after() == null;
        boolean sqlAscending = q.ascending() != backwards;
        if (q.after() != null) {
            sql.append(" AND (created_at, seq) ").append(q.ascending() ? ">" : "<").append(" (?, ?)");
            args.addAll(position(c, table, idColumn, scope, q.after(), "after"));
        }
        if (q.before() != null) {
            sql.append(" AND (created_at, seq) ").append(q.ascending() ? "<" : ">").append(" (?, ?)");
            args.addAll(position(c, table, idColumn, scope, q.before(), "before"));
        }
        String direction = sqlAscending ? " ASC" : " DESC";
        sql.append(" ORDER BY created_at").append(direction).append(", seq").append(direction).append(" LIMIT ?");
        args.add(q.limit() + 1);
        List<StoredJson> rows = new ArrayList<>();
        try (PreparedStatement ps = prepare(c, sql.toString(), args.toArray()); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                rows.add(new StoredJson(rs.getString(1), rs.getString(2)));
            }
        }
        boolean hasMore = rows.size() > q.limit();
        List<StoredJson> data = new ArrayList<>(hasMore ? rows.subList(0, q.limit()) : rows);
        if (backwards) {
            Collections.reverse(data);
        }
        return data.isEmpty()
                ? new ListPage<>(data, null, null, false)
                : new ListPage<>(data, data.getFirst().id(), data.getLast().id(), hasMore);
    }

    /** Where the cursor object stands in the list: an object of the list, or one deleted from it since. */
    static List<Object> position(Connection c, String table, Scope scope, String id, String param) throws SQLException {
        return position(c, table, "id", scope, id, param);
    }

    private static List<Object> position(Connection c, String table, String idColumn, Scope scope, String id, String param)
            throws SQLException {
        List<Object> args = scope.args();
        args.add(id);
        String sql = "SELECT created_at, seq FROM " + table + " WHERE " + scope.where() + " AND " + idColumn + " = ?";
        if (idColumn.equals("id")) {
            args.add(scope.project());
            args.add(id);
            sql += " UNION ALL SELECT created_at, seq FROM deleted_cursors WHERE project = ? AND id = ?";
        }
        try (PreparedStatement ps = prepare(c, sql, args.toArray()); ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                throw ApiException.invalid("Invalid '" + param + "': '" + id + "' is not the id of an object in this list.",
                        param, "invalid_value");
            }
            return List.of(rs.getLong(1), rs.getLong(2));
        }
    }

    /** Remembers where a deleted object stood, so that it still works as a page cursor. */
    static void keepCursor(Connection c, String table, String project, String id) throws SQLException {
        update(c, "INSERT INTO deleted_cursors (id, project, created_at, seq) SELECT id, project, created_at, seq FROM "
                + table + " WHERE project = ? AND id = ?", project, id);
    }

    static <T> Optional<T> one(Connection c, Class<T> type, String sql, Object... args) throws SQLException {
        List<T> rows = all(c, type, sql, args);
        return rows.isEmpty() ? Optional.empty() : Optional.of(rows.getFirst());
    }

    static boolean exists(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = prepare(c, sql, args); ResultSet rs = ps.executeQuery()) {
            return rs.next();
        }
    }

    static <T> List<T> all(Connection c, Class<T> type, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = prepare(c, sql, args); ResultSet rs = ps.executeQuery()) {
            List<T> out = new ArrayList<>();
            while (rs.next()) {
                out.add(Json.read(rs.getString(1), type));
            }
            return out;
        }
    }

    static int update(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = prepare(c, sql, args)) {
            return ps.executeUpdate();
        }
    }

    /** Runs a statement whose result does not matter (e.g. a row lock). */
    static void execute(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = prepare(c, sql, args)) {
            ps.execute();
        }
    }

    static PreparedStatement prepare(Connection c, String sql, Object... args) throws SQLException {
        PreparedStatement ps = c.prepareStatement(sql);
        for (int i = 0; i < args.length; i++) {
            ps.setObject(i + 1, args[i]);
        }
        return ps;
    }
}
