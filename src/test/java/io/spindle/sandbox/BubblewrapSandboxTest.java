package io.spindle.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The real bubblewrap sandbox: one session shared by the tests (a start costs about a second), plus a few of their own. */
class BubblewrapSandboxTest {
    private static final Duration LIMIT = Duration.ofSeconds(60);
    private static BubblewrapSandbox sandbox;
    private static Session session;

    @BeforeAll
    static void start() {
        sandbox = RealSandbox.start();
        session = sandbox.open("test-shared");
    }

    @AfterAll
    static void stop() {
        if (session != null) {
            session.close();
            assertThat(RealSandbox.processesOf("test-shared")).as("processes left by the closed session").isZero();
        }
    }

    private static Execution run(String code) {
        return session.execute(code, LIMIT);
    }

    @Test
    void variablesSurviveBetweenCellsAndAFinalExpressionIsShown() {
        assertThat(run("kept = 41").logs()).isEmpty();
        Execution next = run("kept + 1");
        assertThat(next.logs()).isEqualTo("42\n");
        assertThat(next.error()).isEmpty();
    }

    @Test
    void stdoutStderrAndSubprocessOutputBecomeLogsAndTheExceptionTheError() {
        Execution cell = run("""
                import sys, subprocess
                print("to stdout")
                print("to stderr", file=sys.stderr)
                subprocess.run(["echo", "from a child"])
                def fails():
                    return 1 / 0
                fails()
                """);
        assertThat(cell.logs()).isEqualTo("to stdout\nto stderr\nfrom a child\n");
        assertThat(cell.error()).hasValueSatisfying(error -> assertThat(error)
                .startsWith("Traceback (most recent call last):\n  File \"<cell>\"")
                .contains("in fails").endsWith("ZeroDivisionError: division by zero")
                .doesNotContain("kernel", "run_cell"));
        assertThat(run("print(undefined_name)").error()).hasValueSatisfying(e -> assertThat(e).endsWith(
                "NameError: name 'undefined_name' is not defined"));
        assertThat(run("def broken(:").error()).hasValueSatisfying(e -> assertThat(e).contains("SyntaxError"));
        assertThat(run("raise SystemExit(3)").error()).hasValueSatisfying(e -> assertThat(e).contains("SystemExit: 3"));
        assertThat(run("print('still here')").logs()).isEqualTo("still here\n");
    }

    @Test
    void aMatplotlibFigureBecomesAPng() {
        Execution cell = run("""
                import matplotlib.pyplot as plt
                plt.plot([1, 3, 2])
                plt.title("chart")
                plt.show()
                """);
        assertThat(cell.error()).isEmpty();
        assertThat(cell.logs()).isEmpty();
        assertThat(cell.images()).hasSize(1);
        assertThat(cell.images().getFirst()).startsWith(0x89, 'P', 'N', 'G');
        assertThat(run("1").images()).as("figures are closed once shown").isEmpty();
    }

    @Test
    void filesGoInAndOutThroughTheKernel() {
        session.putFile("input.csv", new ByteArrayInputStream("city,n\nOslo,3\nLima,4\n".getBytes(StandardCharsets.UTF_8)));
        Execution cell = run("""
                import pandas as pd
                frame = pd.read_csv("input.csv")
                frame.to_csv("output.csv", index=False)
                with open("notes.txt", "w") as f:
                    f.write("total=" + str(frame.n.sum()))
                print(frame.n.sum())
                """);
        assertThat(cell.logs()).isEqualTo("7\n");
        assertThat(cell.files()).containsExactly(new Execution.OutputFile("notes.txt", 7), new Execution.OutputFile("output.csv", 21));
        assertThat(session.readFile("notes.txt")).asString(StandardCharsets.UTF_8).isEqualTo("total=7");
        assertThat(run("open('notes.txt').read()").files()).as("files only read are not listed").isEmpty();

        byte[] big = new byte[9 * 1024 * 1024 + 17]; // more than two protocol chunks
        new java.util.Random(1).nextBytes(big);
        session.putFile("big.bin", new ByteArrayInputStream(big));
        assertThat(run("import os; os.path.getsize('big.bin')").logs()).isEqualTo(big.length + "\n");
        assertThat(session.readFile("big.bin")).isEqualTo(big);
        run("os.remove('big.bin')");
    }

