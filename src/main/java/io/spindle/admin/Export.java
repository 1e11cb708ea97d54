package io.spindle.admin;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;
import io.spindle.api.FileObject;
import io.spindle.api.Json;
import io.spindle.store.Database;
import io.spindle.store.FileRepository;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes every object of one project as JSON lines: a header line, then one line per object (a row of its table) with
 * its kind, ids kept. A file's line ends with its bytes in base64, streamed from storage; a chunk's embedding travels
 * too, so search works after an import without embedding again. All rows come from one snapshot of the database.
 */
public final class Export {
    static final String HEADER = "spindle-export";
    static final int FORMAT = 1;

    private final Database db;
    private final FileRepository files;

    public Export(Database db, FileRepository files) {
        this.db = db;
        this.files = files;
    }

    /** Writes the project's objects to {@code out}; returns how many of each kind, by kind name. */
    public Map<String, Long> write(String project, OutputStream out) throws IOException {
        try (JsonGenerator json = new JsonFactory().createGenerator(out)) {
            json.setRootValueSeparator(new SerializedString("\n"));
            json.writeStartObject();
            json.writeStringField("kind", HEADER);
            json.writeNumberField("format", FORMAT);
            json.writeStringField("project", project);
            json.writeNumberField("exported_at", Instant.now().getEpochSecond());
            json.writeEndObject();
            Map<String, Long> counts = db.read(c -> inSnapshot(c, snapshot -> writeRows(snapshot, project, json)));
            json.writeRaw('\n');
            return counts;
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private Map<String, Long> writeRows(Connection c, String project, JsonGenerator json) throws SQLException {
        Map<String, Long> counts = new LinkedHashMap<>();
        for (Kind kind : Kind.ALL) {
            long count = 0;
            try (PreparedStatement select = c.prepareStatement(kind.selectOfProject())) {
                select.setFetchSize(100);
                select.setString(1, project);
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        writeRow(kind, rows, json);
                        count++;
                    }
                }
            }
            counts.put(kind.name(), count);
        }
        return counts;
    }

    private void writeRow(Kind kind, ResultSet row, JsonGenerator json) throws SQLException {
        try {
            json.writeStartObject();
            json.writeStringField("kind", kind.name());
            for (Column column : kind.columns()) {
                json.writeFieldName(column.name());
                writeValue(column, row, json);
            }
            if (kind.name().equals(Kind.FILE)) {
                json.writeFieldName(Kind.BYTES_FIELD);
                writeBytes(Json.read(row.getString("body"), FileObject.class), json);
            }
            json.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void writeValue(Column column, ResultSet row, JsonGenerator json) throws SQLException, IOException {
        switch (column.type()) {
            case TEXT -> {
                String text = row.getString(column.name());
                if (text == null) {
                    json.writeNull();
                } else {
                    json.writeString(text);
                }
            }
            case NUMBER -> {
                long number = row.getLong(column.name());
                if (row.wasNull()) {
                    json.writeNull();
                } else {
                    json.writeNumber(number);
                }
            }
            case FLAG -> json.writeBoolean(row.getBoolean(column.name()));
            case BYTES -> json.writeBinary(row.getBytes(column.name()));
        }
    }

    private void writeBytes(FileObject file, JsonGenerator json) throws IOException {
        InputStream bytes = files.content(file)
                .orElseThrow(() -> new AdminException("the bytes of " + file.id() + " are missing from storage"));
        try (bytes) {
            json.writeBinary(bytes, -1);
        }
    }

    /**
     * Runs {@code reads} in one read-only transaction: on PostgreSQL a repeatable-read snapshot, so that rows written
     * while the export runs (by live nodes) are in it whole or not at all.
     */
    private <T> T inSnapshot(Connection c, Database.Work<T> reads) throws SQLException {
        if (db.dialect() == Database.Dialect.POSTGRESQL) {
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
        }
        c.setAutoCommit(false);
        try {
            return reads.run(c);
        } finally {
            c.rollback();
            c.setAutoCommit(true);
            if (db.dialect() == Database.Dialect.POSTGRESQL) {
                c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
            }
        }
    }
}
