package io.spindle.bench;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * A minimal HTTP/1.1 client on one kept-alive socket, for the load driver. The JDK's HttpClient
 * spent about as much CPU per request as the server did, and on 2 cores the client's CPU is taken
 * from the server's; this one costs a fraction, like wrk. It reads {@code Content-Length} and
 * chunked bodies, which is all Spindle sends.
 */
final class RawHttp implements Closeable {
    /** A response: its status, and its body as a stream (chunked bodies decoded). */
    record Response(int status, InputStream body) {
        String text() throws IOException {
            return new String(body.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private final String host;
    private final int port;
    private final String basePath;
    /** A connection idle this long is opened anew rather than reused, as connection pools evict idle connections. */
    private static final long MAX_IDLE_NANOS = 30_000_000_000L;
    private Socket socket;
    private long lastUsed;
    private BufferedInputStream in;
    private OutputStream out;

    /** @param base e.g. {@code http://127.0.0.1:8080/v1} */
    RawHttp(String base) {
        URI uri = URI.create(base);
        this.host = uri.getHost();
        this.port = uri.getPort();
        this.basePath = uri.getPath();
    }

    /** Writes a request body of a length given in advance to the socket, as it is produced. */
    interface BodyWriter {
        void writeTo(OutputStream out) throws IOException;
    }

    /** Sends a request on the kept-alive socket (opened when needed); read the body fully before the next request. */
    Response send(String method, String path, byte[] body) throws IOException {
        return body == null ? send(method, path, null, 0, null)
                : send(method, path, "application/json", body.length, out -> out.write(body));
    }

    /** Sends a request whose body of {@code length} bytes {@code body} streams out (no body when null). */
    Response send(String method, String path, String contentType, long length, BodyWriter body) throws IOException {
        if (socket != null && System.nanoTime() - lastUsed > MAX_IDLE_NANOS) {
            close(); // the server may have closed it meanwhile (Spindle closes idle connections after 60 s)
        }
        lastUsed = System.nanoTime();
        if (socket == null) {
            socket = new Socket(host, port);
            socket.setTcpNoDelay(true);
            in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
            out = socket.getOutputStream();
        }
        StringBuilder head = new StringBuilder(128).append(method).append(' ').append(basePath).append(path)
                .append(" HTTP/1.1\r\nHost: ").append(host).append(':').append(port).append("\r\n");
        if (body != null) {
            head.append("Content-Type: ").append(contentType).append("\r\nContent-Length: ").append(length).append("\r\n");
        }
        head.append("\r\n");
        try {
            out.write(head.toString().getBytes(StandardCharsets.US_ASCII));
            if (body != null) {
                body.writeTo(out);
            }
            out.flush();
            return readResponse();
        } catch (IOException e) {
            close();
            throw e;
        }
    }

    private Response readResponse() throws IOException {
        String status = line();
        if (!status.startsWith("HTTP/1.1 ")) {
            throw new IOException("not an HTTP/1.1 response: " + status);
        }
        int code = Integer.parseInt(status.substring(9, 12));
        long length = -1;
        boolean chunked = false;
        for (String header = line(); !header.isEmpty(); header = line()) {
            int colon = header.indexOf(':');
            String name = header.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = header.substring(colon + 1).trim();
            if (name.equals("content-length")) {
                length = Long.parseLong(value);
            } else if (name.equals("transfer-encoding") && value.equalsIgnoreCase("chunked")) {
                chunked = true;
            }
        }
        return new Response(code, chunked ? new Chunked() : new Fixed(Math.max(length, 0)));
    }

    private String line() throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream(64);
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new EOFException("connection closed");
            }
            if (b != '\r') {
                buf.write(b);
            }
        }
        return buf.toString(StandardCharsets.US_ASCII);
    }

    @Override
    public void close() {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing anyway
            }
            socket = null;
        }
    }

    /** A body read in blocks; single bytes go through the block read. */
    private abstract static class Body extends InputStream {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }
    }

    /** A body of known length. */
    private final class Fixed extends Body {
        private long left;

        Fixed(long length) {
            this.left = length;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left == 0) {
                return -1;
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n < 0) {
                throw new EOFException("connection closed mid-body");
            }
            left -= n;
            return n;
        }
    }

    /** A chunked body, decoded. */
    private final class Chunked extends Body {
        private long left;
        private boolean ended;

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (ended) {
                return -1;
            }
            if (left == 0) {
                String size = line();
                int semi = size.indexOf(';');
                left = Long.parseLong(semi >= 0 ? size.substring(0, semi) : size, 16);
                if (left == 0) {
                    while (!line().isEmpty()) {
                        // trailers
                    }
                    ended = true;
                    return -1;
                }
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n < 0) {
                throw new EOFException("connection closed mid-chunk");
            }
            left -= n;
            if (left == 0) {
                line(); // the CRLF after the chunk
            }
            return n;
        }
    }
}
