package io.spindle.sandbox;

import java.io.InputStream;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * One live Python kernel in a sandbox: variables survive between {@link #execute} calls until the session ends.
 * Files move in and out only through the kernel, never through host paths.
 */
public interface Session extends AutoCloseable {

    String id();

    /** False once the kernel ended: closed, torn down after a time limit, or crashed. */
    boolean alive();

    /** Writes {@code /mnt/data/<name>}, replacing whatever the code left under that name. */
    void putFile(String name, InputStream content);

    /**
     * Runs a cell. Past {@code limit}, or once {@code stop} says so (asked every few tenths of a second), the cell is
     * interrupted as Ctrl-C does, again and again until it answers; when that does not stop it within seconds, the
     * session is torn down.
     */
    Execution execute(String code, Duration limit, BooleanSupplier stop);

    /** {@link #execute(String, Duration, BooleanSupplier)} that only its time limit stops. */
    default Execution execute(String code, Duration limit) {
        return execute(code, limit, () -> false);
    }

    /** The bytes of the regular file {@code /mnt/data/<name>}; a link, a FIFO or a missing file fails clearly. */
    byte[] readFile(String name);

    @Override
    void close();
}
