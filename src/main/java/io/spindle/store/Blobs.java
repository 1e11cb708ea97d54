package io.spindle.store;

import java.io.IOException;
import java.io.InputStream;
import java.sql.Connection;
import java.util.function.Predicate;

/**
 * The bytes of uploaded files, stored beside their rows and never whole in memory: as files under
 * the data directory with SQLite ({@link DiskBlobs}), inside the database with PostgreSQL
 * ({@link DatabaseBlobs}), so that every node reads every file. A blob becomes visible only
 * together with its row, and goes away with it; a crash at any point leaves neither a row without
 * its bytes nor, once {@link #sweep} ran at start-up, bytes without their row.
 */
public interface Blobs {

    /**
     * Reads {@code bytes} to its end into a new blob for the file {@code id}; nothing of it is
     * visible until {@link Received#commit}. A failure of the stream (the client went away, the
     * form was malformed, a size limit) leaves nothing behind and is thrown as it came.
     */
    Received receive(String id, InputStream bytes) throws IOException;

    /** A blob received but not stored yet. Closing it without a commit drops its bytes. */
    interface Received extends AutoCloseable {
        long size();

        /** Makes the blob the file's for good, together with the row that {@code row} writes in its transaction. */
        void commit(Database.Work<?> row);

        @Override
        void close();
    }

    /**
     * Stores the bytes of the file {@code id} as part of the transaction on {@code c}, which writes the file's row too
     * (an import). On disk they are in place before that transaction commits: a rollback leaves bytes without a row,
     * which {@link #sweep} removes.
     */
    void write(Connection c, String id, InputStream bytes) throws IOException;

    /** The bytes of a stored file of {@code size} bytes, read as a stream. */
    InputStream open(String id, long size) throws IOException;

    /**
     * Deletes a file: {@code row} deletes its row in a transaction and says whether there was one;
     * if so the bytes go too (in that transaction, or right after it commits).
     */
    boolean delete(String id, Database.Work<Boolean> row);

    /** At start-up: removes bytes a crash left behind, half-received or without a row ({@code hasRow} says). */
    void sweep(Predicate<String> hasRow);
}
