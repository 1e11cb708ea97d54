package io.spindle.sandbox;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * The command line that starts a kernel under bubblewrap: read-only {@code /usr} and the few {@code /etc} files numpy
 * and matplotlib read, no host file otherwise; own user, network (loopback only), PID, IPC, UTS and cgroup namespaces;
 * uid 1000 without capabilities; capped tmpfs at {@code /tmp} and {@code /mnt/data} (the working directory); prlimit
 * caps on memory, CPU, processes and file size. When Spindle runs as root, {@code setpriv} first drops to
 * {@code hostUid}, a uid of the session's own, so the process cap counts only the session's processes.
 */
record BubblewrapCommand(String bwrap, Limits limits) {

    List<String> command(String sessionId, OptionalLong hostUid, long processLimit, String kernelSource) {
        List<String> command = new ArrayList<>();
        hostUid.ifPresent(uid -> command.addAll(List.of("/usr/bin/setpriv", "--reuid", Long.toString(uid), "--regid",
                Long.toString(uid), "--clear-groups", "--inh-caps=-all", "--")));
        command.add(bwrap);
        command.addAll(List.of(
                "--ro-bind", "/usr", "/usr",
                "--symlink", "usr/lib", "/lib",
                "--symlink", "usr/lib64", "/lib64",
                "--symlink", "usr/bin", "/bin",
                "--ro-bind", "/etc/alternatives", "/etc/alternatives",
                "--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache",
                "--ro-bind-try", "/etc/fonts", "/etc/fonts",
                "--ro-bind-try", "/etc/matplotlibrc", "/etc/matplotlibrc",
                "--proc", "/proc",
                "--dev", "/dev",
                "--size", Long.toString(limits.tmpBytes()), "--tmpfs", "/tmp",
                "--size", Long.toString(limits.diskBytes()), "--tmpfs", "/mnt/data",
                "--chdir", "/mnt/data",
                "--unshare-all", "--unshare-user", "--disable-userns",
                "--uid", "1000", "--gid", "1000",
                "--cap-drop", "ALL",
                "--die-with-parent", "--new-session",
                "--clearenv",
                "--setenv", "HOME", "/tmp",
                "--setenv", "PATH", "/usr/bin:/bin",
                "--setenv", "LANG", "C.UTF-8",
                "--setenv", "MPLBACKEND", "Agg",
                "--setenv", "OPENBLAS_NUM_THREADS", "1",
                "--setenv", "OMP_NUM_THREADS", "1",
                "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
                "--setenv", SESSION_VARIABLE, sessionId,
                "--",
                "/usr/bin/prlimit",
                "--as=" + limits.memoryBytes(),
                "--cpu=" + limits.cpuSeconds(),
                "--nproc=" + processLimit,
                "--fsize=" + limits.diskBytes(),
                "--core=0",
                "--",
                "/usr/bin/python3", "-I", "-c", kernelSource));
        return command;
    }

    /** Set in every sandboxed process's environment: how a session's processes are found in /proc. */
    static final String SESSION_VARIABLE = "SPINDLE_SANDBOX_SESSION";
}
