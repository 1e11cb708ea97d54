package io.spindle.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.spindle.testing.Api;
import io.spindle.testing.Multipart;
import io.spindle.testing.LogCapture;
import io.spindle.testing.TestServer;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * HTTP/1.1 under abuse, with bytes written by hand: broken framing and methods get a JSON 400 and
 * no stack trace, HEAD answers like GET without a body, {@code Connection: close} closes, slow and
 * idle clients are dropped, connections past the limit wait, and clients that leave mid-body cost
 * one quiet log line.
 */
class HttpProtocolTest {
    private static final Duration GENEROUS = Duration.ofSeconds(30);

    private static TestServer server;
    private static int port;

    @BeforeAll
    static void start() {
        server = TestServer.start(TestServer.Storage.SQLITE, Map.of("SPINDLE_READ_TIMEOUT_SECONDS", "1"));
        port = server.spindle().port();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void malformedChunkSizeIs400AndClosesTheConnection() {
        try (LogCapture logs = LogCapture.all(); RawHttp http = new RawHttp(port)) {
            http.send("POST /v1/threads HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n");
            RawHttp.Response r = http.read();
            assertThat(r.status()).isEqualTo(400);
            assertThat(r.header("content-type")).startsWith("application/json");
            assertThat(r.error().path("message").asText()).contains("chunked transfer encoding is malformed");
            assertThat(r.header("connection")).isEqualTo("close");
            assertThat(http.closedWithin(GENEROUS)).as("connection closed after the answer").isTrue();
            assertThat(logs.atLeast(Level.WARNING)).as("log records").isEmpty();
        }
    }

    @Test
    void nonAsciiMethodIs400() {
        try (LogCapture logs = LogCapture.all(); RawHttp http = new RawHttp(port)) {
            http.send("G\u00c9T /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.UTF_8));
            RawHttp.Response r = http.read();
            assertThat(r.status()).isEqualTo(400);
            assertThat(r.header("content-type")).startsWith("application/json");
            assertThat(r.header("x-request-id")).startsWith("req_");
            JsonNode error = r.error();
            assertThat(error.path("type").asText()).isEqualTo("invalid_request_error");
            assertThat(logs.atLeast(Level.WARNING)).as("log records: %s", LogCapture.describe(logs.atLeast(Level.WARNING))).isEmpty();
        }
    }

    @Test
    void headAnswersLikeGetWithoutABody() {
        try (RawHttp http = new RawHttp(port)) {
            http.send(RawHttp.request("GET", "/healthz", "", null));
            int healthLength = http.read().body().length();

            http.send(RawHttp.request("HEAD", "/healthz", "", null));
            RawHttp.Response head = http.readHead();
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("content-type")).startsWith("application/json");
            assertThat(head.header("content-length")).isEqualTo(Integer.toString(healthLength));

            http.send(RawHttp.request("HEAD", "/v1/assistants", "", null));
            RawHttp.Response list = http.readHead();
            assertThat(list.status()).isEqualTo(200);
            assertThat(list.header("x-request-id")).startsWith("req_");

            http.send(RawHttp.request("HEAD", "/v1/threads/thread_doesnotexist", "", null));
            assertThat(http.readHead().status()).isEqualTo(404);

            // No body followed any HEAD answer: the next answer on the connection reads cleanly.
            http.send(RawHttp.request("GET", "/v1/assistants", "", null));
            RawHttp.Response get = http.read();
            assertThat(get.status()).isEqualTo(200);
            assertThat(get.json().path("object").asText()).isEqualTo("list");
        }
    }

    @Test
    void headOfADownloadSendsItsLengthWithoutTheBytes() {
        byte[] form = new Multipart().text("purpose", "batch").file("file", "data.jsonl", "{\"a\":1}\n".repeat(1000).getBytes()).end();
        Api api = server.api();
        String id = api.send(Multipart.post(api.baseUrl() + "/v1/files", null, form, Multipart.CONTENT_TYPE)).json().path("id").asText();
        try (RawHttp http = new RawHttp(port)) {
            http.send(RawHttp.request("HEAD", "/v1/files/" + id + "/content", "", null));
            RawHttp.Response head = http.readHead();
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("content-length")).isEqualTo("8000");

            // no bytes followed the HEAD answer: the next answer on the connection reads cleanly
            http.send(RawHttp.request("GET", "/v1/files/" + id, "", null));
            RawHttp.Response get = http.read();
            assertThat(get.status()).isEqualTo(200);
            assertThat(get.json().path("bytes").asLong()).isEqualTo(8000);
        }
    }

