package io.spindle.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.lang.management.ManagementFactory;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TokenizerTest {
    private static final String MODEL = "gpt-4o";
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    @BeforeAll
    static void loadTheEncodings() {
        Tokenizer.count(MODEL, "warm up");
        Tokenizer.count("gpt-4", "warm up");
    }

    @Test
    void shortTextIsCountedExactly() {
        assertThat(Tokenizer.count(MODEL, "")).isZero();
        assertThat(Tokenizer.count(MODEL, null)).isZero();
        assertThat(Tokenizer.count(MODEL, "Hello, world!")).isEqualTo(4);
        assertThat(Tokenizer.count("gpt-4", "Hello, world!")).isEqualTo(4);
    }

    @Test
    void proseOverManyWindowsIsCountedExactly() {
        String prose = prose(Tokenizer.EXACT_CHARS - 100);
        int exact = Tokenizer.encodingFor(MODEL).countTokensOrdinary(prose);

        assertThat(Tokenizer.count(MODEL, prose)).isEqualTo(exact);
    }

    @Test
    void windowsEndBeforeASpaceOrAtTheirSizeButNeverInsideASurrogatePair() {
        String words = "word ".repeat(2_000);
        int end = Tokenizer.windowEnd(words, 0);
        assertThat(end).isLessThanOrEqualTo(Tokenizer.WINDOW).isGreaterThan(Tokenizer.WINDOW - 5);
        assertThat(words.charAt(end)).isEqualTo(' ');

        String clefs = "𝄞".repeat(Tokenizer.WINDOW);
        int cut = Tokenizer.windowEnd("a" + clefs, 0);
        assertThat(cut).isEqualTo(Tokenizer.WINDOW - 1);
        assertThat(Tokenizer.windowEnd("short", 0)).isEqualTo(5);
    }

    @Test
    void tenMebibytesWithoutWhitespaceAreEstimatedQuicklyInLittleMemory() {
        String letters = "a".repeat(10 * 1024 * 1024);
        long allocatedBefore = THREADS.getCurrentThreadAllocatedBytes();
        long start = System.nanoTime();

        int tokens = Tokenizer.count(MODEL, letters);

        long tookMillis = (System.nanoTime() - start) / 1_000_000;
        long allocated = THREADS.getCurrentThreadAllocatedBytes() - allocatedBefore;
        // o200k_base makes one token of every 8 a's
        assertThat((double) tokens).isCloseTo(letters.length() / 8.0, within(letters.length() / 8.0 * 0.02));
        assertThat(allocated).as("bytes allocated").isLessThan(64L * 1024 * 1024);
        assertThat(tookMillis).as("milliseconds").isLessThan(1_000);
    }

    @Test
    void aWhitespaceFreeMebibyteOfRandomTextCostsLittle() {
        Random random = new Random(7);
        StringBuilder text = new StringBuilder();
        while (text.length() < 1024 * 1024) {
            text.append((char) ('a' + random.nextInt(26)));
        }
        long allocatedBefore = THREADS.getCurrentThreadAllocatedBytes();

        int tokens = Tokenizer.count("gpt-4", text.toString());

        assertThat(THREADS.getCurrentThreadAllocatedBytes() - allocatedBefore).as("bytes allocated").isLessThan(64L * 1024 * 1024);
        assertThat(tokens).isBetween(text.length() / 4, text.length());
    }

    @Test
    void longProseIsEstimatedClosely() {
        String prose = prose(1024 * 1024);
        int exact = Tokenizer.encodingFor(MODEL).countTokensOrdinary(prose);

        assertThat((double) Tokenizer.count(MODEL, prose)).isCloseTo(exact, within(exact * 0.03));
    }

    /** Words of varied length and punctuation, with line breaks. */
    private static String prose(int chars) {
        String[] words = {"the", "engine", "streams", "answers,", "quickly.", "Spindle", "keeps", "every", "run;", "tokens",
                "are", "counted", "(roughly)", "here\n", "and", "there:", "42", "ünïcödé", "✓"};
        Random random = new Random(1);
        StringBuilder out = new StringBuilder();
        while (out.length() < chars) {
            out.append(words[random.nextInt(words.length)]).append(' ');
        }
        out.setLength(chars);
        return out.toString();
    }
}
