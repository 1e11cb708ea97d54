package io.spindle.http;

import static io.spindle.http.BadInputTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.spindle.testing.Api;
import io.spindle.testing.FakeUpstream;
import io.spindle.testing.SseEvents;
import io.spindle.testing.TestServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Input that storage or serialisation cannot take is refused at the door, the same way on SQLite
 * and PostgreSQL: free-form JSON nested too deeply (a stored object must always fit in a list page,
 * a run and its events), NUL and other control characters in ids, invalid UTF-8 in path, query and
 * body.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(value = TestServer.Storage.class, names = {"SQLITE", "POSTGRESQL"})
class InputLimitsTest {
    private static final String PARSE_ERROR_START = "We could not parse the JSON body of your request.";
    private static final int MAX_DEPTH = 64;

    @Parameter
    TestServer.Storage storage;

    private static FakeUpstream upstream;
    private static TestServer server;
    private static TestServer.Storage serverStorage;
    private static Api api;

    private TestServer server() {
        if (server != null && serverStorage != storage) {
            server.close();
            server = null;
        }
        if (server == null) {
            serverStorage = storage;
            server = TestServer.start(storage, Map.of("SPINDLE_UPSTREAM_URL", upstream.baseUrl(), "SPINDLE_DATABASE_POOL_SIZE", "4"));
            api = server.api();
        }
        return server;
    }

    private Api api() {
        server();
        return api;
    }

