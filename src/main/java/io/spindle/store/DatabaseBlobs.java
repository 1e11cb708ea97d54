package io.spindle.store;

import java.io.IOException;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.function.Predicate;

/**
 * Blobs inside PostgreSQL, in {@code file_chunks} rows of 1 MiB, so that every node of a cluster
 * reads every file. The chunks are written, as they arrive, in the transaction that then inserts
 * the file's row: a crash mid-upload rolls both back, so nothing is ever left to sweep. That
 * transaction holds a pooled connection while the upload lasts. Reading fetches one chunk at a time,
 * each on a connection taken from the pool only for that query, so a slow reader holds none.
 */
final class DatabaseBlobs implements Blobs {
    static final int CHUNK = 1 << 20;

    private final Database db;

    DatabaseBlobs(Database db) {
        this.db = db;
    }

    @Override
    public Received receive(String id, InputStream bytes) throws IOException {
        Connection c = db.transaction();
        try (PreparedStatement insert = c.prepareStatement("INSERT INTO file_chunks (file_id, seq, data) VALUES (?, ?, ?)")) {
            byte[] buffer = new byte[CHUNK];
            long size = 0;
            int seq = 0;
            for (int n; (n = bytes.readNBytes(buffer, 0, CHUNK)) > 0; size += n) {
                insert.setString(1, id);
                insert.setInt(2, seq++);
                insert.setBytes(3, n == CHUNK ? buffer : Arrays.copyOf(buffer, n));
                insert.executeUpdate();
            }
            return new Pending(c, size);
        } catch (SQLException e) {
            Database.release(c);
            throw new StoreException(e);
        } catch (IOException | RuntimeException | Error e) {
            Database.release(c);
            throw e;
        }
    }

    /** Chunks written in an open transaction, which commits with the file's row. */
    private static final class Pending implements Received {
        private final Connection c;
        private final long size;
        private boolean done;

        Pending(Connection c, long size) {
            this.c = c;
            this.size = size;
        }

        @Override
        public long size() {
            return size;
        }

        @Override
        public void commit(Database.Work<?> row) {
            try {
                row.run(c);
                c.commit();
            } catch (SQLException e) {
                throw new StoreException(e);
            } finally {
                close();
            }
        }

        @Override
        public void close() {
            if (!done) {
                done = true;
                Database.release(c); // rolls back whatever did not commit
            }
        }
    }

    @Override
    public InputStream open(String id, long size) {
        return new ChunkStream(id, size);
    }

    @Override
    public boolean delete(String id, Database.Work<Boolean> row) {
        return db.write(c -> {
            boolean deleted = row.run(c);
            if (deleted) {
                Sql.update(c, "DELETE FROM file_chunks WHERE file_id = ?", id);
            }
            return deleted;
        });
    }

    /** Nothing to do: chunks commit and go in their row's transaction, so a crash leaves none behind. */
    @Override
    public void sweep(Predicate<String> hasRow) {}

    /** A file's chunks in order, one query per chunk. */
    private final class ChunkStream extends InputStream {
        private final String id;
        private final long size;
        private byte[] chunk = new byte[0];
        private int pos;
        private int nextSeq;
        private long delivered;

        ChunkStream(String id, long size) {
            this.id = id;
            this.size = size;
        }

        @Override
        public int read() throws IOException {
            if (!ensureChunk()) {
                return -1;
            }
            delivered++;
            return chunk[pos++] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (!ensureChunk()) {
                return -1;
            }
            int n = Math.min(len, chunk.length - pos);
            System.arraycopy(chunk, pos, b, off, n);
            pos += n;
            delivered += n;
            return n;
        }

        /** False at the end of the file. */
        private boolean ensureChunk() throws IOException {
            if (pos < chunk.length) {
                return true;
            }
            if (delivered >= size) {
                return false;
            }
            int seq = nextSeq++;
            byte[] next = db.read(c -> {
                try (PreparedStatement ps = Sql.prepare(c, "SELECT data FROM file_chunks WHERE file_id = ? AND seq = ?", id, seq);
                     ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getBytes(1) : null;
                }
            });
            if (next == null || next.length == 0) {
                throw new IOException("file " + id + " was deleted while it was being read");
            }
            chunk = next;
            pos = 0;
            return true;
        }
    }
}
