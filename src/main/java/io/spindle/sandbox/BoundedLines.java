package io.spindle.sandbox;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;

/** Reads '\n'-ended lines of at most {@code maxBytes}, so a runaway kernel cannot fill Spindle's memory. */
final class BoundedLines {
    private final InputStream in;
    private final int maxBytes;

    BoundedLines(InputStream in, int maxBytes) {
        this.in = in;
        this.maxBytes = maxBytes;
    }

    /** The next line without its '\n'; empty at the end of the stream (a last line without '\n' is dropped). */
    Optional<byte[]> next() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        byte[] buffer = new byte[1];
        int b;
        while ((b = in.read()) >= 0) {
            if (b == '\n') {
                return Optional.of(line.toByteArray());
            }
            if (line.size() >= maxBytes) {
                throw new IOException("a kernel reply is longer than " + maxBytes + " bytes");
            }
            buffer[0] = (byte) b;
            line.write(buffer, 0, 1);
        }
        return Optional.empty();
    }
}