    @Test
    void connectionCloseClosesAfterTheAnswer() {
        try (RawHttp http = new RawHttp(port)) {
            http.send(RawHttp.request("GET", "/healthz", "Connection: close\r\n", null));
            RawHttp.Response r = http.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("connection")).isEqualTo("close");
            assertThat(http.closedWithin(GENEROUS)).isTrue();
        }
        try (RawHttp http = new RawHttp(port)) {
            http.send(RawHttp.request("POST", "/v1/threads/thread_doesnotexist/messages", "Connection: close\r\n",
                    "{\"role\":\"user\",\"content\":\"hi\"}"));
            assertThat(http.read().status()).isEqualTo(404);
            assertThat(http.closedWithin(GENEROUS)).isTrue();
        }
    }

    @Test
    void keepAliveStillServesManyRequests() {
        try (RawHttp http = new RawHttp(port)) {
            for (int i = 0; i < 5; i++) {
                http.send(RawHttp.request("POST", "/v1/threads", "", "{}"));
                assertThat(http.read().json().path("object").asText()).isEqualTo("thread");
            }
        }
    }

    @Test
    void slowHeadersAreDroppedAfterTheReadTimeout() {
        try (RawHttp http = new RawHttp(port)) {
            long started = System.nanoTime();
            http.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n");
            boolean closed = http.closedWithin(GENEROUS, () -> trickle(http, "X-Slow: 1\r\n"));
            assertThat(closed).as("a client trickling header lines is dropped").isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
        }
    }

    @Test
    void stalledBodyIsDroppedAfterTheReadTimeout() {
        try (LogCapture logs = LogCapture.all(); RawHttp http = new RawHttp(port)) {
            http.send("POST /v1/threads HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{");
            assertThat(http.closedWithin(GENEROUS)).as("a client that stops mid-body is dropped").isTrue();
            assertThat(logs.atLeast(Level.WARNING)).as("log records: %s", LogCapture.describe(logs.atLeast(Level.WARNING))).isEmpty();
        }
    }

    @Test
    void unreadBodyOfAnErrorIsDrainedUnderTheReadTimeout() {
        try (RawHttp http = new RawHttp(port)) {
            http.send("POST /v1/threads/thread_doesnotexist/messages HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 100\r\n\r\n{");
            assertThat(http.read().status()).isEqualTo(404);
            assertThat(http.closedWithin(GENEROUS)).as("the rest of the body never came: dropped").isTrue();
        }
    }

    @Test
    void clientsLeavingMidBodyCostOneQuietLineEach() {
        int clients = 30;
        try (LogCapture logs = LogCapture.withFine(Http.class.getName())) {
            for (int i = 0; i < clients; i++) {
                try (RawHttp http = new RawHttp(port)) {
                    // The 100 Continue shows the route has begun reading the body before the client leaves.
                    http.send("POST /v1/threads HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
                            + (i % 2 == 0 ? "Content-Length: 1000\r\n\r\n" : "Transfer-Encoding: chunked\r\n\r\n"));
                    assertThat(http.readHead().status()).isEqualTo(100);
                    http.send(i % 2 == 0 ? "{\"metadata\":" : "40\r\n{\"metadata\":");
                    switch (i % 3) {
                        case 0 -> http.reset();
                        case 1 -> http.shutdownOutput();
                        default -> { } // an orderly close
                    }
                }
            }
            long deadline = System.nanoTime() + GENEROUS.toNanos();
            while (logs.from(Http.class.getName(), Level.FINE).size() < clients && System.nanoTime() < deadline) {
                sleep(50);
            }
            assertThat(logs.from(Http.class.getName(), Level.FINE)).as("one FINE line per client that left")
                    .hasSize(clients)
                    .allSatisfy(r -> assertThat(r.getThrown()).as("no stack trace").isNull());
            assertThat(logs.atLeast(Level.INFO)).as("log records: %s", LogCapture.describe(logs.atLeast(Level.INFO))).isEmpty();
        }
        try (RawHttp http = new RawHttp(port)) {
            http.send(RawHttp.request("GET", "/healthz", "", null));
            assertThat(http.read().status()).isEqualTo(200);
        }
    }

    @Test
    void idleConnectionsAreClosed() {
        try (TestServer idle = TestServer.start(TestServer.Storage.SQLITE, Map.of("SPINDLE_IDLE_TIMEOUT_SECONDS", "1"));
             RawHttp afterRequest = new RawHttp(idle.spindle().port());
             RawHttp halfRequestLine = new RawHttp(idle.spindle().port())) {
            afterRequest.send(RawHttp.request("GET", "/healthz", "", null));
            assertThat(afterRequest.read().status()).isEqualTo(200);
            halfRequestLine.send("GET /hea");
            assertThat(afterRequest.closedWithin(GENEROUS)).as("idle keep-alive connection closed").isTrue();
            assertThat(halfRequestLine.closedWithin(GENEROUS)).as("unfinished request line dropped").isTrue();
        }
    }

    @Test
    void connectionsPastTheLimitWaitUntilOneCloses() {
        try (TestServer limited = TestServer.start(TestServer.Storage.SQLITE, Map.of("SPINDLE_MAX_CONNECTIONS", "2"))) {
            int limitedPort = limited.spindle().port();
            RawHttp first = new RawHttp(limitedPort);
            try (RawHttp second = new RawHttp(limitedPort); RawHttp third = new RawHttp(limitedPort)) {
                for (RawHttp open : new RawHttp[] {first, second}) {
                    open.send(RawHttp.request("GET", "/healthz", "", null));
                    assertThat(open.read().status()).isEqualTo(200);
                }
                third.send(RawHttp.request("GET", "/healthz", "", null));
                assertThat(third.answersWithin(Duration.ofSeconds(1))).as("third connection served while two are open").isFalse();
                first.close();
                assertThat(third.answersWithin(GENEROUS)).as("third connection served once one closed").isTrue();
            } finally {
                first.close();
            }
        }
    }

    private static void trickle(RawHttp http, String line) {
        try {
            http.send(line);
            sleep(200);
        } catch (UncheckedIOException closed) {
            // the server hung up: closedWithin sees it on its next read
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
