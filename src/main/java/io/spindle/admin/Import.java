package io.spindle.admin;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.spindle.store.Database;
import io.spindle.store.FileRepository;
import io.spindle.store.IndexLog;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Loads an {@link Export} into this database in one transaction: all of it, or nothing when a line is bad or an id
 * exists already. The chunks' files are appended to the index log, so every node's search index catches up from the
 * imported chunks as from an ingestion. A file's bytes pass through a temporary file, never whole in memory.
 */
public final class Import {
    private final Database db;
    private final FileRepository files;
    private final Path scratch;

    /** {@code scratch}: where a file's bytes wait between the export and storage. */
    public Import(Database db, FileRepository files, Path scratch) {
        this.db = db;
        this.files = files;
        this.scratch = scratch;
    }

    /** Imports the export at {@code path}; returns its project and how many objects of each kind it held. */
    public Imported read(Path path) throws IOException {
        try (InputStream in = Files.newInputStream(path); JsonParser json = new JsonFactory().createParser(in)) {
            String project = header(json, path);
            Map<String, Long> counts = db.write(c -> new Loading(c, json, path).all());
            return new Imported(project, counts);
        } catch (UncheckedIOException e) {
            throw e.getCause() instanceof JsonParseException bad ? unreadable(path, bad) : e;
        } catch (JsonParseException e) {
            throw unreadable(path, e);
        }
    }

    /** What an import loaded. */
    public record Imported(String project, Map<String, Long> counts) {}

    private static AdminException unreadable(Path path, JsonParseException e) {
        return new AdminException(path + " line " + e.getLocation().getLineNr() + " is not JSON: " + e.getOriginalMessage());
    }

    /** Reads the header line; returns the project it names. */
    private static String header(JsonParser json, Path path) throws IOException {
        Map<String, Object> header = new HashMap<>();
        if (json.nextToken() == JsonToken.START_OBJECT) {
            while (json.nextToken() == JsonToken.FIELD_NAME) {
                String field = json.currentName();
                json.nextToken();
                header.put(field, json.currentToken().isScalarValue() ? json.getText() : null);
                json.skipChildren();
            }
        }
        if (!Export.HEADER.equals(header.get("kind")) || header.get("project") == null) {
            throw new AdminException(path + " is not a Spindle export (its first line is not a " + Export.HEADER + " header)");
        }
        if (!String.valueOf(Export.FORMAT).equals(header.get("format"))) {
            throw new AdminException(path + " is an export in format " + header.get("format") + "; this Spindle reads format "
                    + Export.FORMAT);
        }
        return (String) header.get("project");
    }

    /** One import inside its transaction. */
    private final class Loading {
        private final Connection c;
        private final JsonParser json;
        private final Path path;
        private final Map<String, Long> counts = new LinkedHashMap<>();
        /** The (vector store, file) pairs whose chunks came in, for the index log. */
        private final Set<List<String>> indexed = new LinkedHashSet<>();
        /** Each kind's statements, prepared once: an export may hold many thousands of chunks. */
        private final Map<String, PreparedStatement> statements = new HashMap<>();

        Loading(Connection c, JsonParser json, Path path) {
            this.c = c;
            this.json = json;
            this.path = path;
            Kind.ALL.forEach(kind -> counts.put(kind.name(), 0L));
        }

