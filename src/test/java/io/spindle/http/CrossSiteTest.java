package io.spindle.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindle.testing.TestServer;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A web page the user visits must not drive a Spindle on the user's machine: without API keys,
 * requests from foreign origins (cross-site requests, CORS preflights) and requests addressed to a
 * foreign Host (DNS rebinding) are refused; loopback and listed ones are served. With keys, any
 * origin and host, as before. Raw sockets, since HTTP clients do not let a test choose the Host.
 */
class CrossSiteTest {
    private static final String KEY = "sk-cross-site-test";
    private static final String CREATE = "{\"model\":\"gpt-4o\"}";

    @Test
    void withoutKeysForeignOriginsAreRefused() {
        try (TestServer server = TestServer.start(TestServer.Storage.SQLITE); RawHttp http = new RawHttp(server.spindle().port())) {
            RawHttp.Response preflight = exchange(http, preflight("https://evil.example"));
            assertThat(preflight.status()).isEqualTo(403);
            assertThat(preflight.header("access-control-allow-origin")).isNull();
            assertThat(preflight.error().path("code").asText()).isEqualTo("origin_not_allowed");

            // A simple request needs no preflight: it must be refused, not only left unreadable.
            RawHttp.Response post = exchange(http, RawHttp.request("POST", "/v1/assistants", "Origin: https://evil.example\r\n", CREATE));
            assertThat(post.status()).isEqualTo(403);
            assertThat(post.header("access-control-allow-origin")).isNull();
            assertThat(exchange(http, RawHttp.request("POST", "/v1/threads", "Origin: null\r\n", "{}")).status()).isEqualTo(403);
            assertThat(exchange(http, RawHttp.request("GET", "/v1/assistants", "", null)).json().path("data").size())
                    .as("nothing was created").isZero();
        }
    }

    @Test
    void withoutKeysLoopbackOriginsAreServed() {
        try (TestServer server = TestServer.start(TestServer.Storage.SQLITE); RawHttp http = new RawHttp(server.spindle().port())) {
            RawHttp.Response preflight = exchange(http, preflight("http://localhost:3000"));
            assertThat(preflight.status()).isEqualTo(204);
            assertThat(preflight.header("access-control-allow-origin")).isEqualTo("http://localhost:3000");
            assertThat(preflight.header("vary")).isEqualTo("Origin");
            assertThat(preflight.header("access-control-allow-methods")).contains("POST");

            RawHttp.Response post = exchange(http, RawHttp.request("POST", "/v1/assistants", "Origin: http://127.0.0.1:5173\r\n", CREATE));
            assertThat(post.status()).isEqualTo(200);
            assertThat(post.header("access-control-allow-origin")).isEqualTo("http://127.0.0.1:5173");

            RawHttp.Response plain = exchange(http, RawHttp.request("GET", "/v1/assistants", "", null));
            assertThat(plain.status()).as("no Origin: not a browser, served").isEqualTo(200);
            assertThat(plain.header("access-control-allow-origin")).isNull();
        }
    }

