package io.spindle.testing;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;

/**
 * {@code multipart/form-data} bodies built by hand, for what the SDKs never send (odd orders,
 * malformed forms) and for uploads streamed from a generator, never held in memory.
 */
public final class Multipart {
    public static final String BOUNDARY = "spindle-test-7d1f0c";
    public static final String CONTENT_TYPE = "multipart/form-data; boundary=" + BOUNDARY;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    public Multipart text(String name, String value) {
        return raw("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n");
    }

    public Multipart file(String name, String filename, byte[] content) {
        raw(fileHeader(name, filename));
        out.writeBytes(content);
        return raw("\r\n");
    }

    /** Anything, as it is (for malformed forms). */
    public Multipart raw(String text) {
        out.writeBytes(text.getBytes(StandardCharsets.UTF_8));
        return this;
    }

    /** The form with its closing boundary. */
    public byte[] end() {
        raw("--" + BOUNDARY + "--\r\n");
        return out.toByteArray();
    }

    /** What was written so far, without a closing boundary. */
    public byte[] unfinished() {
        return out.toByteArray();
    }

    /** A form with {@code purpose} and a file part whose bytes are read from {@code content} as the body is sent. */
    public static InputStream streamed(String purpose, String filename, InputStream content) {
        byte[] head = new Multipart().text("purpose", purpose).raw(fileHeader("file", filename)).unfinished();
        byte[] tail = ("\r\n--" + BOUNDARY + "--\r\n").getBytes(StandardCharsets.UTF_8);
        return new SequenceInputStream(java.util.Collections.enumeration(List.of(
                new ByteArrayInputStream(head), content, new ByteArrayInputStream(tail))));
    }

    /** POST of a form to {@code url}; a supplier of streams makes a chunked body of unknown length. */
    public static HttpRequest post(String url, String apiKey, Supplier<InputStream> body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofMinutes(5))
                .header("Content-Type", CONTENT_TYPE)
                .POST(HttpRequest.BodyPublishers.ofInputStream(body));
        if (apiKey != null) {
            request.header("Authorization", "Bearer " + apiKey);
        }
        return request.build();
    }

    public static HttpRequest post(String url, String apiKey, byte[] body, String contentType) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        if (apiKey != null) {
            request.header("Authorization", "Bearer " + apiKey);
        }
        return request.build();
    }

    private static String fileHeader(String name, String filename) {
        return "--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"" + name + "\""
                + (filename == null ? "" : "; filename=\"" + filename + "\"")
                + "\r\nContent-Type: application/octet-stream\r\n\r\n";
    }
}
