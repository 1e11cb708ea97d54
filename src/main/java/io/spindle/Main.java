package io.spindle;

import java.time.InstantSource;
import java.util.concurrent.CountDownLatch;

/** The command line: {@code spindle serve} and {@code spindle --help}. */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws InterruptedException {
        configureLogging();
        String command = args.length == 0 ? "--help" : args[0];
        switch (command) {
            case "serve" -> serve();
            case "--help", "-h", "help" -> System.out.print(help());
            default -> {
                System.err.println("spindle: unknown command '" + command + "'\n");
                System.err.print(help());
                System.exit(2);
            }
        }
    }

    private static void serve() throws InterruptedException {
        Settings settings;
        try {
            settings = Settings.fromEnvironment(System.getenv());
        } catch (Settings.Invalid e) {
            System.err.println("spindle: " + e.getMessage());
            System.exit(2);
            return;
        }
        for (java.util.logging.Handler handler : java.util.logging.Logger.getLogger("").getHandlers()) {
            handler.setFormatter(new LogFormat(settings.nodeId()));
        }
        Spindle spindle = Spindle.start(settings, InstantSource.system());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            spindle.close();
            stopped.countDown();
        }, "spindle-shutdown"));
        stopped.await();
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
                  spindle serve     start the server
                  spindle test      run the test suite (launcher script only)
                  spindle --help    show this help

                Settings (environment variables):
                """);
        for (Settings.Variable v : Settings.VARIABLES) {
            out.append(String.format("  %-26s %s%n  %-26s default: %s%n", v.name(), v.description(), "", v.defaultValue()));
        }
        return out.toString();
    }
}