        Map<String, Long> all() throws SQLException {
            try {
                for (JsonToken token; (token = json.nextToken()) != null; ) {
                    if (token != JsonToken.START_OBJECT) {
                        throw bad("is not an object");
                    }
                    object();
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                for (PreparedStatement statement : statements.values()) {
                    statement.close();
                }
            }
            for (List<String> file : indexed) {
                IndexLog.append(c, db.dialect(), IndexLog.ADD, file.get(0), file.get(1));
            }
            return counts;
        }

        private void object() throws IOException, SQLException {
            if (json.nextToken() != JsonToken.FIELD_NAME || !json.currentName().equals("kind") || json.nextToken() != JsonToken.VALUE_STRING) {
                throw bad("does not begin with its kind");
            }
            String name = json.getText();
            Kind kind = Kind.named(name).orElseThrow(() -> bad("has an unknown kind '" + name + "'"));
            Map<String, Object> values = new HashMap<>();
            Path bytes = null;
            try {
                while (json.nextToken() == JsonToken.FIELD_NAME) {
                    String field = json.currentName();
                    json.nextToken();
                    if (kind.name().equals(Kind.FILE) && field.equals(Kind.BYTES_FIELD)) {
                        bytes = spool();
                        continue;
                    }
                    Column column = kind.columns().stream().filter(col -> col.name().equals(field)).findFirst()
                            .orElseThrow(() -> bad("has a field '" + field + "' a " + name + " does not have"));
                    values.put(field, value(column));
                }
                insert(kind, values, bytes);
            } finally {
                if (bytes != null) {
                    Files.deleteIfExists(bytes);
                }
            }
            counts.merge(name, 1L, Long::sum);
        }

        private Object value(Column column) throws IOException {
            JsonToken token = json.currentToken();
            if (token == JsonToken.VALUE_NULL) {
                return null;
            }
            boolean fits = switch (column.type()) {
                case TEXT, BYTES -> token == JsonToken.VALUE_STRING;
                case NUMBER -> token == JsonToken.VALUE_NUMBER_INT;
                case FLAG -> token.isBoolean();
            };
            if (!fits) {
                throw bad("has a " + column.name() + " of the wrong type");
            }
            return switch (column.type()) {
                case TEXT -> json.getText();
                case NUMBER -> json.getLongValue();
                case FLAG -> json.getBooleanValue();
                case BYTES -> json.getBinaryValue();
            };
        }

        /** Decodes the base64 bytes under the parser into a temporary file. */
        private Path spool() throws IOException {
            if (json.currentToken() != JsonToken.VALUE_STRING) {
                throw bad("has bytes that are not a base64 string");
            }
            Path file = Files.createTempFile(scratch, "import-", ".bytes");
            try (OutputStream out = Files.newOutputStream(file)) {
                json.readBinaryValue(out);
            } catch (IOException | RuntimeException e) {
                Files.deleteIfExists(file);
                throw e;
            }
            return file;
        }

        private void insert(Kind kind, Map<String, Object> values, Path bytes) throws IOException, SQLException {
            for (Column column : kind.columns()) {
                if (!values.containsKey(column.name())) {
                    throw bad("lacks " + column.name());
                }
            }
            for (String key : kind.key()) {
                if (values.get(key) == null) {
                    throw bad("has no " + key);
                }
            }
            if (kind.name().equals(Kind.FILE) && bytes == null) {
                throw bad("lacks the file's " + Kind.BYTES_FIELD);
            }
            PreparedStatement exists = statement(kind.exists());
            for (int i = 0; i < kind.key().size(); i++) {
                exists.setObject(i + 1, values.get(kind.key().get(i)));
            }
            try (ResultSet found = exists.executeQuery()) {
                if (found.next()) {
                    throw new AdminException(kind.name() + " " + describeKey(kind, values) + " exists already in this database; "
                            + "nothing was imported");
                }
            }
            PreparedStatement insert = statement(kind.insert());
            for (int i = 0; i < kind.columns().size(); i++) {
                bind(insert, i + 1, kind.columns().get(i), values.get(kind.columns().get(i).name()));
            }
            insert.executeUpdate();
            if (bytes != null) {
                try (InputStream in = Files.newInputStream(bytes)) {
                    files.writeBytes(c, (String) values.get("id"), in);
                }
            }
            if (kind.name().equals("chunk")) {
                indexed.add(List.of((String) values.get("vector_store_id"), (String) values.get("file_id")));
            }
        }

        private PreparedStatement statement(String sql) throws SQLException {
            PreparedStatement statement = statements.get(sql);
            if (statement == null) {
                statement = c.prepareStatement(sql);
                statements.put(sql, statement);
            }
            return statement;
        }

        private static String describeKey(Kind kind, Map<String, Object> values) {
            return String.join("/", kind.key().stream().map(k -> String.valueOf(values.get(k))).toList());
        }

        private static void bind(PreparedStatement insert, int index, Column column, Object value) throws SQLException {
            switch (column.type()) {
                case TEXT -> insert.setString(index, (String) value);
                case NUMBER -> {
                    if (value == null) {
                        insert.setNull(index, Types.BIGINT);
                    } else {
                        insert.setLong(index, (Long) value);
                    }
                }
                case FLAG -> insert.setBoolean(index, Boolean.TRUE.equals(value));
                case BYTES -> insert.setBytes(index, (byte[]) value);
            }
        }

        private AdminException bad(String what) {
            return new AdminException(path + " line " + json.currentTokenLocation().getLineNr() + " " + what);
        }
    }
}
