package io.spindle.ingest;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads a text file the way file_search accepts them: UTF-8 (ASCII being part of it), or UTF-16 when
 * a byte order mark says so; a UTF-8 mark is dropped. Anything else (bytes that do not decode, or a
 * NUL character, which no text file contains) is {@link NotText}.
 */
final class TextFiles {
    private static final int BLOCK = 8192;

    /** The file is not text in an encoding file_search reads. */
    static final class NotText extends IOException {
        NotText(Throwable cause) {
            super("not UTF-8, UTF-16 or ASCII text", cause);
        }
    }

    private TextFiles() {}

    /** Appends the file's text to {@code out}. */
    static void read(Path file, TextSink out) throws IOException {
        try (Reader reader = open(Files.newInputStream(file))) {
            char[] block = new char[BLOCK];
            for (int n; (n = reader.read(block)) > 0; ) {
                for (int i = 0; i < n; i++) {
                    if (block[i] == '\0') {
                        throw new NotText(null);
                    }
                }
                out.append(block, 0, n);
            }
        } catch (CharacterCodingException e) {
            throw new NotText(e);
        }
    }

    /** A reader that fails with a {@link CharacterCodingException} on bytes that do not decode. */
    static Reader open(InputStream raw) throws IOException {
        BufferedInputStream in = new BufferedInputStream(raw);
        in.mark(3);
        int b0 = in.read(), b1 = in.read(), b2 = in.read();
        Charset charset;
        if (b0 == 0xEF && b1 == 0xBB && b2 == 0xBF) {
            charset = StandardCharsets.UTF_8;
        } else if (b0 == 0xFE && b1 == 0xFF) {
            charset = StandardCharsets.UTF_16BE;
            in.reset();
            in.skipNBytes(2);
        } else if (b0 == 0xFF && b1 == 0xFE) {
            charset = StandardCharsets.UTF_16LE;
            in.reset();
            in.skipNBytes(2);
        } else {
            charset = StandardCharsets.UTF_8;
            in.reset();
        }
        return new InputStreamReader(in, charset.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT));
    }
}
