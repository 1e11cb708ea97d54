package io.spindle.store;

import com.fasterxml.jackson.databind.JsonNode;
import io.spindle.api.Json;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What searching reads: the log of chunk changes ({@code index_changes}, written through {@link IndexLog}), the
 * chunks of a file as they are now with the file's name and attributes.
 */
public final class ChunkRepository {
    private final Database db;

    public ChunkRepository(Database db) {
        this.db = db;
    }

    /** One entry of the log: {@link IndexLog#ADD} or {@link IndexLog#REMOVE}; {@code fileId} null means the whole store. */
    public record Change(long seq, String kind, String vectorStoreId, String fileId) {}

    /** A chunk as stored; {@code embedding} is float32 little-endian. */
    public record StoredChunk(int ordinal, String text, byte[] embedding) {}

    /** A file's chunks in one vector store, with what searches return and filter on. */
    public record StoredFile(String vectorStoreId, String fileId, String embeddingModel, String fileName,
                             Map<String, Object> attributes, List<StoredChunk> chunks) {}

    /** The changes after {@code seq}, oldest first, at most {@code limit}. */
    public List<Change> changesAfter(long seq, int limit) {
        return db.read(c -> {
            try (PreparedStatement ps = Sql.prepare(c,
                    "SELECT seq, kind, vector_store_id, file_id FROM index_changes WHERE seq > ? ORDER BY seq LIMIT ?", seq, limit);
                 ResultSet rs = ps.executeQuery()) {
                List<Change> changes = new ArrayList<>();
                while (rs.next()) {
                    changes.add(new Change(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4)));
                }
                return changes;
            }
        });
    }

    /**
     * The file's chunks in the store as they are now, in order; empty when it has none (it was removed since the
     * change that named it, or its store is gone). The name is the uploaded file's, or its id once the file itself is gone.
     */
    public Optional<StoredFile> file(String vectorStoreId, String fileId) {
        return db.read(c -> {
            List<StoredChunk> chunks = new ArrayList<>();
            try (PreparedStatement ps = Sql.prepare(c, "SELECT ordinal, text, embedding FROM chunks "
                    + "WHERE vector_store_id = ? AND file_id = ? ORDER BY ordinal", vectorStoreId, fileId);
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    chunks.add(new StoredChunk(rs.getInt(1), rs.getString(2), rs.getBytes(3)));
                }
            }
            if (chunks.isEmpty()) {
                return Optional.empty();
            }
            Optional<String> model = Optional.empty();
            try (PreparedStatement ps = Sql.prepare(c, "SELECT embedding_model FROM vector_stores WHERE id = ?", vectorStoreId);
                 ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    model = Optional.of(rs.getString(1));
                }
            }
            if (model.isEmpty()) {
                return Optional.empty();
            }
            String fileName = fileId;
            Map<String, Object> attributes = Map.of();
            try (PreparedStatement ps = Sql.prepare(c, "SELECT body FROM files WHERE id = ?", fileId); ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    fileName = Json.readTree(rs.getString(1)).path("filename").asText(fileId);
                }
            }
            try (PreparedStatement ps = Sql.prepare(c, "SELECT body FROM vector_store_files WHERE vector_store_id = ? AND file_id = ?",
                    vectorStoreId, fileId); ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    attributes = attributes(Json.readTree(rs.getString(1)).path("attributes"));
                }
            }
            return Optional.of(new StoredFile(vectorStoreId, fileId, model.get(), fileName, attributes, List.copyOf(chunks)));
        });
    }

    /** Strings, numbers and booleans as Java values; nulls (and anything else) are left out. */
    private static Map<String, Object> attributes(JsonNode json) {
        Map<String, Object> attributes = new LinkedHashMap<>();
        json.properties().forEach(entry -> {
            JsonNode v = entry.getValue();
            if (v.isTextual()) {
                attributes.put(entry.getKey(), v.textValue());
            } else if (v.isNumber()) {
                attributes.put(entry.getKey(), v.numberValue());
            } else if (v.isBoolean()) {
                attributes.put(entry.getKey(), v.booleanValue());
            }
        });
        return attributes;
    }
}
