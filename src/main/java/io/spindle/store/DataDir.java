package io.spindle.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * SQLite's directory, used by one process at a time. A missing directory is created owner-only
 * (0700) and the database file owner-only (0600; SQLite gives the -wal and -shm files it creates the
 * database file's mode). {@code spindle.lock} in it stays locked while this is open, so a second
 * Spindle on the same directory is refused instead of sharing the database and this node's runs.
 * The operating system drops the lock when the process ends, however it ends.
 */
public final class DataDir implements AutoCloseable {
    static final String DATABASE_FILE = "spindle.db";
    static final String LOCK_FILE = "spindle.lock";
    private static final Set<PosixFilePermission> OWNER_ONLY_DIR = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> OWNER_ONLY_FILE = PosixFilePermissions.fromString("rw-------");
    private static final Set<StandardOpenOption> CREATE_TO_WRITE = Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE);

    /** The directory cannot be used; the message is one line naming it and why. */
    public static final class Unusable extends RuntimeException {
        Unusable(Path dir, String why) {
            super(dir + " " + why);
        }
    }

    private final Path dir;
    private final FileChannel lockFile;

    private DataDir(Path dir, FileChannel lockFile) {
        this.dir = dir;
        this.lockFile = lockFile;
    }

    /** Creates the directory if needed, locks it and makes sure the database file is owner-only. */
    public static DataDir open(Path path) {
        Path dir = path.toAbsolutePath().normalize();
        try {
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir, ownerOnly(dir, OWNER_ONLY_DIR));
            }
        } catch (FileAlreadyExistsException e) {
            throw new Unusable(dir, "is not a directory");
        } catch (IOException e) {
            throw new Unusable(dir, "cannot be created (" + describe(e) + ")");
        }
        FileChannel lockFile;
        try {
            lockFile = FileChannel.open(dir.resolve(LOCK_FILE), CREATE_TO_WRITE, ownerOnly(dir, OWNER_ONLY_FILE));
        } catch (IOException e) {
            throw new Unusable(dir, "is not writable (" + describe(e) + ")");
        }
        DataDir opened = new DataDir(dir, lockFile);
        try {
            opened.lock();
            opened.restrictDatabaseFiles();
            return opened;
        } catch (RuntimeException e) {
            opened.close();
            throw e;
        }
    }

    /** The SQLite database file in this directory. */
    public Path databaseFile() {
        return dir.resolve(DATABASE_FILE);
    }

    private void lock() {
        FileLock lock;
        try {
            lock = lockFile.tryLock();
        } catch (OverlappingFileLockException heldInThisProcess) {
            lock = null;
        } catch (IOException e) {
            throw new Unusable(dir, "cannot be locked (" + describe(e) + ")");
        }
        if (lock == null) {
            throw new Unusable(dir, "is in use by another Spindle process");
        }
    }

    /**
     * Creates the database file owner-only before SQLite does (SQLite would make it 0644), and takes
     * group and other access away from the files of a database created before Spindle did this.
     */
    private void restrictDatabaseFiles() {
        Path database = databaseFile();
        try {
            if (!Files.exists(database)) {
                Files.createFile(database, ownerOnly(dir, OWNER_ONLY_FILE));
            }
            if (!isPosix(dir)) {
                return;
            }
            for (String suffix : new String[] {"", "-wal", "-shm"}) {
                Path file = dir.resolve(DATABASE_FILE + suffix);
                if (Files.exists(file) && !Files.getPosixFilePermissions(file).equals(OWNER_ONLY_FILE)) {
                    Files.setPosixFilePermissions(file, OWNER_ONLY_FILE);
                }
            }
        } catch (IOException e) {
            throw new Unusable(dir, "holds a database file Spindle cannot use (" + describe(e) + ")");
        }
    }

    /** Permissions to create a file with, where the file system has POSIX permissions. */
    private static FileAttribute<?>[] ownerOnly(Path dir, Set<PosixFilePermission> permissions) {
        return isPosix(dir) ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(permissions)} : new FileAttribute<?>[0];
    }

    private static boolean isPosix(Path dir) {
        return dir.getFileSystem().supportedFileAttributeViews().contains("posix");
    }

    /** The file and the reason, e.g. "/data/spindle.lock: permission denied"; Java's own messages often name only the file. */
    private static String describe(IOException e) {
        if (e instanceof FileSystemException f) {
            String reason = f.getReason() != null ? f.getReason()
                    : f instanceof AccessDeniedException ? "permission denied"
                    : f instanceof NoSuchFileException ? "no such file or directory"
                    : f.getClass().getSimpleName();
            return f.getFile() + ": " + reason;
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    /** Releases the lock: another process may use the directory now. */
    @Override
    public void close() {
        try {
            lockFile.close();
        } catch (IOException e) {
            // the lock goes with the channel either way
        }
    }
}
