package io.spindle.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LineReaderTest {

    @Test
    void linesEndWithLineFeedCarriageReturnOrBoth() throws IOException {
        assertThat(lines("a\nb\r\nc\rd\n\ne", 100)).containsExactly("a", "b", "c", "d", "", "e");
        assertThat(lines("x\r", 100)).containsExactly("x");
        assertThat(lines("x\r\n", 100)).containsExactly("x");
        assertThat(lines("", 100)).isEmpty();
    }

    @Test
    void linesLongerThanTheBufferAndCharactersAcrossItsEdgeAreWhole() throws IOException {
        String longLine = "é".repeat(3_000) + "🙂";
        String text = "data: " + longLine + "\r\n" + "z".repeat(1_023) + "\r\n" + "after";

        assertThat(lines(text, 100_000)).containsExactly("data: " + longLine, "z".repeat(1_023), "after");
    }

    @Test
    void aLineOverTheLimitFailsOnceItPassesIt() throws IOException {
        CountingStream endless = new CountingStream();
        LineReader reader = new LineReader(endless, 10_000);

        assertThatThrownBy(reader::readLine).isInstanceOf(LineReader.TooLong.class).hasMessageContaining("10000 bytes");
        assertThat(endless.read).as("bytes read").isLessThan(10_000 + 2_048);
        assertThat(lines("x".repeat(10_000) + "\nshort\n", 10_000)).containsExactly("x".repeat(10_000), "short");
        assertThatThrownBy(() -> lines("x".repeat(10_001) + "\n", 10_000)).isInstanceOf(LineReader.TooLong.class);
        assertThatThrownBy(() -> lines("x".repeat(200) + "\n", 100)).as("within one buffer").isInstanceOf(LineReader.TooLong.class);
    }

    private static List<String> lines(String text, int maxBytes) throws IOException {
        // one byte short of the buffer per read, so that lines and characters cross the reads' edges
        InputStream in = new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, 1_023));
            }
        };
        LineReader reader = new LineReader(in, maxBytes);
        List<String> out = new ArrayList<>();
        for (String line; (line = reader.readLine()) != null; ) {
            out.add(line);
        }
        return out;
    }

    /** An endless line of x, counting what was read of it. */
    private static final class CountingStream extends InputStream {
        long read;

        @Override
        public int read() {
            read++;
            return 'x';
        }

        @Override
        public int read(byte[] b, int off, int len) {
            java.util.Arrays.fill(b, off, off + len, (byte) 'x');
            read += len;
            return len;
        }
    }
}