    @Test
    void withoutKeysOnlyLoopbackHostsAreServed() {
        try (TestServer server = TestServer.start(TestServer.Storage.SQLITE); RawHttp http = new RawHttp(server.spindle().port())) {
            int port = server.spindle().port();
            for (String host : new String[] {"evil.example", "evil.example:" + port, "127.0.0.1.nip.io:" + port}) {
                RawHttp.Response r = exchange(http, withHost("GET", "/v1/assistants", host, null));
                assertThat(r.status()).as("Host %s", host).isEqualTo(403);
                assertThat(r.error().path("code").asText()).isEqualTo("host_not_allowed");
                assertThat(r.error().path("message").asText()).contains("SPINDLE_ALLOWED_HOSTS");
            }
            assertThat(exchange(http, withHost("POST", "/v1/assistants", "evil.example", CREATE)).status()).isEqualTo(403);
            assertThat(exchange(http, withHost("GET", "/healthz", "evil.example", null)).status()).isEqualTo(403);
            for (String host : new String[] {"localhost", "localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port, "127.0.0.2"}) {
                assertThat(exchange(http, withHost("GET", "/v1/assistants", host, null)).status()).as("Host %s", host).isEqualTo(200);
            }
            assertThat(exchange(http, withHost("GET", "/v1/assistants", "localhost", null)).json().path("data").size())
                    .as("nothing was created through a foreign host").isZero();
        }
    }

    @Test
    void listedOriginsAndHostsAreServedWithoutKeys() {
        Map<String, String> env = Map.of("SPINDLE_CORS_ORIGINS", "https://app.example.com,http://intranet:*",
                "SPINDLE_ALLOWED_HOSTS", "spindle.internal");
        try (TestServer server = TestServer.start(TestServer.Storage.SQLITE, env); RawHttp http = new RawHttp(server.spindle().port())) {
            for (String origin : new String[] {"https://app.example.com", "http://intranet:8443", "http://localhost:3000"}) {
                RawHttp.Response preflight = exchange(http, preflight(origin));
                assertThat(preflight.status()).as("preflight from %s", origin).isEqualTo(204);
                assertThat(preflight.header("access-control-allow-origin")).isEqualTo(origin);
                RawHttp.Response post = exchange(http, RawHttp.request("POST", "/v1/assistants", "Origin: " + origin + "\r\n", CREATE));
                assertThat(post.status()).as("POST from %s", origin).isEqualTo(200);
                assertThat(post.header("access-control-allow-origin")).isEqualTo(origin);
            }
            assertThat(exchange(http, preflight("https://evil.example")).status()).isEqualTo(403);
            assertThat(exchange(http, withHost("GET", "/v1/assistants", "spindle.internal:8080", null)).status()).isEqualTo(200);
            assertThat(exchange(http, withHost("GET", "/v1/assistants", "evil.example", null)).status()).isEqualTo(403);
        }
    }

    @Test
    void withKeysAnyOriginAndHost() {
        try (TestServer server = TestServer.start(TestServer.Storage.SQLITE, Map.of("SPINDLE_API_KEYS", KEY));
             RawHttp http = new RawHttp(server.spindle().port())) {
            RawHttp.Response preflight = exchange(http, preflight("https://evil.example"));
            assertThat(preflight.status()).isEqualTo(204);
            assertThat(preflight.header("access-control-allow-origin")).isEqualTo("*");

            String auth = "Authorization: Bearer " + KEY + "\r\n";
            RawHttp.Response post = exchange(http, RawHttp.request("POST", "/v1/assistants", "Origin: https://evil.example\r\n" + auth, CREATE));
            assertThat(post.status()).isEqualTo(200);
            assertThat(post.header("access-control-allow-origin")).isEqualTo("*");
            RawHttp.Response noKey = exchange(http, RawHttp.request("POST", "/v1/assistants", "Origin: https://evil.example\r\n", CREATE));
            assertThat(noKey.status()).as("the page still needs a key").isEqualTo(401);

            RawHttp.Response foreignHost = exchange(http, withHost("GET", "/v1/assistants", "api.example.com", null).replace(
                    "\r\n\r\n", "\r\n" + auth + "\r\n"));
            assertThat(foreignHost.status()).isEqualTo(200);
        }
    }

    private static RawHttp.Response exchange(RawHttp http, String request) {
        return http.send(request).read();
    }

    private static String preflight(String origin) {
        return "OPTIONS /v1/assistants HTTP/1.1\r\nHost: localhost\r\nOrigin: " + origin + "\r\n"
                + "Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type, authorization\r\n\r\n";
    }

    private static String withHost(String method, String path, String host, String body) {
        return RawHttp.request(method, path, "", body).replace("Host: localhost\r\n", "Host: " + host + "\r\n");
    }
}
