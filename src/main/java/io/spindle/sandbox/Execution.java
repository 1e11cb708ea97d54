package io.spindle.sandbox;

import java.util.List;
import java.util.Optional;

/**
 * What a cell produced. {@code logs} is its stdout and stderr together (OpenAI's {@code logs} output), {@code error} the
 * exception as Python prints it, {@code images} the PNG bytes of each matplotlib figure left open, {@code files} the
 * files under {@code /mnt/data} it created or changed. {@code timedOut}: the wall-clock limit hit; {@code sessionEnded}:
 * the kernel is gone (torn down or crashed), so the next cell starts without the variables.
 */
public record Execution(String logs, Optional<String> error, List<byte[]> images, List<OutputFile> files, boolean timedOut,
                        boolean sessionEnded) {

    public record OutputFile(String name, long size) {}
}
