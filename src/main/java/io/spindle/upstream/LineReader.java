package io.spindle.upstream;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Reads the lines of a stream as UTF-8 (ended by {@code \n}, {@code \r\n} or {@code \r}, as in Server-Sent Events),
 * holding at most {@code maxBytes} of a line: a longer line fails with {@link TooLong} as soon as it passes the limit,
 * where {@code BufferedReader.readLine} would keep whatever the upstream sends until the memory runs out.
 */
final class LineReader {
    /** Chunks are a few hundred bytes; a bigger buffer per open stream adds up over thousands of runs. */
    private static final int BUFFER = 1_024;
    /** A line buffer that grew past this is dropped once its line is read, so that one long line is not kept. */
    private static final int KEEP = 64 * 1024;

    /** A line longer than the limit. */
    static final class TooLong extends IOException {
        TooLong(int maxBytes) {
            super("a line longer than " + maxBytes + " bytes");
        }
    }

    private final InputStream in;
    private final int maxBytes;
    private final byte[] buffer = new byte[BUFFER];
    private int position;
    private int limit;
    /** The line's bytes read so far, when it spans more than one buffer. */
    private byte[] line = new byte[0];
    private int length;
    /** The last line ended with {@code \r}: a {@code \n} right after it belongs to that ending. */
    private boolean afterCarriageReturn;

    LineReader(InputStream in, int maxBytes) {
        this.in = in;
        this.maxBytes = maxBytes;
    }

    /** The next line without its ending, or null at the end of the stream. */
    String readLine() throws IOException {
        while (true) {
            if (position == limit) {
                int n = in.read(buffer);
                if (n < 0) {
                    return length == 0 ? null : take(0, 0);
                }
                position = 0;
                limit = n;
            }
            if (afterCarriageReturn) {
                afterCarriageReturn = false;
                if (buffer[position] == '\n') {
                    position++;
                    continue;
                }
            }
            int start = position;
            while (position < limit && buffer[position] != '\n' && buffer[position] != '\r') {
                position++;
            }
            if (position == limit) {
                append(start, position);
                continue;
            }
            afterCarriageReturn = buffer[position] == '\r';
            int end = position++;
            return take(start, end);
        }
    }

    /** The line made of what was kept plus {@code buffer[start, end)}; the kept part is then forgotten. */
    private String take(int start, int end) throws TooLong {
        if (length == 0) {
            if (end - start > maxBytes) {
                throw new TooLong(maxBytes);
            }
            return new String(buffer, start, end - start, StandardCharsets.UTF_8);
        }
        append(start, end);
        String text = new String(line, 0, length, StandardCharsets.UTF_8);
        length = 0;
        if (line.length > KEEP) {
            line = new byte[0];
        }
        return text;
    }

    private void append(int start, int end) throws TooLong {
        int n = end - start;
        if (n == 0) {
            return;
        }
        if (length + n > maxBytes) {
            throw new TooLong(maxBytes);
        }
        if (length + n > line.length) {
            byte[] grown = new byte[(int) Math.min(maxBytes, Math.max((long) length + n, 2L * line.length))];
            System.arraycopy(line, 0, grown, 0, length);
            line = grown;
        }
        System.arraycopy(buffer, start, line, length, n);
        length += n;
    }
}
