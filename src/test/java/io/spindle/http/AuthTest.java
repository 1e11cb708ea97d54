package io.spindle.http;

import static io.spindle.http.BadInputTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import io.spindle.testing.Api;
import io.spindle.testing.TestServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** API keys with the raw client: what is rejected, with which text, and what needs no key. */
class AuthTest {
    private static final String KEY = "sk-spindle-test-0123456789abcdef";
    private static final String OTHER_KEY = "sk-other-project-key-42";
    private static final String NO_KEY = "You didn't provide an API key. You need to provide your API key in an Authorization header "
            + "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're "
            + "accessing the API from your browser and are prompted for a username and password.";

    private static TestServer server;
    private static Api api;

    @BeforeAll
    static void start() {
        server = TestServer.start(TestServer.Storage.SQLITE, Map.of("SPINDLE_API_KEYS", KEY + ":alpha, " + OTHER_KEY + ":beta"));
        api = server.api();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void theConfiguredKeyWorks() {
        assertThat(api.post("/v1/assistants", Map.of("model", "gpt-4o")).ok().get("object").asText()).isEqualTo("assistant");
        assertThat(api.get("/v1/assistants").ok().get("object").asText()).isEqualTo("list");
    }

    @Test
    void missingKeyIs401() {
        Api anonymous = api.withKey(null);
        for (Api.Response r : new Api.Response[] {
                anonymous.get("/v1/assistants"),
                anonymous.post("/v1/assistants", Map.of("model", "gpt-4o")),
                anonymous.post("/v1/threads", Map.of()),
                anonymous.get("/v1/nothing")}) {
            assertError(r, 401, null, null, null);
            assertThat(r.json().at("/error/message").asText()).startsWith(NO_KEY);
            assertThat(r.header("access-control-allow-origin")).isEqualTo("*");
        }
    }

    @Test
    void blankOrNonBearerAuthorizationIsAMissingKey() {
        for (String header : new String[] {"Bearer ", "Bearer    ", "Basic " + KEY, KEY, ""}) {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(api.baseUrl() + "/v1/assistants"))
                    .timeout(Duration.ofSeconds(30)).GET();
            if (!header.isEmpty()) {
                request.header("Authorization", header);
            }
            Api.Response r = api.send(request.build());
            assertError(r, 401, null, null, null);
            assertThat(r.json().at("/error/message").asText()).as("for Authorization '%s'", header).startsWith(NO_KEY);
        }
    }

    @Test
    void wrongKeyIs401InvalidApiKey() {
        String wrong = "sk-wrong-key-abcdefghijklmnopqrstuvwxyz-9876";
        for (Api.Response r : new Api.Response[] {
                api.withKey(wrong).get("/v1/assistants"),
                api.withKey(wrong).post("/v1/threads", Map.of()),
                api.withKey(KEY + "x").get("/v1/assistants"),
                api.withKey("short").get("/v1/assistants")}) {
            assertError(r, 401, null, "invalid_api_key", null);
            String message = r.json().at("/error/message").asText();
            assertThat(message).startsWith("Incorrect API key provided:");
            assertThat(message).doesNotContain(wrong).doesNotContain(KEY + "x").doesNotContain("short");
        }
        // Only the ends of the key are shown.
        String shown = api.withKey(wrong).get("/v1/assistants").json().at("/error/message").asText();
        assertThat(shown).contains("sk-").contains("9876").doesNotContain("abcdefghij");
    }

    @Test
    void keysAreScopedToTheirProject() {
        String id = api.post("/v1/assistants", Map.of("model", "gpt-4o")).ok().get("id").asText();
        Api other = api.withKey(OTHER_KEY);
        assertError(other.get("/v1/assistants/" + id), 404, null, null, "No assistant found with id '" + id + "'.");
        assertThat(other.get("/v1/assistants?limit=100").ok().get("data").findValuesAsText("id")).doesNotContain(id);
        assertThat(api.get("/v1/assistants/" + id).ok().get("id").asText()).isEqualTo(id);
    }

    @Test
    void healthChecksNeedNoKey() {
        Api anonymous = api.withKey(null);
        assertThat(anonymous.get("/healthz").ok().get("status").asText()).isEqualTo("ok");
        assertThat(anonymous.get("/readyz").ok().get("status").asText()).isEqualTo("ready");
        assertThat(api.withKey("sk-wrong").get("/healthz").status()).isEqualTo(200);
    }

    @Test
    void corsPreflightIsAnsweredWithoutAKey() throws IOException, InterruptedException {
        HttpRequest preflight = HttpRequest.newBuilder(URI.create(api.baseUrl() + "/v1/assistants"))
                .timeout(Duration.ofSeconds(30))
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                .header("Origin", "https://app.example.com")
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "authorization, content-type, openai-beta, x-stainless-os")
                .build();
        // Not through Api: a 204 preflight carries no JSON body to check.
        try (HttpClient client = HttpClient.newHttpClient()) {
            HttpResponse<String> response = client.send(preflight, HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(204);
            assertThat(response.body()).isEmpty();
            assertThat(response.headers().firstValue("access-control-allow-origin")).contains("*");
            assertThat(response.headers().firstValue("access-control-allow-methods").orElse("")).contains("POST").contains("DELETE");
            assertThat(response.headers().firstValue("access-control-allow-headers").orElse(""))
                    .contains("authorization").contains("openai-beta").contains("x-stainless-os");
            assertThat(response.headers().firstValue("x-request-id").orElse("")).startsWith("req_");
        }
    }
}
