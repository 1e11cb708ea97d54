package io.spindle.sandbox;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * The production backend: each session is {@code kernel.py} under bubblewrap ({@link BubblewrapCommand}). As root,
 * each session runs under a host uid of its own, drawn from a range no system uses.
 */
public final class BubblewrapSandbox implements Sandbox {
    private static final long FIRST_SESSION_UID = 2_000_000_000L;
    private static final int SESSION_UIDS = 100_000_000;
    private static final List<String> NEEDED = List.of("/usr/bin/python3", "/usr/bin/prlimit", "/bin/kill");

    private final BubblewrapCommand command;
    private final String kernelSource;
    private final Set<Long> uidsInUse = ConcurrentHashMap.newKeySet();

    public BubblewrapSandbox(Path bwrap, Limits limits) {
        this.command = new BubblewrapCommand(bwrap.toString(), limits);
        this.kernelSource = kernelSource();
    }

    /** The {@code bwrap} on the PATH, if any. */
    public static Optional<Path> findBwrap(String path) {
        return Stream.of(path.split(":")).filter(dir -> !dir.isEmpty()).map(dir -> Path.of(dir, "bwrap"))
                .filter(Files::isExecutable).findFirst();
    }

    /** Starts a real session and imports the data stack in it: what works here is what a run would get. */
    @Override
    public Probe probe() {
        for (String tool : NEEDED) {
            if (!Files.isExecutable(Path.of(tool))) {
                return Probe.broken(tool + " is missing; install the sandbox's Debian packages (README, code_interpreter)");
            }
        }
        try (Session session = open("probe-" + ThreadLocalRandom.current().nextInt(1_000_000))) {
            Execution check = session.execute("import numpy, pandas, matplotlib, scipy, openpyxl, PIL", Duration.ofSeconds(60));
            if (check.error().isPresent()) {
                return Probe.broken("the sandbox's Python lacks its data stack: " + lastLine(check.error().get()));
            }
            return Probe.working("bubblewrap " + (isRoot() ? "as root, a host uid per session" : "unprivileged")
                    + ", Python with numpy, pandas, matplotlib, scipy, openpyxl and PIL");
        } catch (SandboxException e) {
            return Probe.broken("bubblewrap cannot start a sandbox here: " + e.getMessage());
        }
    }

    @Override
    public Session open(String sessionId) {
        OptionalLong uid = isRoot() ? OptionalLong.of(freeUid()) : OptionalLong.empty();
        try {
            long processLimit = uid.isPresent() ? command.limits().processes() : tasksOf(ownUid()) + command.limits().processes();
            return new UidReleasing(BubblewrapSession.start(sessionId,
                    command.command(sessionId, uid, processLimit, kernelSource), command.limits().diskBytes()), uid);
        } catch (RuntimeException e) {
            uid.ifPresent(uidsInUse::remove);
            throw e;
        }
    }

    private long freeUid() {
        while (true) {
            long uid = FIRST_SESSION_UID + ThreadLocalRandom.current().nextInt(SESSION_UIDS);
            if (uidsInUse.add(uid)) {
                return uid;
            }
        }
    }

    /** The session, giving its host uid back when it closes. */
    private final class UidReleasing implements Session {
        private final Session session;
        private final OptionalLong uid;

        UidReleasing(Session session, OptionalLong uid) {
            this.session = session;
            this.uid = uid;
        }

        @Override public String id() { return session.id(); }
        @Override public boolean alive() { return session.alive(); }
        @Override public void putFile(String name, InputStream content) { session.putFile(name, content); }
        @Override public Execution execute(String code, Duration limit, BooleanSupplier stop) { return session.execute(code, limit, stop); }
        @Override public byte[] readFile(String name) { return session.readFile(name); }

        @Override
        public void close() {
            session.close();
            uid.ifPresent(uidsInUse::remove);
        }
    }

    private static boolean isRoot() {
        return ownUid() == 0;
    }

    private static long ownUid() {
        try {
            return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
        } catch (IOException e) {
            throw new SandboxException("cannot read this process's uid: " + e.getMessage(), e);
        }
    }

    /**
     * Threads the user runs now: without a uid of its own, the sandbox shares the kernel's per-user process count with
     * Spindle and the user's other programs, so its cap is set above what they already use.
     */
    private static long tasksOf(long uid) {
        try (Stream<Path> processes = Files.list(Path.of("/proc"))) {
            return processes.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
                    .filter(p -> {
                        try {
                            return ((Number) Files.getAttribute(p, "unix:uid")).longValue() == uid;
                        } catch (IOException | RuntimeException e) {
                            return false; // ended meanwhile
                        }
                    })
                    .mapToLong(p -> {
                        try (Stream<Path> tasks = Files.list(p.resolve("task"))) {
                            return tasks.count();
                        } catch (IOException | RuntimeException e) {
                            return 0;
                        }
                    }).sum();
        } catch (IOException e) {
            throw new SandboxException("cannot count this user's processes: " + e.getMessage(), e);
        }
    }

    private static String kernelSource() {
        try (InputStream in = BubblewrapSandbox.class.getResourceAsStream("/sandbox/kernel.py")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException | NullPointerException e) {
            throw new IllegalStateException("sandbox/kernel.py is missing from the jar", e);
        }
    }

    private static String lastLine(String text) {
        String[] lines = text.strip().split("\n");
        return lines[lines.length - 1];
    }
}
