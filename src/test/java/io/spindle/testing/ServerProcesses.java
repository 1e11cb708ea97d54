package io.spindle.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Spindle servers as separate processes ({@code java io.spindle.Main serve} on the test classpath), for tests that kill
 * them with SIGKILL and start them again on the same storage. One instance per test: its servers write their output to
 * {@code target/<folder>/<name>.log}, between {@link #note notes} from the test; {@link #close} kills what still runs and
 * drops the PostgreSQL databases it made.
 */
public final class ServerProcesses implements AutoCloseable {
    private static final long READY_TIMEOUT_MS = 90_000;
    /** PostgreSQL connections per server: tests share one PostgreSQL and its limit of 100 connections. */
    static final String POOL_SIZE = "4";
    /** The exit status of a JVM ended by SIGKILL. */
    public static final int SIGKILL_EXIT = 128 + 9;

    /** A started server: its process, its port and a raw client for it. */
    public record Server(Process process, int port, Api api) {}

    /** A server that ended by itself: its exit status and what it wrote. */
    public record Exited(int status, List<String> stdout, List<String> stderr) {}

    private final Path log;
    private final List<Process> processes = new ArrayList<>();
    private final List<String> databases = new ArrayList<>();

    /** Servers logging to {@code target/<folder>/<name>.log}, started afresh. */
    public ServerProcesses(String folder, String name) {
        try {
            Path target = Path.of(ServerProcesses.class.getProtectionDomain().getCodeSource().getLocation().toURI()).getParent();
            Path dir = Files.createDirectories(target.resolve(folder));
            log = dir.resolve(name + ".log");
            Files.deleteIfExists(log);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path log() {
        return log;
    }

    /** A new, empty PostgreSQL database ({@link TestPostgres#freshDatabase}), dropped again by {@link #close}. */
    public String freshPostgres() {
        String url = TestPostgres.freshDatabase();
        databases.add(url);
        return url;
    }

    /**
     * Starts a server on a free port with these settings (every other {@code SPINDLE_} variable of the test's
     * environment removed) and waits until {@code /readyz} answers 200.
     */
    public Server start(Map<String, String> settings) throws IOException, InterruptedException {
        return start(settings, List.of());
    }

    /** {@link #start(Map)} with extra JVM options, e.g. {@code -Djava.util.logging.config.file=...}. */
    public Server start(Map<String, String> settings, List<String> jvmOptions) throws IOException, InterruptedException {
        int port = freePort();
        ProcessBuilder builder = serve(settings, port, jvmOptions);
        builder.redirectErrorStream(true);
        builder.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        note("starting on port " + port + " with " + settings);
        Process process = builder.start();
        processes.add(process);
        Api api = new Api("http://127.0.0.1:" + port, null);
        long deadline = System.currentTimeMillis() + READY_TIMEOUT_MS;
        while (true) {
            if (!process.isAlive()) {
                fail("server exited with " + process.exitValue() + " before it was ready; output:\n" + Files.readString(log));
            }
            try {
                if (api.get("/readyz").status() == 200) {
                    note("pid " + process.pid() + " ready on port " + port);
                    return new Server(process, port, api);
                }
            } catch (UncheckedIOException notListeningYet) {
                // keep waiting
            }
            if (System.currentTimeMillis() > deadline) {
                fail("server not ready after " + READY_TIMEOUT_MS + " ms; output:\n" + Files.readString(log));
            }
            Thread.sleep(100);
        }
    }

    /**
     * Runs {@code serve} on the given port with these settings, for a start that must fail: waits until the process
     * exits by itself (failing the test if it still runs after the ready time-out) and returns what it wrote.
     */
    public Exited startExpectingExit(Map<String, String> settings, int port) throws IOException, InterruptedException {
        String name = "exit-" + (processes.size() + 1);
        Path out = log.resolveSibling(log.getFileName() + "." + name + ".out");
        Path err = log.resolveSibling(log.getFileName() + "." + name + ".err");
        ProcessBuilder builder = serve(settings, port, List.of());
        builder.redirectOutput(out.toFile()).redirectError(err.toFile());
        note("starting on port " + port + " with " + settings + ", expecting it to exit; output in " + out.getFileName() + ", "
                + err.getFileName());
        Process process = builder.start();
        processes.add(process);
        if (!process.waitFor(READY_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
            fail("server still running after " + READY_TIMEOUT_MS + " ms; stderr:\n" + Files.readString(err));
        }
        note("pid " + process.pid() + " exited with " + process.exitValue());
        return new Exited(process.exitValue(), Files.readAllLines(out), Files.readAllLines(err));
    }

    /**
     * {@code java io.spindle.Main serve} with these settings and every other {@code SPINDLE_} variable of the test's
     * environment removed; PostgreSQL pools are small unless the settings say otherwise.
     */
    private static ProcessBuilder serve(Map<String, String> settings, int port, List<String> jvmOptions) {
        List<String> command = new ArrayList<>();
        // SIGHUP as a user's shell gives it, even when the build runs under nohup (env then execs java: same pid)
        command.addAll(List.of("env", "--default-signal=HUP"));
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--enable-native-access=ALL-UNNAMED");
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.spindle.Main", "serve"));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().keySet().removeIf(name -> name.startsWith("SPINDLE_"));
        builder.environment().put("SPINDLE_DATABASE_POOL_SIZE", POOL_SIZE);
        builder.environment().putAll(settings);
        builder.environment().put("SPINDLE_PORT", Integer.toString(port));
        return builder;
    }

    /** SIGKILL: no shutdown hook runs, nothing is flushed or closed. Waits until the process is gone. */
    public void kill(Server server) throws InterruptedException, IOException {
        note("SIGKILL to pid " + server.process().pid());
        server.process().destroyForcibly();
        assertThat(server.process().waitFor(30, TimeUnit.SECONDS)).as("killed server ended").isTrue();
        assertThat(server.process().isAlive()).isFalse();
        assertThat(server.process().exitValue()).as("exit status of a SIGKILLed JVM").isEqualTo(SIGKILL_EXIT);
    }

    /** SIGTERM: the server shuts down as on Ctrl-C (its shutdown hook runs). Waits until the process is gone. */
    public void stop(Server server) throws InterruptedException, IOException {
        note("SIGTERM to pid " + server.process().pid());
        server.process().destroy();
        assertThat(server.process().waitFor(60, TimeUnit.SECONDS)).as("stopped server ended").isTrue();
        note("pid " + server.process().pid() + " exited with " + server.process().exitValue());
    }

    /** SIGSTOP: the server freezes (no thread runs, its connections stay open) until {@link #resume}. */
    public void pause(Server server) throws InterruptedException, IOException {
        signal(server, "STOP");
    }

    /** SIGCONT: a {@link #pause paused} server goes on where it stopped. */
    public void resume(Server server) throws InterruptedException, IOException {
        signal(server, "CONT");
    }

    private void signal(Server server, String signal) throws InterruptedException, IOException {
        note("SIG" + signal + " to pid " + server.process().pid());
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(server.process().pid())).inheritIO().start();
        assertThat(kill.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).as("kill -%s %d", signal, server.process().pid()).isZero();
    }

    /** A line in the test's server log, between the servers' own output. */
    public void note(String line) throws IOException {
        Files.writeString(log, "---- " + line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** Kills every server still running, waits for them, then drops the databases made by {@link #freshPostgres}. */
    @Override
    public void close() throws InterruptedException {
        try {
            for (Process p : processes) {
                p.destroyForcibly();
            }
            for (Process p : processes) {
                assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("server process %d ended", p.pid()).isTrue();
            }
        } finally {
            for (String url : databases) {
                TestPostgres.dropDatabase(url);
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
