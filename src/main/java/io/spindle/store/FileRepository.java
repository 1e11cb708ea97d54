package io.spindle.store;

import io.spindle.api.FileObject;
import io.spindle.api.Json;
import io.spindle.api.ListPage;
import io.spindle.api.ListQuery;
import io.spindle.api.StoredJson;
import io.spindle.api.Tools;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * Uploaded files: their rows (the object as the API shows it, in {@code files}) and their bytes
 * ({@link Blobs}, chosen once by dialect). Every call is scoped to a project. A file past its
 * {@code expires_at} reads as deleted at once; {@link #deleteExpired} removes it for good.
 */
public final class FileRepository {
    private static final Logger LOG = Logger.getLogger(FileRepository.class.getName());
    private static final String NOT_EXPIRED = "expires_at IS NULL OR expires_at > ?";
    /** Expired files removed per pass of {@link #deleteExpired}; the next pass takes the rest. */
    private static final int EXPIRED_PER_PASS = 1_000;

    private final Database db;
    private final Blobs blobs;
    private final InstantSource clock;

    private FileRepository(Database db, Blobs blobs, InstantSource clock) {
        this.db = db;
        this.blobs = blobs;
        this.clock = clock;
    }

    /**
     * The files of this database, their bytes under {@code dataDir} with SQLite or in the database
     * with PostgreSQL; first removes the bytes a crash left without a row.
     */
    public static FileRepository open(Database db, Path dataDir, InstantSource clock) {
        Blobs blobs = switch (db.dialect()) {
            case SQLITE -> new DiskBlobs(dataDir, db);
            case POSTGRESQL -> new DatabaseBlobs(db);
        };
        FileRepository files = new FileRepository(db, blobs, clock);
        blobs.sweep(files::hasRow);
        return files;
    }

    /** Receives a new file's bytes; they are stored for good by {@link #insert}, or dropped when the result is closed first. */
    public Blobs.Received receive(String id, InputStream bytes) throws IOException {
        return blobs.receive(id, bytes);
    }

    /** Stores a file: its row together with the bytes received for it. */
    public void insert(String project, FileObject file, Blobs.Received bytes) {
        bytes.commit(c -> Sql.update(c, "INSERT INTO files (id, project, purpose, created_at, expires_at, body) VALUES (?, ?, ?, ?, ?, ?)",
                file.id(), project, file.purpose(), file.createdAt(), file.expiresAt(), Json.write(file)));
    }

    public Optional<FileObject> file(String project, String id) {
        return db.read(c -> Sql.one(c, FileObject.class,
                "SELECT body FROM files WHERE project = ? AND id = ? AND (" + NOT_EXPIRED + ")", project, id, now()));
    }

    /** A page of the project's files, each as stored; {@code purpose} filters when not null. */
    public ListPage<StoredJson> files(String project, String purpose, ListQuery query) {
        Sql.Scope scope = Sql.Scope.of(project).where(NOT_EXPIRED, now());
        if (purpose != null) {
            scope = scope.and("purpose", purpose);
        }
        Sql.Scope files = scope;
        return db.read(c -> Sql.page(c, "files", files, query));
    }

    /** The bytes of a file found by {@link #file}; empty when it was deleted in between. */
    public Optional<InputStream> content(FileObject file) throws IOException {
        try {
            return Optional.of(blobs.open(file.id(), file.bytes()));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /** Stores an imported file's bytes in the transaction on {@code c}, which also inserts its row. */
    public void writeBytes(Connection c, String id, InputStream bytes) throws IOException {
        blobs.write(c, id, bytes);
    }

    /** Deletes a file, its bytes, and every reference to it ({@link #detach}); false when the project has no such file. */
    public boolean delete(String project, String id) {
        return blobs.delete(id, c -> deleteRow(c, project, id, true));
    }

    /**
     * Deletes a file as {@link #delete} does, if {@code allowed}, run first in the same transaction, says it may go
     * (retention: nothing refers to it); false when it stays or there is no such file.
     */
    public boolean deleteIf(String project, String id, Database.Work<Boolean> allowed) {
        return blobs.delete(id, c -> allowed.run(c) && deleteRow(c, project, id, false));
    }

    /** Deletes the files past their {@code expires_at}, as if deleted through the API; returns how many. */
    public int deleteExpired() {
        record Expired(String project, String id) {}
        List<Expired> expired = db.read(c -> {
            List<Expired> out = new ArrayList<>();
            try (PreparedStatement ps = Sql.prepare(c, "SELECT project, id FROM files WHERE expires_at <= ? ORDER BY expires_at LIMIT ?",
                    now(), EXPIRED_PER_PASS); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Expired(rs.getString(1), rs.getString(2)));
                }
            }
            return out;
        });
        int deleted = 0;
        for (Expired e : expired) {
            deleted += blobs.delete(e.id(), c -> deleteRow(c, e.project(), e.id(), false)) ? 1 : 0;
        }
        if (deleted > 0) {
            LOG.fine("deleted " + deleted + " expired file(s)");
        }
        return deleted;
    }

    /**
     * Deletes a file's row (an expired one too unless {@code unexpiredOnly}), keeping its place as a
     * page cursor, and lets go of the file everywhere; false when there was no such row. The row is
     * locked first on PostgreSQL, so that two deletes of one file (two nodes sweeping, a client's
     * retry) take turns and the second finds nothing.
     */
    private boolean deleteRow(Connection c, String project, String id, boolean unexpiredOnly) throws SQLException {
        String lock = db.dialect().forUpdate;
        boolean found = unexpiredOnly
                ? Sql.exists(c, "SELECT 1 FROM files WHERE project = ? AND id = ? AND (" + NOT_EXPIRED + ")" + lock, project, id, now())
                : Sql.exists(c, "SELECT 1 FROM files WHERE project = ? AND id = ?" + lock, project, id);
        if (!found) {
            return false;
        }
        Sql.keepCursor(c, "files", project, id);
        Sql.update(c, "DELETE FROM files WHERE project = ? AND id = ?", project, id);
        detach(c, project, id);
        return true;
    }

    /**
     * Lets go of a deleted file everywhere the project refers to it, in the delete's transaction:
     * {@code tool_resources.code_interpreter.file_ids} of assistants and threads, and every vector
     * store holding it (its chunks leave the index too).
     */
    private void detach(Connection c, String project, String fileId) throws SQLException {
        VectorStoreRepository.detachEverywhere(c, db.dialect(), project, fileId);
        String lock = db.dialect().forUpdate;
        for (String table : List.of("assistants", "threads")) {
            List<StoredJson> holders = new ArrayList<>();
            // the LIKE only narrows the rows to parse; detachFile decides
            try (PreparedStatement ps = Sql.prepare(c, "SELECT id, body FROM " + table + " WHERE project = ? AND body LIKE ?" + lock,
                    project, "%\"" + fileId + "\"%"); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    holders.add(new StoredJson(rs.getString(1), rs.getString(2)));
                }
            }
            for (StoredJson holder : holders) {
                var body = Json.readTree(holder.json());
                if (Tools.detachFile(body, fileId)) {
                    Sql.update(c, "UPDATE " + table + " SET body = ? WHERE project = ? AND id = ?", Json.write(body), project, holder.id());
                }
            }
        }
    }

    private boolean hasRow(String id) {
        return db.read(c -> Sql.exists(c, "SELECT 1 FROM files WHERE id = ?", id));
    }

    private long now() {
        return clock.instant().getEpochSecond();
    }
}
