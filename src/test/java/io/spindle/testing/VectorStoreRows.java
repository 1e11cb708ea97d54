package io.spindle.testing;

import io.spindle.api.Ids;
import io.spindle.api.Json;
import io.spindle.search.Embedder;
import io.spindle.search.VectorBytes;
import io.spindle.store.Database;
import io.spindle.store.IndexLog;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Vector stores, files and chunks written straight into the database, as ingestion writes them (chunks and the
 * index log in one transaction), for testing search without the ingestion routes.
 */
public final class VectorStoreRows {
    private final Database db;
    private final Embedder embedder;

    public VectorStoreRows(Database db, Embedder embedder) {
        this.db = db;
        this.embedder = embedder;
    }

    /** A vector store of {@code project} embedded with this embedder's model. */
    public String store(String project) {
        return store(project, embedder.modelName());
    }

    public String store(String project, String embeddingModel) {
        String id = Ids.vectorStore();
        long now = System.currentTimeMillis() / 1000;
        db.write(c -> exec(c, "INSERT INTO vector_stores (id, project, created_at, last_active_at, embedding_model, body) "
                + "VALUES (?, ?, ?, ?, ?, ?)", id, project, now, now, embeddingModel,
                Json.write(Map.of("id", id, "object", "vector_store"))));
        return id;
    }

    /** An uploaded file's row (no bytes: search needs only its name). */
    public String file(String project, String filename) {
        String id = Ids.file();
        long now = System.currentTimeMillis() / 1000;
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("object", "file");
        body.put("id", id);
        body.put("purpose", "assistants");
        body.put("filename", filename);
        db.write(c -> exec(c, "INSERT INTO files (id, project, purpose, created_at, body) VALUES (?, ?, ?, ?, ?)",
                id, project, "assistants", now, Json.write(body)));
        return id;
    }

    /** The file completed in the store: its chunks (one per text, embedded), its attributes, and an 'add' in the log. */
    public void complete(String project, String store, String fileId, Map<String, Object> attributes, String... texts) {
        List<float[]> vectors = embedder.embedPassages(List.of(texts));
        long now = System.currentTimeMillis() / 1000;
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("id", fileId);
        body.put("object", "vector_store.file");
        body.put("status", "completed");
        body.put("attributes", attributes);
        db.write(c -> {
            exec(c, "INSERT INTO vector_store_files (id, project, vector_store_id, file_id, created_at, status, body) "
                    + "VALUES (?, ?, ?, ?, ?, ?, ?)", Ids.vectorStore() + "_row", project, store, fileId, now, "completed", Json.write(body));
            for (int i = 0; i < texts.length; i++) {
                exec(c, "INSERT INTO chunks (vector_store_id, file_id, ordinal, text, tokens, embedding) VALUES (?, ?, ?, ?, ?, ?)",
                        store, fileId, i, texts[i], texts[i].split("\\s+").length, VectorBytes.encode(vectors.get(i)));
            }
            IndexLog.append(c, db.dialect(), IndexLog.ADD, store, fileId);
            return null;
        });
    }

    /** The file leaves the store: its chunks and row deleted, a 'remove' in the log. */
    public void remove(String store, String fileId) {
        db.write(c -> {
            exec(c, "DELETE FROM chunks WHERE vector_store_id = ? AND file_id = ?", store, fileId);
            exec(c, "DELETE FROM vector_store_files WHERE vector_store_id = ? AND file_id = ?", store, fileId);
            IndexLog.append(c, db.dialect(), IndexLog.REMOVE, store, fileId);
            return null;
        });
    }

    /** The store is deleted with all its chunks, as one 'remove' of the whole store. */
    public void deleteStore(String store) {
        db.write(c -> {
            exec(c, "DELETE FROM chunks WHERE vector_store_id = ?", store);
            exec(c, "DELETE FROM vector_store_files WHERE vector_store_id = ?", store);
            exec(c, "DELETE FROM vector_stores WHERE id = ?", store);
            IndexLog.append(c, db.dialect(), IndexLog.REMOVE, store, null);
            return null;
        });
    }

    public void expire(String store) {
        db.write(c -> exec(c, "UPDATE vector_stores SET expired = ? WHERE id = ?", true, store));
    }

    private static Object exec(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            ps.executeUpdate();
        }
        return null;
    }
}