    @Test
    void badFileNamesAreRefused() {
        for (String name : new String[] {"", ".", "..", "../etc/passwd", "a/b", "tab\tname", "line\nname"}) {
            assertThatThrownBy(() -> session.readFile(name)).as(name).isInstanceOf(SandboxException.class).hasMessageContaining("file name");
            assertThatThrownBy(() -> session.putFile(name, new ByteArrayInputStream(new byte[0]))).as(name)
                    .isInstanceOf(SandboxException.class);
        }
        assertThatThrownBy(() -> session.readFile("missing.txt")).isInstanceOf(SandboxException.class)
                .hasMessageContaining("No such file");
    }

    @Test
    void plantedLinksAndFifosAreNeitherFollowedNorWaitedOn() {
        run("""
                import os
                for name in ("leak", "pipe"):
                    if os.path.lexists(name):
                        os.remove(name)
                os.symlink("/etc/passwd", "leak")
                os.mkfifo("pipe")
                """);
        assertThatThrownBy(() -> session.readFile("leak")).isInstanceOf(SandboxException.class).hasMessageContaining("symbolic link");
        assertThatThrownBy(() -> session.readFile("pipe")).isInstanceOf(SandboxException.class).hasMessageContaining("not a regular file");

        session.putFile("leak", new ByteArrayInputStream("mine".getBytes(StandardCharsets.UTF_8)));
        session.putFile("pipe", new ByteArrayInputStream("mine too".getBytes(StandardCharsets.UTF_8)));
        assertThat(run("os.path.islink('leak'), open('leak').read(), open('pipe').read()").logs())
                .isEqualTo("(False, 'mine', 'mine too')\n");
    }

    @Test
    void theHostsFilesAreOutOfReach() {
        String dataDir = Path.of("target").toAbsolutePath().toString();
        Execution cell = run("""
                import os
                for path in ("/etc/shadow", "/etc/passwd", "%s", "/root", "/home", "/proc/1/root/etc/shadow"):
                    try:
                        os.listdir(path) if os.path.isdir(path) else open(path).read()
                        print("READ", path)
                    except OSError as e:
                        print("refused", type(e).__name__)
                print(os.getuid(), sorted(os.listdir("/")))
                try:
                    open("/usr/evil", "w")
                except OSError as e:
                    print("read-only", e.errno)
                """.formatted(dataDir));
        assertThat(cell.logs()).doesNotContain("READ")
                .contains("1000 ['bin', 'dev', 'etc', 'lib', 'lib64', 'mnt', 'proc', 'tmp', 'usr']")
                .contains("read-only 30");
        assertThat(cell.logs().lines().filter(line -> line.startsWith("refused")).count()).isEqualTo(6);
    }

    @Test
    void noSocketReachesTheHost() throws Exception {
        try (ServerSocket listening = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Execution cell = run("""
                    import socket
                    for port in (%d, 5432):
                        try:
                            socket.create_connection(("127.0.0.1", port), timeout=3)
                            print("CONNECTED", port)
                        except OSError as e:
                            print("refused", port, e.errno)
                    try:
                        socket.getaddrinfo("example.com", 80)
                        print("RESOLVED")
                    except OSError as e:
                        print("no DNS")
                    """.formatted(listening.getLocalPort()));
            assertThat(cell.logs()).doesNotContain("CONNECTED", "RESOLVED")
                    .contains("refused " + listening.getLocalPort(), "refused 5432", "no DNS");
        }
    }

    @Test
    void aMemoryBombRaisesMemoryError() {
        Execution cell = run("hog = bytearray(3 * 1024 ** 3)");
        assertThat(cell.error()).hasValueSatisfying(e -> assertThat(e).contains("MemoryError"));
        assertThat(cell.sessionEnded()).isFalse();
        assertThat(run("'alive'").logs()).isEqualTo("'alive'\n");
    }

    @Test
    void aForkBombStopsAtTheProcessCap() {
        Execution cell = run("""
                import os, signal, time
                children = []
                try:
                    while len(children) < 1000:
                        pid = os.fork()
                        if pid == 0:
                            time.sleep(60)
                            os._exit(0)
                        children.append(pid)
                except OSError as e:
                    print("stopped", e.errno)
                for pid in children:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                print(len(children) < 32)
                """);
        assertThat(cell.logs()).isEqualTo("stopped 11\nTrue\n");
    }

