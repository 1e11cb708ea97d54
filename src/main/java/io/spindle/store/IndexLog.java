package io.spindle.store;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * Appends to {@code index_changes}, the log every node's search index follows, inside the caller's
 * transaction (the one that changed the chunks). On PostgreSQL appends take one advisory lock, so
 * that seq order is commit order: a follower reading "seq &gt; last applied" then never skips a
 * change that committed after a later one. SQLite has one writer anyway.
 */
public final class IndexLog {
    /** The file's chunks as they are now in {@code chunks} (with its attributes and name) belong in the index. */
    public static final String ADD = "add";
    /** The file's chunks, or with no file the whole store's, leave the index. */
    public static final String REMOVE = "remove";

    private static final long APPEND_LOCK = 0x5370_696e_646c_6531L;

    private IndexLog() {}

    public static void append(Connection c, Database.Dialect dialect, String kind, String vectorStoreId, String fileId)
            throws SQLException {
        dialect.serialize(c, APPEND_LOCK);
        Sql.update(c, "INSERT INTO index_changes (kind, vector_store_id, file_id) VALUES (?, ?, ?)", kind, vectorStoreId, fileId);
    }
}
