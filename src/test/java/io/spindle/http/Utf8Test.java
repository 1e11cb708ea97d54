package io.spindle.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Strict UTF-8, raw and percent-escaped. */
class Utf8Test {

    private static byte[] bytes(int... values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (byte) values[i];
        }
        return out;
    }

    @Test
    void validTextPasses() {
        assertThat(Utf8.isValid(new byte[0])).isTrue();
        assertThat(Utf8.isValid("{\"a\":\"plain\"}".getBytes(StandardCharsets.UTF_8))).isTrue();
        assertThat(Utf8.isValid("caf\u00e9 \u65e5\u672c \ud83d\ude00 \u0000".getBytes(StandardCharsets.UTF_8))).isTrue();
        assertThat(Utf8.isValid("x".repeat(10_000).concat("\u00e9").getBytes(StandardCharsets.UTF_8))).as("past the first buffer").isTrue();
    }

    @Test
    void malformedSequencesFail() {
        assertThat(Utf8.isValid(bytes(0xC0, 0xAF))).as("overlong /").isFalse();
        assertThat(Utf8.isValid(bytes(0xE0, 0x80, 0xAF))).as("overlong / in three bytes").isFalse();
        assertThat(Utf8.isValid(bytes(0xED, 0xA0, 0x80))).as("surrogate").isFalse();
        assertThat(Utf8.isValid(bytes(0xF4, 0x90, 0x80, 0x80))).as("past U+10FFFF").isFalse();
        assertThat(Utf8.isValid(bytes(0x80))).as("stray continuation").isFalse();
        assertThat(Utf8.isValid(bytes('a', 0xE2, 0x82))).as("cut off").isFalse();
        assertThat(Utf8.isValid(bytes(0xFF))).isFalse();
    }

    @Test
    void escapedPathsAndQueries() {
        assertThat(Utf8.isValidEscaped("/v1/threads/thread_abc")).isTrue();
        assertThat(Utf8.isValidEscaped("")).isTrue();
        assertThat(Utf8.isValidEscaped("/v1/assistants/asst_%E2%82%AC")).isTrue();
        assertThat(Utf8.isValidEscaped("after=msg_1&order=asc%20")).isTrue();
        assertThat(Utf8.isValidEscaped("/v1/threads/thread_%00")).as("NUL is UTF-8; ids refuse it elsewhere").isTrue();
        assertThat(Utf8.isValidEscaped("/v1/threads/%C0%AF")).isFalse();
        assertThat(Utf8.isValidEscaped("/v1/threads/%c0%af")).isFalse();
        assertThat(Utf8.isValidEscaped("/v1/threads/%ED%A0%80")).isFalse();
        assertThat(Utf8.isValidEscaped("/v1/threads/%E2%82")).isFalse();
        assertThat(Utf8.isValidEscaped("/v1/threads/%zz")).as("broken escape").isFalse();
        assertThat(Utf8.isValidEscaped("/v1/threads/%4")).isFalse();
        assertThat(Utf8.isValidEscaped("/v1/threads/%\uff11\uff11")).as("non-ASCII digits are no hex").isFalse();
        assertThat(Utf8.isValidEscaped("/v1/threads/caf\u00e9")).as("raw non-ASCII").isFalse();
    }
}