    @Test
    void aDiskFillStopsAtTheCaps() {
        Execution cell = run("""
                import os
                def fill(folder):
                    written = 0
                    try:
                        for i in range(1000):
                            with open(os.path.join(folder, "fill%d" % i), "wb") as f:
                                for _ in range(16):
                                    f.write(b"0" * 1024 * 1024)
                                    written += 1
                    except OSError as e:
                        print(folder, e.errno, written <= 64)
                    for name in os.listdir(folder):
                        if name.startswith("fill"):
                            os.remove(os.path.join(folder, name))
                fill("/mnt/data")
                fill("/tmp")
                """);
        assertThat(cell.logs()).isEqualTo("/mnt/data 28 True\n/tmp 28 True\n");
    }

    @Test
    void aCellPastItsTimeLimitIsInterruptedAndTheVariablesSurvive() {
        run("before = 'kept'");
        Execution cell = session.execute("while True:\n    pass", Duration.ofSeconds(1));
        assertThat(cell.timedOut()).isTrue();
        assertThat(cell.sessionEnded()).isFalse();
        assertThat(cell.error()).hasValueSatisfying(e -> assertThat(e).startsWith("TimeoutError"));
        assertThat(run("before").logs()).isEqualTo("'kept'\n");
    }

    @Test
    void aCellThatIgnoresInterruptsIsStoppedByTearingTheSandboxDown() {
        try (Session own = sandbox.open("test-stubborn")) {
            own.execute("x = 1", LIMIT);
            Execution cell = own.execute("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass",
                    Duration.ofSeconds(1));
            assertThat(cell.timedOut()).isTrue();
            assertThat(cell.sessionEnded()).isTrue();
            assertThat(cell.error()).hasValueSatisfying(e -> assertThat(e).contains("restarted"));
            assertThat(own.alive()).isFalse();
            assertThat(RealSandbox.processesOf("test-stubborn")).isZero();
            assertThatThrownBy(() -> own.execute("x", LIMIT)).isInstanceOf(SandboxException.class).hasMessageContaining("ended");
        }
    }

    @Test
    void aKernelThatDiesIsReportedAndTheSessionEnds() {
        try (Session own = sandbox.open("test-dies")) {
            Execution cell = own.execute("import os\nos._exit(9)", LIMIT);
            assertThat(cell.sessionEnded()).isTrue();
            assertThat(cell.error()).hasValueSatisfying(e -> assertThat(e).contains("ended"));
            assertThat(own.alive()).isFalse();
        }
        assertThat(RealSandbox.processesOf("test-dies")).isZero();
    }

    @Test
    void aStopStopsARunningCellAndKeepsTheVariables() {
        run("counted = 0");
        long started = System.nanoTime();
        Execution stopped = session.execute("import time\nwhile True:\n    counted += 1\n    time.sleep(0.01)", LIMIT,
                () -> System.nanoTime() - started > 300_000_000L);
        System.out.printf("interrupted after %d ms%n", (System.nanoTime() - started) / 1_000_000);
        assertThat(stopped.timedOut()).isFalse();
        assertThat(stopped.error()).hasValueSatisfying(e -> assertThat(e).endsWith("KeyboardInterrupt"));
        assertThat(run("counted > 0").logs()).isEqualTo("True\n");
    }

    @Test
    void aStopAskedBeforeTheCellStartsStillStopsItAndKeepsTheVariables() {
        run("kept = 'yes'");
        // the first interrupt goes out before the kernel starts the cell, and is dropped: the next ones land
        Execution stopped = session.execute("import time\nwhile True:\n    time.sleep(0.01)", LIMIT, () -> true);

        assertThat(stopped.timedOut()).isFalse();
        assertThat(stopped.sessionEnded()).isFalse();
        assertThat(stopped.error()).hasValueSatisfying(e -> assertThat(e).endsWith("KeyboardInterrupt"));
        assertThat(run("kept").logs()).isEqualTo("'yes'\n");
    }

    @Test
    void seccompIsOn() {
        assertThat(run("""
                import ctypes, errno
                libc = ctypes.CDLL(None, use_errno=True)
                print(libc.ptrace(0, 0, 0, 0), ctypes.get_errno() == errno.EPERM)
                """).logs()).isEqualTo("-1 True\n");
    }

    @Test
    void theSessionRunsUnderAHostUidOfItsOwnWhenSpindleIsRoot() throws Exception {
        long uid = ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
        java.util.Set<Long> uids = RealSandbox.uidsOf("test-shared");
        assertThat(uids).hasSize(1);
        if (uid == 0) {
            assertThat(uids.iterator().next()).isBetween(2_000_000_000L, 2_100_000_000L);
        } else {
            assertThat(uids).containsExactly(uid);
        }
    }
}
