package io.spindle.admin;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * One kind of object in an export: its table, the columns that travel (never {@code seq}, which the database gives
 * anew in export order, nor a lease, which belongs to a node of the old database), the columns that name one object,
 * and the SQL that gives a row's project ({@code projectOf}) and orders a project's rows.
 */
record Kind(String name, String table, List<Column> columns, List<String> key, String projectOf, String order) {

    /** The kind whose line carries a file's bytes after its columns, as base64 under this name. */
    static final String FILE = "file";
    static final String BYTES_FIELD = "bytes";

    private static final String BY_PROJECT = "project";

    /** Every kind, in the order an export writes them (files first: later lines name them). */
    static final List<Kind> ALL = List.of(
            owned(FILE, "files", Column.text("purpose"), Column.number("created_at"), Column.number("expires_at"), Column.text("body")),
            owned("assistant", "assistants", Column.number("created_at"), Column.text("body")),
            owned("thread", "threads", Column.number("created_at"), Column.text("body")),
            owned("message", "messages", Column.text("thread_id"), Column.text("run_id"), Column.number("created_at"),
                    Column.text("body")),
            owned("run", "runs", Column.text("thread_id"), Column.number("created_at"), Column.text("status"),
                    Column.number("expires_at"), Column.text("body")),
            owned("run_step", "run_steps", Column.text("thread_id"), Column.text("run_id"), Column.number("created_at"),
                    Column.text("body")),
            owned("vector_store", "vector_stores", Column.number("created_at"), Column.number("last_active_at"),
                    Column.number("expires_at"), Column.flag("expired"), Column.text("embedding_model"), Column.text("body")),
            owned("vector_store_file", "vector_store_files", Column.text("vector_store_id"), Column.text("file_id"),
                    Column.text("batch_id"), Column.number("created_at"), Column.text("status"), Column.number("usage_bytes"),
                    Column.number("attempts"), Column.text("body")),
            owned("vector_store_file_batch", "vector_store_file_batches", Column.text("vector_store_id"),
                    Column.number("created_at"), Column.flag("cancelled"), Column.text("body")),
            new Kind("chunk", "chunks", List.of(Column.text("vector_store_id"), Column.text("file_id"), Column.number("ordinal"),
                    Column.text("text"), Column.number("tokens"), Column.bytes("embedding")),
                    List.of("vector_store_id", "file_id", "ordinal"),
                    "(SELECT v.project FROM vector_stores v WHERE v.id = chunks.vector_store_id)", "vector_store_id, file_id, ordinal"));

    /** A kind with an {@code id} and a {@code project} column, in insertion order. */
    private static Kind owned(String name, String table, Column... columns) {
        List<Column> all = new ArrayList<>(List.of(Column.text("id"), Column.text(BY_PROJECT)));
        all.addAll(List.of(columns));
        return new Kind(name, table, List.copyOf(all), List.of("id"), BY_PROJECT, "seq");
    }

    static Optional<Kind> named(String name) {
        return ALL.stream().filter(k -> k.name.equals(name)).findFirst();
    }

    String columnList() {
        return columns.stream().map(Column::name).collect(Collectors.joining(", "));
    }

    /** The project's rows of this kind, in the order they were inserted. */
    String selectOfProject() {
        return "SELECT " + columnList() + " FROM " + table + " WHERE " + projectOf + " = ? ORDER BY " + order;
    }

    /** How many rows of this kind each project holds: (project, count) rows. */
    String countByProject() {
        return "SELECT " + projectOf + " AS owner, COUNT(*) FROM " + table + " GROUP BY owner";
    }

    String insert() {
        return "INSERT INTO " + table + " (" + columnList() + ") VALUES ("
                + columns.stream().map(c -> "?").collect(Collectors.joining(", ")) + ")";
    }

    String exists() {
        return "SELECT 1 FROM " + table + " WHERE " + key.stream().map(k -> k + " = ?").collect(Collectors.joining(" AND "));
    }
}
