package io.spindle.http;

import io.helidon.common.media.type.MediaTypes;
import io.helidon.http.ContentDisposition;
import io.helidon.http.HeaderNames;
import io.helidon.http.HttpMediaType;
import io.helidon.http.RequestException;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.http.media.multipart.MultiPart;
import io.helidon.http.media.multipart.ReadablePart;
import io.spindle.api.ApiException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Iterator;
import java.util.Optional;

/**
 * A {@code multipart/form-data} request body, read part by part as it arrives (Helidon's streaming
 * parser). Whatever the parser throws on a malformed body, or on a client that went away, becomes
 * a 400; a part larger than its limit becomes a 413.
 */
final class UploadForm {
    /** Largest text field: far above any valid value, small enough to read into memory. */
    private static final int TEXT_FIELD_BYTES = 64 * 1024;
    private static final String MALFORMED = "The multipart/form-data body of the request could not be parsed.";

    /** A part of the form: its field name, the file name it came with (file parts), and its bytes. */
    record Part(String name, Optional<String> fileName, InputStream content) {}

    private final Iterator<ReadablePart> parts;

    private UploadForm(Iterator<ReadablePart> parts) {
        this.parts = parts;
    }

    /** The form of a request, refused with OpenAI's words unless the body is multipart/form-data. */
    static UploadForm of(ServerRequest req) {
        Optional<HttpMediaType> type = req.headers().contentType();
        if (type.isEmpty() || !type.get().test(MediaTypes.MULTIPART_FORM_DATA)) {
            String sent = req.headers().first(HeaderNames.CONTENT_TYPE).orElse("");
            throw ApiException.invalid("Invalid Content-Type header (" + sent + "), expected multipart/form-data. "
                    + "(HINT: If you're using curl, you can pass -H 'Content-Type: multipart/form-data')");
        }
        if (!type.get().parameters().containsKey("boundary")) {
            throw ApiException.invalid("Invalid Content-Type header (" + type.get().text()
                    + "): multipart/form-data needs a boundary parameter.");
        }
        return new UploadForm(req.content().hasEntity()
                ? parsing(() -> req.content().as(MultiPart.class))
                : Collections.emptyIterator());
    }

    /** The next part, or empty after the last. */
    Optional<Part> next() {
        if (!parsing(parts::hasNext)) {
            return Optional.empty();
        }
        return parsing(() -> {
            ReadablePart part = parts.next();
            // the parser calls a part without a name "part_<n>": a form field must have one
            String name = part.partHeaders().first(HeaderNames.CONTENT_DISPOSITION).map(ContentDisposition::parse)
                    .flatMap(ContentDisposition::contentName).orElseThrow(() -> ApiException.invalid(MALFORMED));
            return Optional.of(new Part(name, part.fileName(), new Parsed(part.inputStream())));
        });
    }

    /** A part's bytes as a stream that fails with a 413 naming the part past {@code maxBytes}. */
    static InputStream limited(Part part, long maxBytes, String tooLarge) {
        return new FilterInputStream(part.content()) {
            private long count;

            @Override
            public int read() throws IOException {
                int b = super.read();
                count(b < 0 ? 0 : 1);
                return b;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = super.read(b, off, len);
                count(Math.max(n, 0));
                return n;
            }

            private void count(int n) {
                count += n;
                if (count > maxBytes) {
                    throw new ApiException(ApiException.Kind.TOO_LARGE, tooLarge, part.name(), null);
                }
            }
        };
    }

    /** A text field's value (UTF-8). */
    static String text(Part part) throws IOException {
        byte[] value = part.content().readNBytes(TEXT_FIELD_BYTES + 1);
        if (value.length > TEXT_FIELD_BYTES) {
            throw ApiException.invalid("Invalid '" + part.name() + "': the value is longer than " + TEXT_FIELD_BYTES + " bytes.",
                    part.name(), "string_above_max_length");
        }
        return new String(value, StandardCharsets.UTF_8);
    }

    /** A step of the parser. */
    @FunctionalInterface
    private interface Step<T> {
        T run() throws IOException;
    }

    /** Runs a step of the parser, turning its failures (a malformed body, a client gone, a body over the limit) into answers. */
    private static <T> T parsing(Step<T> step) {
        try {
            return step.run();
        } catch (ApiException e) {
            throw e;
        } catch (RequestException e) {
            // Helidon's own limit on the whole body: SPINDLE_MAX_FILE_BYTES and some room for the form
            if (e.status().code() == 413) {
                throw new ApiException(ApiException.Kind.TOO_LARGE, Errors.TOO_LARGE_MESSAGE, null, null);
            }
            throw ApiException.invalid(MALFORMED);
        } catch (IOException | RuntimeException e) {
            throw ApiException.invalid(MALFORMED);
        }
    }

    /** A part's stream whose parser failures become answers too. */
    private static final class Parsed extends FilterInputStream {
        Parsed(InputStream in) {
            super(in);
        }

        @Override
        public int read() {
            return parsing(in::read);
        }

        @Override
        public int read(byte[] b, int off, int len) {
            return parsing(() -> in.read(b, off, len));
        }

        @Override
        public void close() {
            parsing(() -> {
                in.close();
                return null;
            });
        }
    }
}
