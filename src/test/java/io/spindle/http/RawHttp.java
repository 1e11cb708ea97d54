package io.spindle.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spindle.testing.OpenAiSchemas;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 written by hand on one socket, for what no HTTP library sends: broken framing, odd
 * methods, any Host header, bytes trickled or cut off. Reads answers with Content-Length framing.
 */
final class RawHttp implements AutoCloseable {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    RawHttp(int port) {
        try {
            socket = new Socket("127.0.0.1", port);
            socket.setSoTimeout(30_000);
            in = new BufferedInputStream(socket.getInputStream());
            out = socket.getOutputStream();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One answer: status, headers (names in lower case) and body. */
    record Response(int status, Map<String, String> headers, String body) {
        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        JsonNode json() {
            try {
                return MAPPER.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + body, e);
            }
        }

        /** The error object, checked against OpenAI's error schema. */
        JsonNode error() {
            OpenAiSchemas.assertValid("ErrorResponse", body);
            return json().get("error");
        }
    }

    /** Sends text as ISO-8859-1, so that each character is one byte. */
    RawHttp send(String text) {
        return send(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    RawHttp send(byte[] bytes) {
        try {
            out.write(bytes);
            out.flush();
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A request with the usual headers; {@code extraHeaders} are whole lines ending in CRLF. */
    static String request(String method, String path, String extraHeaders, String body) {
        String framing = body == null ? "" : "Content-Type: application/json\r\nContent-Length: "
                + body.getBytes(StandardCharsets.UTF_8).length + "\r\n";
        return method + " " + path + " HTTP/1.1\r\nHost: localhost\r\n" + extraHeaders + framing + "\r\n" + (body == null ? "" : body);
    }

    Response read() {
        return read(true);
    }

    /** The answer to a HEAD request: headers only, whatever Content-Length says. */
    Response readHead() {
        return read(false);
    }

    private Response read(boolean withBody) {
        try {
            String statusLine = line();
            if (statusLine == null) {
                throw new AssertionError("the server closed the connection instead of answering");
            }
            int status = Integer.parseInt(statusLine.split(" ")[1]);
            Map<String, String> headers = new LinkedHashMap<>();
            for (String line = line(); line != null && !line.isEmpty(); line = line()) {
                int colon = line.indexOf(':');
                headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
            }
            String body = "";
            if (withBody && headers.containsKey("content-length")) {
                byte[] bytes = in.readNBytes(Integer.parseInt(headers.get("content-length")));
                body = new String(bytes, StandardCharsets.UTF_8);
            }
            return new Response(status, headers, body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Whether the server closed the connection within {@code within} (end of stream or reset), reading
     * and discarding anything it still sends; {@code whileWaiting} runs between reads (e.g. trickling).
     */
    boolean closedWithin(Duration within, Runnable whileWaiting) {
        long deadline = System.nanoTime() + within.toNanos();
        try {
            socket.setSoTimeout(100);
            while (System.nanoTime() < deadline) {
                try {
                    if (in.read() < 0) {
                        return true;
                    }
                } catch (SocketTimeoutException quiet) {
                    whileWaiting.run();
                }
            }
            return false;
        } catch (SocketException reset) {
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    boolean closedWithin(Duration within) {
        return closedWithin(within, () -> { });
    }

    /** Whether an answer starts arriving within {@code within}; nothing is consumed but its first byte. */
    boolean answersWithin(Duration within) {
        try {
            socket.setSoTimeout((int) within.toMillis());
            return in.read() >= 0;
        } catch (SocketTimeoutException quiet) {
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            try {
                socket.setSoTimeout(30_000);
            } catch (SocketException ignored) {
                // closed
            }
        }
    }

    /** Ends the connection with a TCP reset instead of an orderly close. */
    void reset() {
        try {
            socket.setSoLinger(true, 0);
            socket.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Closes the sending half: the server reads end of stream. */
    void shutdownOutput() {
        try {
            socket.shutdownOutput();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String line() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            if (b == '\n') {
                String line = bytes.toString(StandardCharsets.ISO_8859_1);
                return line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
            }
            bytes.write(b);
        }
        return bytes.size() == 0 ? null : bytes.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // already gone
        }
    }
}
