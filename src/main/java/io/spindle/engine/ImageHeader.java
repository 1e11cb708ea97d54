package io.spindle.engine;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;

/**
 * What an image's first bytes say: its type (PNG, JPEG, GIF or WEBP, the formats vision models take) and its size in
 * pixels, read from the header without decoding the image. A file's name says nothing here: only its bytes.
 */
record ImageHeader(String mimeType, int width, int height) {
    private static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    /** The header of {@code bytes}, or empty when they are not an image of a supported type (or are cut short). */
    static Optional<ImageHeader> read(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        try {
            if (startsWith(bytes, 0, PNG) && ascii(bytes, 12, "IHDR")) {
                return sized("image/png", b.getInt(16), b.getInt(20));
            }
            if (ascii(bytes, 0, "GIF87a") || ascii(bytes, 0, "GIF89a")) {
                b.order(ByteOrder.LITTLE_ENDIAN);
                return sized("image/gif", b.getShort(6) & 0xffff, b.getShort(8) & 0xffff);
            }
            if (ascii(bytes, 0, "RIFF") && ascii(bytes, 8, "WEBP")) {
                return webp(b.order(ByteOrder.LITTLE_ENDIAN), bytes);
            }
            if (bytes.length > 3 && (bytes[0] & 0xff) == 0xff && (bytes[1] & 0xff) == 0xd8 && (bytes[2] & 0xff) == 0xff) {
                return jpeg(b);
            }
        } catch (IndexOutOfBoundsException e) {
            // cut short inside its header: not an image a model could read
        }
        return Optional.empty();
    }

    /** The three WEBP encodings each keep the size in their own first chunk. */
    private static Optional<ImageHeader> webp(ByteBuffer b, byte[] bytes) {
        if (ascii(bytes, 12, "VP8 ") && (b.get(23) & 0xff) == 0x9d && (b.get(24) & 0xff) == 0x01 && (b.get(25) & 0xff) == 0x2a) {
            return sized("image/webp", b.getShort(26) & 0x3fff, b.getShort(28) & 0x3fff);
        }
        if (ascii(bytes, 12, "VP8L") && (b.get(20) & 0xff) == 0x2f) {
            int bits = b.getInt(21);
            return sized("image/webp", (bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
        }
        if (ascii(bytes, 12, "VP8X")) {
            return sized("image/webp", uint24(b, 24) + 1, uint24(b, 27) + 1);
        }
        return Optional.empty();
    }

    /** Walks the JPEG's segments to its frame header (SOFn), which holds the size. */
    private static Optional<ImageHeader> jpeg(ByteBuffer b) {
        int at = 2;
        while (true) {
            if ((b.get(at) & 0xff) != 0xff) {
                return Optional.empty();
            }
            int marker = b.get(at + 1) & 0xff;
            if (marker == 0xff) {
                at++;
                continue;
            }
            if (marker == 0x01 || marker >= 0xd0 && marker <= 0xd8) {
                at += 2;
                continue;
            }
            if (marker == 0xd9 || marker == 0xda) {
                return Optional.empty();
            }
            boolean frame = marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
            if (frame) {
                return sized("image/jpeg", b.getShort(at + 7) & 0xffff, b.getShort(at + 5) & 0xffff);
            }
            at += 2 + (b.getShort(at + 2) & 0xffff);
        }
    }

    private static Optional<ImageHeader> sized(String mimeType, int width, int height) {
        return width > 0 && height > 0 ? Optional.of(new ImageHeader(mimeType, width, height)) : Optional.empty();
    }

    private static int uint24(ByteBuffer b, int at) {
        return (b.get(at) & 0xff) | (b.get(at + 1) & 0xff) << 8 | (b.get(at + 2) & 0xff) << 16;
    }

    private static boolean ascii(byte[] bytes, int at, String text) {
        return startsWith(bytes, at, text.getBytes(StandardCharsets.US_ASCII));
    }

    private static boolean startsWith(byte[] bytes, int at, byte[] prefix) {
        return bytes.length >= at + prefix.length && Arrays.equals(bytes, at, at + prefix.length, prefix, 0, prefix.length);
    }
}
