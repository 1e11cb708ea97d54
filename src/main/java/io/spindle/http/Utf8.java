package io.spindle.http;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.StandardCharsets;

/**
 * Strict UTF-8 checks for what clients send. Jackson and Helidon decode leniently: an overlong form
 * such as {@code C0 AF} reads as {@code /}, an encoded surrogate as a lone surrogate. The JDK's
 * decoder rejects overlong forms, surrogates and code points past U+10FFFF.
 */
final class Utf8 {
    private Utf8() {}

    static boolean isValid(byte[] bytes) {
        int i = 0;
        while (i < bytes.length && bytes[i] >= 0) {
            i++;
        }
        return i == bytes.length || decodes(ByteBuffer.wrap(bytes, i, bytes.length - i));
    }

    /**
     * Whether a raw request path or query is valid UTF-8 once its {@code %XX} escapes are decoded.
     * Characters outside ASCII (raw bytes the request line should not hold) and broken escapes fail.
     */
    static boolean isValidEscaped(String raw) {
        if (raw.indexOf('%') < 0 && raw.chars().allMatch(c -> c < 0x80)) {
            return true;
        }
        ByteBuffer bytes = ByteBuffer.allocate(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c >= 0x80) {
                return false;
            }
            if (c == '%') {
                int high = hex(raw, i + 1);
                int low = hex(raw, i + 2);
                if (high < 0 || low < 0) {
                    return false;
                }
                bytes.put((byte) (high << 4 | low));
                i += 2;
            } else {
                bytes.put((byte) c);
            }
        }
        return decodes(bytes.flip());
    }

    private static int hex(String s, int at) {
        char c = at < s.length() ? s.charAt(at) : 'x';
        return c < 0x80 ? Character.digit(c, 16) : -1;
    }

    private static boolean decodes(ByteBuffer in) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder(); // reports malformed input
        CharBuffer out = CharBuffer.allocate(Math.min(in.remaining(), 4096) + 1);
        while (true) {
            CoderResult result = decoder.decode(in, out, true);
            if (result.isError()) {
                return false;
            }
            if (result.isUnderflow()) {
                return !decoder.flush(out.clear()).isError();
            }
            out.clear();
        }
    }
}
