package io.spindle.sandbox;

/**
 * What one session may use. {@code memoryBytes}: address space of each process (a clean {@code MemoryError} past it);
 * {@code diskBytes}: the {@code /mnt/data} tmpfs, and the largest file; {@code tmpBytes}: the {@code /tmp} tmpfs;
 * {@code processes}: processes and threads beyond what the sandbox's host user already runs; {@code cpuSeconds}: CPU
 * time of each process, a backstop under the per-cell wall-clock limit.
 */
public record Limits(long memoryBytes, long diskBytes, long tmpBytes, int processes, long cpuSeconds) {
    private static final long MIB = 1024 * 1024;

    public static Limits of(io.spindle.Settings.Sandboxing settings) {
        return new Limits(settings.memoryBytes(), settings.diskBytes(), 256 * MIB, 64, 3_600);
    }
}
