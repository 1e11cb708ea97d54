package io.spindle.sandbox;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * The real bubblewrap backend for tests, with small limits; on CI a sandbox that does not work fails the test. Also
 * finds sandbox processes in {@code /proc} by their session, for tests that check none is left behind.
 */
public final class RealSandbox {
    static final long MIB = 1024 * 1024;
    static final Limits LIMITS = new Limits(1024 * MIB, 64 * MIB, 32 * MIB, 32, 600);

    private RealSandbox() {}

    /** Aborts the test when the sandbox does not work here (fails it on CI). */
    public static void assumeWorks() {
        start();
    }

    static BubblewrapSandbox start() {
        java.util.Optional<Path> bwrap = BubblewrapSandbox.findBwrap(System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        Sandbox.Probe probe = bwrap.map(found -> new BubblewrapSandbox(found, LIMITS).probe())
                .orElse(Sandbox.Probe.broken("bwrap is not installed"));
        if (!probe.works()) {
            String why = "the sandbox does not work here: " + probe.reason();
            if (System.getenv("CI") != null) {
                throw new AssertionError(why + " (CI is set, so this is a failure, not a skip)");
            }
            Assumptions.abort(why);
        }
        return new BubblewrapSandbox(bwrap.orElseThrow(), LIMITS);
    }

    /** How many processes of the session are left. */
    static long processesOf(String sessionId) {
        return processes(sessionId + "\0").size();
    }

    /**
     * The pids of every sandbox process of the sessions a {@code SessionPool} opened for this key (a thread id): their
     * session ids are {@code KEY-N}.
     */
    public static java.util.List<Long> pidsOfKey(String key) {
        return processes(key + "-").stream().map(p -> Long.parseLong(p.getFileName().toString())).toList();
    }

    /** The host uids the session's processes run as. */
    static java.util.Set<Long> uidsOf(String sessionId) {
        return processes(sessionId + "\0").stream().map(p -> {
            try {
                return ((Number) Files.getAttribute(p, "unix:uid")).longValue();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).collect(java.util.stream.Collectors.toSet());
    }

    /**
     * Processes whose environment (the kernel and its children) or arguments (setpriv, bwrap and bwrap's PID 1: its
     * {@code --setenv}) give a session id starting with {@code idStart}.
     */
    private static java.util.List<Path> processes(String idStart) {
        String inEnvironment = BubblewrapCommand.SESSION_VARIABLE + "=" + idStart;
        String inArguments = BubblewrapCommand.SESSION_VARIABLE + "\0" + idStart;
        try (Stream<Path> processes = Files.list(Path.of("/proc"))) {
            return processes.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
                    .filter(p -> {
                        try {
                            return new String(Files.readAllBytes(p.resolve("environ"))).contains(inEnvironment)
                                    || new String(Files.readAllBytes(p.resolve("cmdline"))).contains(inArguments);
                        } catch (java.io.IOException e) {
                            return false;
                        }
                    }).toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
