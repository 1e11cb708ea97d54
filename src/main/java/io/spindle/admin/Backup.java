package io.spindle.admin;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A consistent copy of a SQLite data directory, taken while a server may be using it: a new directory holding
 * {@code spindle.db} and the file blobs under {@code files/}, a data directory a server starts on as it is.
 *
 * <p>The database is copied with {@code VACUUM INTO}, one read transaction: SQLite's WAL lets the server go on writing
 * meanwhile, and the copy is the database as of one commit. The blobs are then copied for the files of that copy.
 * Blobs never change once stored, but one can be deleted (its file deleted or expired) between the two steps; the copy
 * is then taken again, so every file row of the backup has its bytes. The server's lock on the directory is not taken.
 */
public final class Backup {
    private static final int ATTEMPTS = 5;
    private static final String DATABASE = "spindle.db";
    private static final String FILES = "files";
    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));

    private Backup() {}

    /** What a backup holds. */
    public record Taken(long databaseBytes, int files, long fileBytes) {}

    public static Taken take(Path dataDir, Path target) throws IOException {
        Path source = dataDir.resolve(DATABASE);
        if (!Files.isRegularFile(source)) {
            throw new AdminException("there is no database to back up in " + dataDir.toAbsolutePath() + " (SPINDLE_DATA_DIR)");
        }
        try {
            Files.createDirectory(target, OWNER_ONLY);
        } catch (FileAlreadyExistsException e) {
            throw new AdminException(target + " exists already; a backup goes into a new directory");
        } catch (NoSuchFileException e) {
            throw new AdminException("cannot create " + target + ": its parent directory does not exist");
        }
        try {
            return fill(dataDir, target);
        } catch (IOException | RuntimeException e) {
            deleteTree(target); // no half backup that looks like a whole one
            throw e;
        }
    }

    private static Taken fill(Path dataDir, Path target) throws IOException {
        Path blobs = Files.createDirectory(target.resolve(FILES), OWNER_ONLY);
        Path copy = target.resolve(DATABASE);
        String missing = null;
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            Files.deleteIfExists(copy);
            copyDatabase(dataDir.resolve(DATABASE), copy);
            Set<String> fileIds = fileIds(copy);
            Optional<String> gone = copyBlobs(dataDir.resolve(FILES), blobs, fileIds);
            if (gone.isEmpty()) {
                removeOthers(blobs, fileIds);
                long fileBytes = 0;
                for (String id : fileIds) {
                    fileBytes += Files.size(blobs.resolve(id));
                }
                return new Taken(Files.size(copy), fileIds.size(), fileBytes);
            }
            missing = gone.get();
        }
        throw new AdminException("the bytes of " + missing + " were missing from " + dataDir.resolve(FILES) + " at each of "
                + ATTEMPTS + " attempts (files deleted while the backup ran, or lost); no backup was written");
    }

    private static void copyDatabase(Path source, Path copy) {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + source); Statement sql = c.createStatement()) {
            sql.execute("PRAGMA busy_timeout = 30000");
            sql.execute("VACUUM INTO '" + copy.toAbsolutePath().toString().replace("'", "''") + "'");
        } catch (SQLException e) {
            throw new AdminException("cannot copy " + source + ": " + e.getMessage());
        }
        try {
            Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException | UnsupportedOperationException e) {
            // the backup directory is owner-only already
        }
    }

    private static Set<String> fileIds(Path database) {
        Set<String> ids = new HashSet<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + database); Statement sql = c.createStatement();
                ResultSet rows = sql.executeQuery("SELECT id FROM files")) {
            while (rows.next()) {
                ids.add(rows.getString(1));
            }
        } catch (SQLException e) {
            throw new AdminException("cannot read the copy " + database + ": " + e.getMessage());
        }
        return ids;
    }

    /** Copies the blobs not copied yet; returns a file whose blob is gone from the data directory (deleted since the copy). */
    private static Optional<String> copyBlobs(Path from, Path to, Set<String> ids) throws IOException {
        for (String id : ids) {
            Path blob = to.resolve(id);
            if (Files.exists(blob)) {
                continue; // copied in an earlier attempt: blobs never change
            }
            try {
                Files.copy(from.resolve(id), blob);
            } catch (NoSuchFileException deleted) {
                return Optional.of(id);
            }
        }
        return Optional.empty();
    }

    /** Removes blobs an earlier attempt copied for files the final copy no longer has. */
    private static void removeOthers(Path blobs, Set<String> ids) throws IOException {
        try (DirectoryStream<Path> copied = Files.newDirectoryStream(blobs)) {
            for (Path blob : copied) {
                if (!ids.contains(blob.getFileName().toString())) {
                    Files.delete(blob);
                }
            }
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }
}
