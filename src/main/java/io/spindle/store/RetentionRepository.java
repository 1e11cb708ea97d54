package io.spindle.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What retention reads and deletes: threads idle since a cutoff, and files no object has referred to since one. Each
 * call is one short read or one short transaction; the engine ({@code engine/Retention}) batches and paces them.
 *
 * <p>A thread is idle since {@code cutoff} (epoch seconds) when it was created and last modified at or before it
 * ({@code threads.modified_at}: the thread or one of its messages modified, a message deleted), no message or run of
 * it was created after it, and it has no active run. A file's {@code referenced_at} is the last time a sweep found it
 * referenced, or first saw it: by an assistant's or thread's tool resources, a message (attachments, image_file
 * content, annotations), a run step (code_interpreter's images and files), or a vector store that has not expired.
 */
public final class RetentionRepository {
    private static final String ACTIVE = "('queued', 'in_progress', 'requires_action', 'cancelling')";
    private static final String IDLE = "t.created_at <= ? AND (t.modified_at IS NULL OR t.modified_at <= ?) "
            + "AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.thread_id = t.id AND m.created_at > ?) "
            + "AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.thread_id = t.id AND (r.created_at > ? OR r.status IN " + ACTIVE + "))";
    /** The tables whose objects refer to files inside their JSON; file ids appear there as JSON strings. */
    private static final List<String> REFERRING = List.of("assistants", "threads", "messages", "run_steps");
    private static final Pattern FILE_ID = Pattern.compile("\"(file-[A-Za-z0-9]+)\"");
    /** Rows read per query when scanning for references. */
    private static final int SCAN_PAGE = 500;

    /** A thread or file found by a sweep; {@code seq} is where the next page starts. */
    public record Row(long seq, String project, String id) {}

    /** What deleting threads took along. */
    public record DeletedThreads(int threads, int messages, int runs, int steps) {
        public static final DeletedThreads NONE = new DeletedThreads(0, 0, 0, 0);

        public DeletedThreads plus(DeletedThreads other) {
            return new DeletedThreads(threads + other.threads, messages + other.messages, runs + other.runs, steps + other.steps);
        }
    }

    /** The last row of each referring table when a scan for references began: rows written later are checked one by one. */
    public record Watermark(Map<String, Long> lastSeq) {}

    private final Database db;

    public RetentionRepository(Database db) {
        this.db = db;
    }

    /** Up to {@code limit} threads idle since {@code cutoff}, after {@code afterSeq} in insertion order. */
    public List<Row> idleThreads(long cutoff, long afterSeq, int limit) {
        return db.read(c -> rows(c, "SELECT t.seq, t.project, t.id FROM threads t WHERE t.seq > ? AND " + IDLE + " ORDER BY t.seq LIMIT ?",
                afterSeq, cutoff, cutoff, cutoff, cutoff, limit));
    }

    /**
     * Deletes these threads with every row hanging off them, in one transaction, each only if it is still idle since
     * {@code cutoff}: on PostgreSQL the thread's row is locked first, as message and run creation lock it, so a thread
     * that just became active is kept.
     */
    public DeletedThreads deleteIdleThreads(List<Row> threads, long cutoff) {
        String lock = db.dialect().forUpdate;
        return db.write(c -> {
            DeletedThreads total = DeletedThreads.NONE;
            for (Row t : threads) {
                if (!Sql.exists(c, "SELECT 1 FROM threads WHERE id = ?" + lock, t.id())
                        || !Sql.exists(c, "SELECT 1 FROM threads t WHERE t.id = ? AND " + IDLE, t.id(), cutoff, cutoff, cutoff, cutoff)) {
                    continue;
                }
                JdbcStore.DeletedThread one = JdbcStore.deleteThread(c, t.project(), t.id()).orElseThrow();
                total = total.plus(new DeletedThreads(1, one.messages(), one.runs(), one.steps()));
            }
            return total;
        });
    }

    /**
     * Starts the clock of up to {@code limit} files no sweep has seen yet: they count as referenced {@code now}; returns
     * how many.
     */
    public int startFileClocks(long now, int limit) {
        return db.write(c -> Sql.update(c, "UPDATE files SET referenced_at = ? WHERE id IN "
                + "(SELECT id FROM files WHERE referenced_at IS NULL LIMIT ?)", now, limit));
    }

    /** Up to {@code limit} files not found referenced since {@code cutoff}, longest unreferenced first. */
    public List<Row> unreferencedSince(long cutoff, int limit) {
        return db.read(c -> rows(c, "SELECT seq, project, id FROM files WHERE referenced_at <= ? ORDER BY referenced_at, seq LIMIT ?",
                cutoff, limit));
    }

    /** Where the referring tables end now: take it before {@link #referencedAmong}, for {@link #stillUnreferenced}. */
    public Watermark watermark() {
        return db.read(c -> {
            Map<String, Long> last = new HashMap<>();
            for (String table : REFERRING) {
                try (PreparedStatement ps = Sql.prepare(c, "SELECT COALESCE(MAX(seq), 0) FROM " + table); ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    last.put(table, rs.getLong(1));
                }
            }
            return new Watermark(last);
        });
    }

    /**
     * The files among {@code fileIds} that something refers to at {@code now}: reads the referring tables a page at a
     * time (one short read each) and the vector store rows of these files.
     */
    public Set<String> referencedAmong(Set<String> fileIds, long now) {
        Set<String> found = new HashSet<>();
        for (String table : REFERRING) {
            long after = 0;
            while (after >= 0) {
                long from = after;
                after = db.read(c -> scanPage(c, table, from, fileIds, found));
            }
        }
        List<String> ids = List.copyOf(fileIds);
        for (int i = 0; i < ids.size(); i += SCAN_PAGE) {
            List<String> page = ids.subList(i, Math.min(ids.size(), i + SCAN_PAGE));
            found.addAll(db.read(c -> inLiveVectorStores(c, page, now)));
        }
        return found;
    }

    /** Adds to {@code found} the ids of {@code wanted} that a page of {@code table} names; returns the page's last seq, -1 at the end. */
    private static long scanPage(Connection c, String table, long afterSeq, Set<String> wanted, Set<String> found) throws SQLException {
        long last = -1;
        int read = 0;
        try (PreparedStatement ps = Sql.prepare(c, "SELECT seq, body FROM " + table + " WHERE seq > ? AND body LIKE ? ORDER BY seq LIMIT ?",
                afterSeq, "%\"file-%", SCAN_PAGE); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                read++;
                last = rs.getLong(1);
                Matcher m = FILE_ID.matcher(rs.getString(2));
                while (m.find()) {
                    if (wanted.contains(m.group(1))) {
                        found.add(m.group(1));
                    }
                }
            }
        }
        return read < SCAN_PAGE ? -1 : last;
    }

    private static List<String> inLiveVectorStores(Connection c, List<String> fileIds, long now) throws SQLException {
        String marks = String.join(", ", fileIds.stream().map(id -> "?").toList());
        List<Object> args = new ArrayList<>(fileIds);
        args.add(now);
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = Sql.prepare(c, "SELECT DISTINCT f.file_id FROM vector_store_files f "
                + "JOIN vector_stores s ON s.id = f.vector_store_id WHERE f.file_id IN (" + marks + ") "
                + "AND NOT s.expired AND (s.expires_at IS NULL OR s.expires_at > ?)", args.toArray()); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    /** The files were found referenced {@code now}: their clock starts again. */
    public void markReferenced(Collection<String> fileIds, long now) {
        db.write(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE files SET referenced_at = ? WHERE id = ?")) {
                for (String id : fileIds) {
                    ps.setLong(1, now);
                    ps.setString(2, id);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return null;
        });
    }

    /**
     * The check a file's deletion runs in its transaction: the file (locked first on PostgreSQL, as vector stores lock
     * it to add it) is still unreferenced since {@code cutoff}, in no live vector store, and named by no row written
     * after {@code scanned} was taken. A row changed in place since then (an assistant or thread modified to name
     * the file) is not seen: the scan just found none, so only a change in the moments between scan and delete can be.
     */
    public Database.Work<Boolean> stillUnreferenced(String fileId, long cutoff, long now, Watermark scanned) {
        String lock = db.dialect().forUpdate;
        return c -> {
            if (!Sql.exists(c, "SELECT 1 FROM files WHERE id = ? AND referenced_at <= ?" + lock, fileId, cutoff)
                    || !inLiveVectorStores(c, List.of(fileId), now).isEmpty()) {
                return false;
            }
            for (String table : REFERRING) {
                if (Sql.exists(c, "SELECT 1 FROM " + table + " WHERE seq > ? AND body LIKE ?",
                        scanned.lastSeq().get(table), "%\"" + fileId + "\"%")) {
                    return false;
                }
            }
            return true;
        };
    }

    private static List<Row> rows(Connection c, String sql, Object... args) throws SQLException {
        List<Row> out = new ArrayList<>();
        try (PreparedStatement ps = Sql.prepare(c, sql, args); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new Row(rs.getLong(1), rs.getString(2), rs.getString(3)));
            }
        }
        return out;
    }
}
