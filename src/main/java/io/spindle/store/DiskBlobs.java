package io.spindle.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.util.function.Predicate;
import java.util.logging.Logger;
import java.util.regex.Pattern;

/**
 * Blobs as files under {@code <data dir>/files/}, one per file id, for SQLite. A blob is received
 * into {@code files/incoming/}, synced to disk, and renamed into place (atomic on one file system)
 * just before its row commits; a row therefore always has its bytes. A crash can leave a
 * half-received file in {@code incoming/} or a renamed one whose row never committed (or whose row
 * was deleted just before): {@link #sweep} removes both at start-up.
 */
final class DiskBlobs implements Blobs {
    private static final Logger LOG = Logger.getLogger(DiskBlobs.class.getName());
    /** File ids are the only names in the folder; anything else is refused before it touches a path. */
    private static final Pattern NAME = Pattern.compile("file-[A-Za-z0-9]+");
    private static final int BUFFER = 1 << 20;

    private final Path dir;
    private final Path incoming;
    private final Database db;

    DiskBlobs(Path dataDir, Database db) {
        this.dir = dataDir.resolve("files");
        this.incoming = dir.resolve("incoming");
        this.db = db;
        try {
            Files.createDirectories(incoming);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the file folder " + incoming, e);
        }
    }

    @Override
    public Received receive(String id, InputStream bytes) throws IOException {
        return stage(id, bytes);
    }

    @Override
    public void write(Connection c, String id, InputStream bytes) throws IOException {
        try (Staged staged = stage(id, bytes)) {
            staged.place();
        }
    }

    private Staged stage(String id, InputStream bytes) throws IOException {
        Path part = incoming.resolve(name(id));
        try (FileChannel out = FileChannel.open(part, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            long size = copy(bytes, out);
            out.force(true);
            return new Staged(id, part, size);
        } catch (IOException | RuntimeException | Error e) {
            Files.deleteIfExists(part);
            throw e;
        }
    }

    /** Copies in large writes: the form parser hands out a few hundred bytes per read. */
    private static long copy(InputStream in, FileChannel out) throws IOException {
        byte[] buffer = new byte[BUFFER];
        long size = 0;
        for (int n; (n = in.readNBytes(buffer, 0, buffer.length)) > 0; size += n) {
            ByteBuffer data = ByteBuffer.wrap(buffer, 0, n);
            while (data.hasRemaining()) {
                out.write(data);
            }
        }
        return size;
    }

    private final class Staged implements Received {
        private final String id;
        private final Path part;
        private final long size;

        Staged(String id, Path part, long size) {
            this.id = id;
            this.part = part;
            this.size = size;
        }

        @Override
        public long size() {
            return size;
        }

        @Override
        public void commit(Database.Work<?> row) {
            Path blob;
            try {
                blob = place();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            try {
                db.write(row);
            } catch (RuntimeException | Error e) {
                deleteQuietly(blob);
                throw e;
            }
        }

        /** Moves the bytes to where they are read from, durably. */
        Path place() throws IOException {
            Path blob = dir.resolve(id);
            Files.move(part, blob, StandardCopyOption.ATOMIC_MOVE);
            syncFolder();
            return blob;
        }

        @Override
        public void close() {
            deleteQuietly(part); // gone already once committed
        }
    }

    @Override
    public InputStream open(String id, long size) throws IOException {
        return Files.newInputStream(dir.resolve(name(id)));
    }

    @Override
    public boolean delete(String id, Database.Work<Boolean> row) {
        boolean deleted = db.write(row);
        if (deleted) {
            deleteQuietly(dir.resolve(name(id)));
        }
        return deleted;
    }

    @Override
    public void sweep(Predicate<String> hasRow) {
        int removed = 0;
        try (DirectoryStream<Path> parts = Files.newDirectoryStream(incoming)) {
            for (Path part : parts) {
                removed += deleteQuietly(part) ? 1 : 0;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try (DirectoryStream<Path> blobs = Files.newDirectoryStream(dir, Files::isRegularFile)) {
            for (Path blob : blobs) {
                String id = blob.getFileName().toString();
                if (NAME.matcher(id).matches() && !hasRow.test(id)) {
                    removed += deleteQuietly(blob) ? 1 : 0;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (removed > 0) {
            LOG.info("removed " + removed + " blob file(s) that an interrupted upload or delete left in " + dir);
        }
    }

    private static String name(String id) {
        if (!NAME.matcher(id).matches()) {
            throw new IllegalArgumentException("not a file id: " + id);
        }
        return id;
    }

    /** Makes the rename durable: the folder's entry is synced like the file's bytes. */
    private void syncFolder() throws IOException {
        try (FileChannel folder = FileChannel.open(dir, StandardOpenOption.READ)) {
            folder.force(true);
        }
    }

    private static boolean deleteQuietly(Path path) {
        try {
            return Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.warning("could not delete " + path + " (the next start-up removes it): " + e);
            return false;
        }
    }
}
