package io.spindle.store;

import java.io.IOException;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;
import org.postgresql.PGStatement;

/**
 * Blobs inside PostgreSQL, in {@code file_chunks} rows of 1 MiB, so that every node of a cluster
 * reads every file. The chunks are written, as they arrive, in the transaction that then inserts
 * the file's row: a crash mid-upload rolls both back, so nothing is ever left to sweep. That
 * transaction holds a pooled connection while the upload lasts. Reading fetches one chunk at a time,
 * each on a connection taken from the pool only for that query, so a slow reader holds none.
 *
 * <p>A chunk is read as pieces of {@link #PIECE} bytes, in PostgreSQL's binary format. Read whole,
 * every 1 MiB chunk was an array too large for G1's young generation (a "humongous" object: over
 * half a region, and regions are 1 MiB up to a 2 GiB heap), and in the text format the driver uses
 * for a query's first executions on a connection, 2 MiB of hex decoded into a third array. That
 * garbage made a 512 MiB download grow the heap to its {@code -Xmx} cap.
 */
final class DatabaseBlobs implements Blobs {
    static final int CHUNK = 1 << 20;
    /** The most bytes one array read holds: below half of G1's smallest region (1 MiB). */
    static final int PIECE = 256 * 1024;
    /** pgjdbc's value for "server-prepare and read the results in binary at once" (any negative threshold). */
    private static final int BINARY_FROM_THE_FIRST_EXECUTION = -1;
    private static final String READ_CHUNK = "SELECT substring(data FROM piece FOR ?) FROM file_chunks, "
            + "generate_series(1, octet_length(data), ?) AS piece WHERE file_id = ? AND seq = ? ORDER BY piece";

    private final Database db;

    DatabaseBlobs(Database db) {
        this.db = db;
    }

    @Override
    public Received receive(String id, InputStream bytes) throws IOException {
        Connection c = db.transaction();
        try {
            return new Pending(c, insertChunks(c, id, bytes));
        } catch (SQLException e) {
            Database.release(c);
            throw new StoreException(e);
        } catch (IOException | RuntimeException | Error e) {
            Database.release(c);
            throw e;
        }
    }

    @Override
    public void write(Connection c, String id, InputStream bytes) throws IOException {
        try {
            insertChunks(c, id, bytes);
        } catch (SQLException e) {
            throw new StoreException(e);
        }
    }

    /** Writes the bytes as 1 MiB chunks in the transaction on {@code c}; returns their size. */
    private static long insertChunks(Connection c, String id, InputStream bytes) throws SQLException, IOException {
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
            return size;
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
        private final ArrayDeque<byte[]> pieces = new ArrayDeque<>();
        private byte[] piece = new byte[0];
        private int pos;
        private int nextSeq;
        private long delivered;

        ChunkStream(String id, long size) {
            this.id = id;
            this.size = size;
        }

        @Override
        public int read() throws IOException {
            if (!ensurePiece()) {
                return -1;
            }
            delivered++;
            return piece[pos++] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (!ensurePiece()) {
                return -1;
            }
            int n = Math.min(len, piece.length - pos);
            System.arraycopy(piece, pos, b, off, n);
            pos += n;
            delivered += n;
            return n;
        }

        /** False at the end of the file. */
        private boolean ensurePiece() throws IOException {
            if (pos < piece.length) {
                return true;
            }
            if (pieces.isEmpty()) {
                if (delivered >= size) {
                    return false;
                }
                pieces.addAll(readChunk(nextSeq++));
                if (pieces.isEmpty()) {
                    throw new IOException("file " + id + " was deleted while it was being read");
                }
            }
            piece = pieces.removeFirst();
            pos = 0;
            return true;
        }

        private List<byte[]> readChunk(int seq) {
            return db.read(c -> {
                try (PreparedStatement ps = Sql.prepare(c, READ_CHUNK, PIECE, PIECE, id, seq)) {
                    ps.unwrap(PGStatement.class).setPrepareThreshold(BINARY_FROM_THE_FIRST_EXECUTION);
                    List<byte[]> read = new ArrayList<>(CHUNK / PIECE);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            read.add(rs.getBytes(1));
                        }
                    }
                    return read;
                }
            });
        }
    }
}
