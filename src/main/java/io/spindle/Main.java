package io.spindle;

import java.time.InstantSource;
import java.util.concurrent.CountDownLatch;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * The command line: {@code spindle serve}, {@code spindle sandbox-check}, the administration commands
 * ({@link io.spindle.admin.AdminCommands}), {@code spindle --version} and {@code spindle --help}.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws InterruptedException {
        configureLogging();
        String command = args.length == 0 ? "--help" : args[0];
        switch (command) {
            case "serve" -> serve();
            case "sandbox-check" -> System.exit(sandboxCheck());
            case "backup", "export", "import", "keys" -> System.exit(io.spindle.admin.AdminCommands.run(command,
                    java.util.List.of(args).subList(1, args.length), System.getenv(), System.out, System.err));
            case "--help", "-h", "help" -> System.out.print(help());
            case "--version", "-V", "version" -> System.out.println("spindle " + version());
            default -> {
                System.err.println("spindle: unknown command '" + command + "'\n");
                System.err.print(help());
                System.exit(2);
            }
        }
    }

    /**
     * Starts the server until SIGTERM or Ctrl-C; SIGHUP reads the models file again. A setting that cannot be used (a
     * bad value, a port in use, a data directory another process holds) stops it with one line and exit status 2.
     */
    private static void serve() throws InterruptedException {
        Spindle spindle;
        try {
            Settings settings = Settings.fromEnvironment(System.getenv());
            for (java.util.logging.Handler handler : java.util.logging.Logger.getLogger("").getHandlers()) {
                handler.setFormatter(LogFormat.of(settings));
            }
            Spindle started = Spindle.start(settings, InstantSource.system());
            if (settings.models().file().isPresent()) {
                // replaces the JVM's own SIGHUP handling (a shutdown) only when there is a models file to read again
                SignalHandler before = Signal.handle(new Signal("HUP"), signal -> started.reloadModels());
                if (before == SignalHandler.SIG_IGN) {
                    // a process started ignoring SIGHUP (nohup) keeps ignoring it: the JVM takes no handler then
                    java.util.logging.Logger.getLogger(Main.class.getName()).warning("this process ignores SIGHUP (started "
                            + "under nohup?), so SIGHUP will not re-read the models file; restart to read it again");
                }
            }
            spindle = started;
        } catch (Settings.Invalid e) {
            System.err.println("spindle: " + e.getMessage());
            System.exit(2); // also ends the threads a half-started server may have left
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            spindle.close();
            stopped.countDown();
        }, "spindle-shutdown"));
        stopped.await();
    }

    /** Whether code_interpreter can run code here, and why not; exit status 0 when it can. */
    private static int sandboxCheck() {
        Settings settings;
        try {
            settings = Settings.fromEnvironment(System.getenv());
        } catch (Settings.Invalid e) {
            System.err.println("spindle: " + e.getMessage());
            return 2;
        }
        io.spindle.sandbox.Sandbox.Probe probe = io.spindle.sandbox.Sandboxes.choose(settings.sandbox(),
                java.util.Objects.requireNonNullElse(System.getenv("PATH"), "/usr/bin:/bin")).probe();
        System.out.println(probe.works() ? "code_interpreter works here: " + probe.reason()
                : "code_interpreter does not work here: " + probe.reason());
        return probe.works() ? 0 : 1;
    }

    private static void configureLogging() {
        if (System.getProperty("java.util.logging.config.file") != null) {
            return;
        }
        try (var config = Main.class.getResourceAsStream("/logging.properties")) {
            java.util.logging.LogManager.getLogManager().readConfiguration(config);
        } catch (java.io.IOException e) {
            System.err.println("spindle: cannot read logging.properties: " + e.getMessage());
        }
    }

    static String help() {
        StringBuilder out = new StringBuilder("""
                Spindle: the OpenAI Assistants API v2 on your own machine.

                Usage:
                  spindle serve       start the server
                  spindle sandbox-check  say whether code_interpreter can run code here (exit 0) or why not (exit 1)
                  spindle backup DIR  copy the SQLite database and file bytes into the new directory DIR, while serving
                  spindle export --project P FILE  write every object of project P into FILE (JSON lines)
                  spindle import FILE load an export into the database the settings name (one transaction)
                  spindle keys        list the projects, their API keys and objects
                  spindle test        run the test suite (launcher script only)
                  spindle bench       run the benchmarks (launcher script only; --quick for a short run)
                  spindle --version   show the version
                  spindle --help      show this help

                Settings (environment variables):
                """);
        for (Settings.Variable v : Settings.VARIABLES) {
            out.append(String.format("  %-26s %s%n  %-26s default: %s%n", v.name(), v.description(), "", v.defaultValue()));
        }
        out.append(String.format("%nTraces: the standard OTEL_* variables (e.g. OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318) turn "
                + "on OTLP export; none set, no traces. See the README.%n"));
        out.append(String.format("%nThe launcher script reads one more:%n  %-26s %s%n  %-26s default: %s%n",
                "SPINDLE_JAVA_OPTS", "JVM options of `spindle serve` (they replace the default).", "", "-Xmx1g"));
        return out.toString();
    }

    /** The Maven project version, written into {@code spindle-version.properties} at build time. */
    static String version() {
        java.util.Properties properties = new java.util.Properties();
        try (var in = Main.class.getResourceAsStream("/spindle-version.properties")) {
            if (in != null) {
                properties.load(in);
            }
        } catch (java.io.IOException e) {
            // reported as unknown below
        }
        return properties.getProperty("version", "(unknown version)");
    }
}