    @BeforeAll
    static void startUpstream() {
        upstream = FakeUpstream.start();
        upstream.respondWith(body -> FakeUpstream.Reply.text("ok"));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
            server = null;
        }
        upstream.close();
    }

    // --- nesting ---------------------------------------------------------------------------------------

    /** A JSON object nested {@code levels} deep: {@code {"a":{"a":...{}}}} has {@code levels} pairs of braces. */
    private static String nested(int levels) {
        return "{\"a\":".repeat(levels - 1) + "{}" + "}".repeat(levels - 1);
    }

    private static String function(String parameters) {
        return "{\"type\":\"function\",\"function\":{\"name\":\"deep\",\"parameters\":" + parameters + "}}";
    }

    @Test
    void toolParametersNestedTooDeeplyAre400NamingTheParameter() {
        for (int levels : new int[] {MAX_DEPTH + 1, 200, 994}) {
            assertDepthError(api().post("/v1/assistants", "{\"model\":\"gpt-4o\",\"tools\":[" + function(nested(levels)) + "]}"),
                    "tools[0].function.parameters");
        }
        String assistant = api().post("/v1/assistants", Map.of("model", "gpt-4o")).ok().get("id").asText();
        assertDepthError(api().post("/v1/assistants/" + assistant, "{\"tools\":[{\"type\":\"code_interpreter\"}," + function(nested(100)) + "]}"),
                "tools[1].function.parameters");
        String thread = api().post("/v1/threads", Map.of()).ok().get("id").asText();
        assertDepthError(api().post("/v1/threads/" + thread + "/runs", "{\"assistant_id\":\"" + assistant + "\",\"tools\":["
                + function(nested(100)) + "]}"), "tools[0].function.parameters");
        assertDepthError(api().post("/v1/threads/runs", "{\"assistant_id\":\"" + assistant + "\",\"tools\":["
                + function(nested(100)) + "]}"), "tools[0].function.parameters");
    }

    @Test
    void responseFormatSchemaNestedTooDeeplyIs400NamingTheParameter() {
        String format = "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"deep\",\"schema\":" + nested(MAX_DEPTH + 1) + "}}";
        assertDepthError(api().post("/v1/assistants", "{\"model\":\"gpt-4o\",\"response_format\":" + format + "}"),
                "response_format.json_schema.schema");
        String assistant = api().post("/v1/assistants", Map.of("model", "gpt-4o")).ok().get("id").asText();
        assertDepthError(api().post("/v1/threads/runs", "{\"assistant_id\":\"" + assistant + "\",\"response_format\":" + format + "}"),
                "response_format.json_schema.schema");
    }

    @Test
    void nestedMetadataIs400NamingTheKey() {
        assertError(api().post("/v1/threads", "{\"metadata\":{\"k\":" + nested(500) + "}}"), 400, "metadata.k", "invalid_type",
                "Invalid type for 'metadata.k': expected a string, but got an object instead.");
        assertError(api().post("/v1/assistants", "{\"model\":\"gpt-4o\",\"metadata\":" + nested(300) + "}"), 400, "metadata.a",
                "invalid_type", null);
    }

    @Test
    void bodiesDeeperThanTheParserTakesAreParseErrors() {
        Api.Response r = api().post("/v1/assistants", "{\"model\":\"gpt-4o\",\"tools\":[" + function(nested(1_200)) + "]}");
        assertError(r, 400, null, null, null);
        assertThat(r.json().at("/error/message").asText()).startsWith(PARSE_ERROR_START);
    }

    /**
     * The deepest schema accepted still fits everywhere the object goes: the list of assistants, the
     * run and its list, and the run's events (on PostgreSQL they travel through NOTIFY).
     */
    @Test
    void theDeepestAcceptedSchemaCanBeListedRunAndStreamed() throws IOException, InterruptedException {
        String schema = nested(MAX_DEPTH);
        JsonNode assistant = api().post("/v1/assistants", "{\"model\":\"gpt-4o\",\"tools\":[" + function(schema) + "],"
                + "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"deep\",\"schema\":" + schema + "}}}").ok();
        assertThat(api().get("/v1/assistants?limit=100").ok().get("data").findValuesAsText("id")).contains(assistant.get("id").asText());

        String thread = api().post("/v1/threads", Map.of()).ok().get("id").asText();
        HttpRequest streamed = HttpRequest.newBuilder(URI.create(server().baseUrl() + "/threads/" + thread + "/runs"))
                .timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"assistant_id\":\"" + assistant.get("id").asText() + "\",\"stream\":true}"))
                .build();
        String body;
        try (HttpClient client = HttpClient.newHttpClient()) {
            HttpResponse<String> response = client.send(streamed, HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
            body = response.body();
        }
        List<String> names = SseEvents.parseAndValidate(body).stream().map(SseEvents.Event::name).toList();
        assertThat(names).contains("thread.run.created", "thread.message.delta", "thread.run.completed");
        assertThat(names.getLast()).isEqualTo("done");
        JsonNode runs = api().get("/v1/threads/" + thread + "/runs").ok();
        assertThat(runs.get("data").get(0).get("status").asText()).isEqualTo("completed");
        assertThat(runs.get("data").get(0).at("/tools/0/function/parameters")).isEqualTo(assistant.at("/tools/0/function/parameters"));
    }

    private static void assertDepthError(Api.Response response, String param) {
        assertError(response, 400, param, "object_above_max_depth",
                "Invalid '" + param + "': object nested too deeply. Expected at most " + MAX_DEPTH + " levels of nesting.");
    }

    // --- NUL in ids -------------------------------------------------------------------------------------

    @Test
    void nulInPathIdsIs400NamingTheParameter() {
        String thread = api().post("/v1/threads", Map.of()).ok().get("id").asText();
        String assistant = api().post("/v1/assistants", Map.of("model", "gpt-4o")).ok().get("id").asText();
        String run = api().post("/v1/threads/" + thread + "/runs", Map.of("assistant_id", assistant)).ok().get("id").asText();
        waitUntilDone(thread, run);
        assertNulId(api().get("/v1/threads/thread_%00abc"), "thread_id");
        assertNulId(api().post("/v1/threads/thread_abc%00", Map.of()), "thread_id");
        assertNulId(api().delete("/v1/threads/thread_%00"), "thread_id");
        assertNulId(api().get("/v1/threads/thread_%00abc/messages"), "thread_id");
        assertNulId(api().get("/v1/assistants/asst_%00abc"), "assistant_id");
        assertNulId(api().delete("/v1/assistants/asst_%00abc"), "assistant_id");
        assertNulId(api().get("/v1/threads/" + thread + "/messages/msg_%00abc"), "message_id");
        assertNulId(api().get("/v1/threads/" + thread + "/runs/run_%00abc"), "run_id");
        assertNulId(api().post("/v1/threads/" + thread + "/runs/run_%00abc/cancel", Map.of()), "run_id");
        assertNulId(api().get("/v1/threads/" + thread + "/runs/" + run + "/steps/step_%00abc"), "step_id");
    }

    @Test
    void nulInQueryIdsIs400NamingTheParameter() {
        String thread = api().post("/v1/threads", Map.of()).ok().get("id").asText();
        assertNulId(api().get("/v1/threads/" + thread + "/messages?run_id=run_%00abc"), "run_id");
        for (String cursor : List.of("after", "before")) {
            assertError(api().get("/v1/assistants?" + cursor + "=asst_%00abc"), 400, cursor, "invalid_value",
                    "Invalid '" + cursor + "': 'asst_\u0000abc' is not the id of an object in this list.");
            assertError(api().get("/v1/threads/" + thread + "/messages?" + cursor + "=msg_abc%00"), 400, cursor, "invalid_value", null);
            assertError(api().get("/v1/threads/" + thread + "/runs?" + cursor + "=%00"), 400, cursor, "invalid_value", null);
        }
    }

    @Test
    void nulInBodyIdsIs400NamingTheParameter() {
        String thread = api().post("/v1/threads", Map.of()).ok().get("id").asText();
        assertNulId(api().post("/v1/threads/" + thread + "/runs", "{\"assistant_id\":\"asst_\\u0000abc\"}"), "assistant_id");
        assertNulId(api().post("/v1/threads/runs", "{\"assistant_id\":\"asst_abc\\u0000\"}"), "assistant_id");
        assertNulId(api().post("/v1/threads/" + thread + "/messages",
                "{\"role\":\"user\",\"content\":\"hi\",\"attachments\":[{\"file_id\":\"file-\\u0000\"}]}"), "attachments[0].file_id");
        assertNulId(api().post("/v1/assistants", "{\"model\":\"gpt-4o\",\"tool_resources\":{\"file_search\":"
                + "{\"vector_store_ids\":[\"vs_\\u0000\"]}}}"), "tool_resources.file_search.vector_store_ids[0]");
    }

    private static void assertNulId(Api.Response response, String param) {
        assertError(response, 400, param, "invalid_value", null);
        assertThat(response.json().at("/error/message").asText()).endsWith("An ID cannot contain control characters.");
    }

    private void waitUntilDone(String thread, String run) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            String status = api().get("/v1/threads/" + thread + "/runs/" + run).ok().get("status").asText();
            if (!List.of("queued", "in_progress").contains(status)) {
                return;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new AssertionError("run " + run + " did not finish");
    }

    // --- invalid UTF-8 ----------------------------------------------------------------------------------

    @Test
    void invalidUtf8InThePathIs400() {
        for (String path : List.of("/v1/threads/%C0%AF", "/v1/threads/thread_%C0%AF", "/v1/assistants/asst_%ED%A0%80",
                "/v1/assistants/asst_%F4%90%80%80", "/v1/assistants/asst_%FF", "/v1/threads/thread_%E2%82")) {
            Api.Response r = api().get(path);
            assertError(r, 400, null, "invalid_encoding", null);
            assertThat(r.json().at("/error/message").asText()).contains("valid UTF-8");
        }
        assertThat(api().get("/v1/assistants/asst_%E2%82%AC").status()).as("a valid escape is an ordinary unknown id").isEqualTo(404);
    }

    @Test
    void invalidUtf8InTheQueryIs400() {
        for (String query : List.of("after=%C0%AF", "order=%C0%AFasc", "limit=1&before=asst_%ED%A0%80")) {
            assertError(api().get("/v1/assistants?" + query), 400, null, "invalid_encoding", null);
        }
    }

    @Test
    void invalidUtf8InTheBodyIsAParseError() {
        byte[][] strings = {
                {(byte) 0xC0, (byte) 0xAF},                           // overlong "/"
                {(byte) 0xE0, (byte) 0x80, (byte) 0xAF},              // overlong "/" in three bytes
                {(byte) 0xED, (byte) 0xA0, (byte) 0x80},              // a surrogate
                {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, // past U+10FFFF
        };
        for (byte[] bad : strings) {
            for (String template : List.of("{\"model\":\"gpt-4o\",\"name\":\"%s\"}", "{\"model\":\"gpt-4o\",\"metadata\":{\"%s\":\"v\"}}")) {
                String[] parts = template.split("%s");
                byte[] body = concat(parts[0].getBytes(StandardCharsets.UTF_8), bad, parts[1].getBytes(StandardCharsets.UTF_8));
                Api.Response r = api().send(HttpRequest.newBuilder(URI.create(server().rootUrl() + "/v1/assistants"))
                        .timeout(Duration.ofSeconds(30))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                        .build());
                assertError(r, 400, null, null, null);
                assertThat(r.json().at("/error/message").asText()).startsWith(PARSE_ERROR_START);
            }
        }
    }

    private static byte[] concat(byte[]... parts) {
        int length = 0;
        for (byte[] p : parts) {
            length += p.length;
        }
        byte[] out = new byte[length];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
