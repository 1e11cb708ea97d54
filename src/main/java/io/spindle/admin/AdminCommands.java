package io.spindle.admin;

import io.spindle.Settings;
import io.spindle.store.DataDir;
import io.spindle.store.Database;
import io.spindle.store.FileRepository;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * The administration commands of the command line: {@code backup DIR}, {@code export --project P FILE},
 * {@code import FILE} and {@code keys}, on the storage the settings name. A mistake a user can make is one line and exit
 * status 2; a failure of the storage itself one line and exit status 1.
 */
public final class AdminCommands {
    /** The pool of a command: one connection reads, one more streams file bytes (PostgreSQL's minimum anyway). */
    private static final int POOL_SIZE = 2;

    private final Settings settings;
    private final PrintStream out;

    private AdminCommands(Settings settings, PrintStream out) {
        this.settings = settings;
        this.out = out;
    }

    /** Runs {@code command} with its arguments; returns the exit status. */
    public static int run(String command, List<String> args, Map<String, String> env, PrintStream out, PrintStream err) {
        try {
            AdminCommands commands = new AdminCommands(Settings.fromEnvironment(env), out);
            switch (command) {
                case "backup" -> commands.backup(args);
                case "export" -> commands.export(args);
                case "import" -> commands.importFile(args);
                case "keys" -> commands.keys(args);
                default -> throw new IllegalArgumentException("not an admin command: " + command);
            }
            return 0;
        } catch (AdminException | Settings.Invalid e) {
            err.println("spindle " + command + ": " + e.getMessage());
            return 2;
        } catch (IOException | RuntimeException e) {
            // the storage failed (a database away, a disk full): one line too, not a stack trace
            err.println("spindle " + command + ": failed: " + oneLine(e));
            return 1;
        }
    }

    private void backup(List<String> args) throws IOException {
        Path target = Path.of(only(args, "backup DIR"));
        if (settings.databaseUrl().isPresent()) {
            throw new AdminException("SPINDLE_DATABASE_URL is set: back up PostgreSQL with pg_dump (the file bytes are in "
                    + "the database too); this command copies SQLite's data directory");
        }
        Backup.Taken taken = Backup.take(settings.dataDir(), target);
        out.printf("backed up %s into %s: spindle.db (%d bytes) and %d file(s) (%d bytes) in files/%n",
                settings.dataDir(), target, taken.databaseBytes(), taken.files(), taken.fileBytes());
    }

    private void export(List<String> args) throws IOException {
        if (args.size() != 3 || !args.get(0).equals("--project")) {
            throw new AdminException("usage: spindle export --project PROJECT FILE");
        }
        String project = args.get(1);
        Path target = Path.of(args.get(2));
        if (Files.exists(target)) {
            throw new AdminException(target + " exists already; an export goes into a new file");
        }
        try (Database db = open(false)) {
            Projects.Project found = Projects.list(db, List.of()).stream().filter(p -> p.name().equals(project)).findFirst()
                    .filter(p -> !p.isEmpty())
                    .orElseThrow(() -> new AdminException("the database holds no objects of project '" + project
                            + "' (spindle keys lists the projects)"));
            FileRepository files = FileRepository.open(db, settings.dataDir(), InstantSource.system());
            Path part = partFile(target);
            Map<String, Long> counts;
            try (OutputStream file = Files.newOutputStream(part)) {
                counts = new Export(db, files).write(found.name(), file);
            } catch (IOException | RuntimeException e) {
                Files.deleteIfExists(part);
                throw e;
            }
            Files.move(part, target, StandardCopyOption.ATOMIC_MOVE);
            out.println("exported project " + project + " into " + target + ": " + describe(counts));
        }
    }

    /** Where an export is written before it is complete: beside its file, so the final move is a rename; owner-only. */
    private static Path partFile(Path target) throws IOException {
        Path part = target.resolveSibling(target.getFileName() + ".part");
        try {
            // owner-only, like the data directory: an export holds everything of a project
            return Files.createFile(part, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (FileAlreadyExistsException e) {
            throw new AdminException(part + " exists: another export into " + target + " is running, or one was interrupted "
                    + "(then delete it)");
        } catch (NoSuchFileException e) {
            throw new AdminException("cannot create " + target + ": its directory does not exist");
        }
    }

    private void importFile(List<String> args) throws IOException {
        Path source = Path.of(only(args, "import FILE"));
        if (!Files.isRegularFile(source)) {
            throw new AdminException(source + " is not a file");
        }
        try (Database db = open(true)) {
            FileRepository files = FileRepository.open(db, settings.dataDir(), InstantSource.system());
            Path scratch = Files.createDirectories(settings.dataDir().resolve("scratch"));
            Import.Imported imported = new Import(db, files, scratch).read(source);
            out.println("imported project " + imported.project() + " from " + source + ": " + describe(imported.counts()));
        }
    }

    private void keys(List<String> args) {
        if (!args.isEmpty()) {
            throw new AdminException("usage: spindle keys");
        }
        try (Database db = open(false)) {
            if (!settings.authRequired()) {
                out.println("SPINDLE_API_KEYS is not set: every request is project " + Settings.DEFAULT_PROJECT);
            }
            for (Projects.Project project : Projects.list(db, settings.apiKeys().values())) {
                out.println(project.name() + ": " + project.keys() + " API key(s); " + describe(project.objects()));
            }
        }
    }

    /** The database the settings name; SQLite's only when it exists already, unless {@code create}. */
    private Database open(boolean create) {
        if (settings.databaseUrl().isPresent()) {
            return Database.postgres(settings.databaseUrl().get(), POOL_SIZE);
        }
        if (!create && !Files.isRegularFile(settings.dataDir().resolve("spindle.db"))) {
            throw new AdminException("there is no database in " + settings.dataDir().toAbsolutePath() + " (SPINDLE_DATA_DIR)");
        }
        try {
            return Database.sqlite(settings.dataDir());
        } catch (DataDir.Unusable e) {
            throw new AdminException("SPINDLE_DATA_DIR " + e.getMessage() + " (if a server uses it, stop it or work on a copy "
                    + "from spindle backup)");
        }
    }

    private static String only(List<String> args, String usage) {
        if (args.size() != 1) {
            throw new AdminException("usage: spindle " + usage);
        }
        return args.getFirst();
    }

    /** e.g. "file=2 assistant=1 thread=0 …", in the order of the export's kinds. */
    private static String describe(Map<String, Long> counts) {
        return counts.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" "));
    }

    private static String oneLine(Exception e) {
        String message = Objects.requireNonNullElse(e.getMessage(), e.getClass().getSimpleName());
        return message.lines().findFirst().orElse(message);
    }
}
