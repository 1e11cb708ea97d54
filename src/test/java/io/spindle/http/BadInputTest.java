package io.spindle.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.spindle.testing.Api;
import io.spindle.testing.TestServer;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Bad requests of every kind get OpenAI's error body with the right status, param, code and, where
 * the behaviour dossier records it, the exact message.
 */
class BadInputTest {
    private static final String PARSE_ERROR = "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
            + "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not "
            + "valid JSON. If you have trouble figuring out how to fix this, please contact us through our help "
            + "center at help.openai.com.)";
    private static final String FUNCTION_NAME_PATTERN =
            "string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]{1,64}$'.";

    private static TestServer server;
    private static Api api;
    private static String assistantId;
    private static String threadId;
    private static String messageId;

    @BeforeAll
    static void start() {
        server = TestServer.start(TestServer.Storage.SQLITE);
        api = server.api();
        assistantId = api.post("/v1/assistants", Map.of("model", "gpt-4o")).ok().get("id").asText();
        threadId = api.post("/v1/threads", Map.of()).ok().get("id").asText();
        messageId = api.post("/v1/threads/" + threadId + "/messages", Map.of("role", "user", "content", "hi"))
                .ok().get("id").asText();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    // --- body is not a JSON object ---------------------------------------------------------

    @Test
    void malformedJson() {
        for (String body : List.of("{\"model\": \"gpt-4o\",", "{model: 'gpt-4o'}", "{\"model\": \"gpt-4o\"} trailing", "nonsense")) {
            assertError(api.post("/v1/assistants", body), 400, null, null, PARSE_ERROR);
        }
        assertError(api.post("/v1/threads", "{\"metadata\":"), 400, null, null, PARSE_ERROR);
        assertError(api.post("/v1/threads/" + threadId + "/messages", "{\"role\":\"user\",\"content\":\"hi\"}}"), 400, null, null, PARSE_ERROR);
    }

    @Test
    void invalidUtf8IsAParseError() {
        byte[] latin1 = "{\"model\":\"gpt-4o\",\"name\":\"caf\u00e9\"}".getBytes(StandardCharsets.ISO_8859_1);
        assertError(postBytes("/v1/assistants", latin1), 400, null, null, PARSE_ERROR);
        // A leading NUL makes the parser guess UTF-16/32; garbage in those encodings is still a parse error.
        byte[] nul = {0, 0, 0, '{', (byte) 0xff, (byte) 0xfe, 0, 0};
        assertError(postBytes("/v1/assistants", nul), 400, null, null, PARSE_ERROR);
        byte[] utf32ish = {0, 0, 0, '{', 0, 0, 0, '"', (byte) 0xd8, 0, 0, 0};
        assertError(postBytes("/v1/threads", utf32ish), 400, null, null, PARSE_ERROR);
    }

    @Test
    void bodyThatIsNotAnObject() {
        assertError(api.post("/v1/assistants", "[{\"model\":\"gpt-4o\"}]"), 400, null, "invalid_type",
                "Invalid body: expected a JSON object, but got an array instead.");
        assertError(api.post("/v1/assistants", "\"gpt-4o\""), 400, null, "invalid_type",
                "Invalid body: expected a JSON object, but got a string instead.");
        assertError(api.post("/v1/threads", "42"), 400, null, "invalid_type",
                "Invalid body: expected a JSON object, but got an integer instead.");
        assertError(api.post("/v1/threads/" + threadId + "/messages", "true"), 400, null, "invalid_type",
                "Invalid body: expected a JSON object, but got a boolean instead.");
        assertError(api.post("/v1/threads/" + threadId, "[]"), 400, null, "invalid_type",
                "Invalid body: expected a JSON object, but got an array instead.");
    }

    // --- wrong types ----------------------------------------------------------------------------

    @Test
    void wrongTypesOnCreateAssistant() {
        assertWrongType("/v1/assistants", Map.of("model", 5), "model", "a string", "an integer");
        assertWrongType("/v1/assistants", body("model", "gpt-4o", "temperature", "hot"), "temperature", "a decimal", "a string");
        assertWrongType("/v1/assistants", body("model", "gpt-4o", "top_p", List.of()), "top_p", "a decimal", "an array");
        assertWrongType("/v1/assistants", body("model", "gpt-4o", "metadata", List.of()), "metadata", "an object", "an array");
        assertWrongType("/v1/assistants", body("model", "gpt-4o", "tools", Map.of()), "tools", "an array", "an object");
        assertWrongType("/v1/assistants", body("model", "gpt-4o", "tools", List.of("code_interpreter")), "tools[0]", "an object", "a string");
        assertWrongType("/v1/assistants", body("model", "gpt-4o", "name", true), "name", "a string", "a boolean");
        assertWrongType("/v1/assistants", body("model", "gpt-4o", "instructions", 1.5), "instructions", "a string", "a decimal");
        assertWrongType("/v1/assistants", body("model", "gpt-4o", "tool_resources", "none"), "tool_resources", "an object", "a string");
        assertWrongType("/v1/assistants", body("model", "gpt-4o", "metadata", Map.of("k", 5)), "metadata.k", "a string", "an integer");
        assertWrongType("/v1/assistants", body("model", "gpt-4o", "tools", List.of(Map.of("type", "function",
                "function", Map.of("name", "f", "parameters", "{}")))), "tools[0].function.parameters", "an object", "a string");
        assertWrongType("/v1/assistants", body("model", "gpt-4o", "tool_resources", Map.of("code_interpreter", Map.of("file_ids", List.of(7)))),
                "tool_resources.code_interpreter.file_ids[0]", "a string", "an integer");
    }

    @Test
    void wrongTypesOnModify() {
        assertWrongType("/v1/assistants/" + assistantId, Map.of("temperature", false), "temperature", "a decimal", "a boolean");
        assertWrongType("/v1/threads/" + threadId, Map.of("metadata", "x"), "metadata", "an object", "a string");
        assertWrongType("/v1/threads/" + threadId + "/messages/" + messageId, Map.of("metadata", 1), "metadata", "an object", "an integer");
    }

    @Test
    void wrongTypesOnMessages() {
        String messages = "/v1/threads/" + threadId + "/messages";
        assertWrongType(messages, body("role", "user", "content", 7), "content", "one of a string or array of objects", "an integer");
        assertWrongType(messages, body("role", "user", "content", Map.of("type", "text")), "content", "one of a string or array of objects", "an object");
        assertWrongType(messages, body("role", "user", "content", List.of("hi")), "content[0]", "an object", "a string");
        assertWrongType(messages, body("role", 1, "content", "hi"), "role", "a string", "an integer");
        assertWrongType(messages, body("role", "user", "content", "hi", "attachments", "file-1"), "attachments", "an array", "a string");
        assertWrongType("/v1/threads", Map.of("messages", Map.of()), "messages", "an array", "an object");
        assertWrongType("/v1/threads", Map.of("messages", List.of(body("role", "user", "content", false))),
                "messages[0].content", "one of a string or array of objects", "a boolean");
    }

    // --- missing required fields ------------------------------------------------------------------

    @Test
    void missingRequiredFields() {
        assertMissing("/v1/assistants", Map.of("name", "no model"), "model");
        assertMissing("/v1/assistants", "", "model");
        assertMissing("/v1/assistants", body("model", null), "model");
        assertMissing("/v1/assistants/" + assistantId, body("model", null), "model");
        assertMissing("/v1/assistants", body("model", "gpt-4o", "tools", List.of(Map.of())), "tools[0].type");
        assertMissing("/v1/assistants", body("model", "gpt-4o", "tools", List.of(Map.of("type", "function"))), "tools[0].function");
        assertMissing("/v1/assistants", body("model", "gpt-4o", "tools", List.of(Map.of("type", "function", "function", Map.of()))),
                "tools[0].function.name");
        assertMissing("/v1/assistants", body("model", "gpt-4o", "response_format", Map.of("type", "json_schema")), "response_format.json_schema");

        String messages = "/v1/threads/" + threadId + "/messages";
        assertMissing(messages, Map.of("content", "hi"), "role");
        assertMissing(messages, Map.of("role", "user"), "content");
        assertMissing(messages, "{}", "role");
        assertMissing(messages, body("role", "user", "content", List.of(Map.of("type", "text"))), "content[0].text");
        assertMissing(messages, body("role", "user", "content", "hi", "attachments", List.of(Map.of("tools", List.of()))),
                "attachments[0].file_id");
        assertMissing("/v1/threads", Map.of("messages", List.of(Map.of("content", "hi"))), "messages[0].role");
    }

    // --- unknown fields ---------------------------------------------------------------------------

    @Test
    void unknownTopLevelFields() {
        assertUnknown("/v1/assistants", body("model", "gpt-4o", "file_ids", List.of("file-abc")), "file_ids");
        assertUnknown("/v1/assistants/" + assistantId, Map.of("file_ids", List.of()), "file_ids");
        assertUnknown("/v1/threads", Map.of("assistant_id", assistantId), "assistant_id");
        assertUnknown("/v1/threads/" + threadId, Map.of("messages", List.of()), "messages");
        assertUnknown("/v1/threads/" + threadId + "/messages", body("role", "user", "content", "hi", "file_ids", List.of()), "file_ids");
        assertUnknown("/v1/threads/" + threadId + "/messages/" + messageId, Map.of("content", "changed"), "content");
    }

    @Test
    void unknownNestedFields() {
        assertUnknown("/v1/assistants", body("model", "gpt-4o", "tools", List.of(Map.of("type", "function",
                "function", Map.of("name", "f", "foo", 1)))), "tools[0].function.foo");
        assertUnknown("/v1/assistants", body("model", "gpt-4o", "tools", List.of(Map.of("type", "code_interpreter"),
                Map.of("type", "code_interpreter", "function", Map.of("name", "f")))), "tools[1].function");
        assertUnknown("/v1/assistants", body("model", "gpt-4o", "tool_resources", Map.of("code_interpreter",
                Map.of("vector_store_ids", List.of()))), "tool_resources.code_interpreter.vector_store_ids");
        assertUnknown("/v1/assistants", body("model", "gpt-4o", "response_format", Map.of("type", "text", "strict", true)),
                "response_format.strict");
        assertUnknown("/v1/threads", Map.of("messages", List.of(body("role", "user", "content", "hi", "run_id", "run_1"))),
                "messages[0].run_id");
        assertUnknown("/v1/threads/" + threadId + "/messages", body("role", "user", "content",
                List.of(Map.of("type", "text", "text", "hi", "image_url", Map.of("url", "https://example.com/a.png")))), "content[0].image_url");
    }

    // --- values out of range ------------------------------------------------------------------------

    @Test
    void inlineVectorStoresAndAttachments() {
        String prefix = "tool_resources.file_search.";
        Map<String, Object> store = Map.of("file_ids", List.of());
        Object both = Map.of("tool_resources", Map.of("file_search", Map.of("vector_store_ids", List.of("vs_abc"), "vector_stores", List.of(store))));
        for (String path : List.of("/v1/assistants", "/v1/assistants/" + assistantId, "/v1/threads", "/v1/threads/" + threadId)) {
            Object body = path.equals("/v1/assistants") ? withModel(both) : both;
            assertError(post(path, body), 400, prefix + "vector_stores", "invalid_value", "Invalid '" + prefix + "vector_stores': "
                    + "'vector_store_ids' and 'vector_stores' cannot both be given; there can be a maximum of 1 vector store.");
        }
        Object two = Map.of("tool_resources", Map.of("file_search", Map.of("vector_stores", List.of(store, store))));
        assertError(post("/v1/threads", two), 400, prefix + "vector_stores", "array_above_max_length", "Invalid '" + prefix
                + "vector_stores': array too long. Expected an array with maximum length 1, but got an array with length 2 instead.");
        assertUnknown("/v1/threads", Map.of("tool_resources", Map.of("file_search", Map.of("vector_stores", List.of(Map.of("name", "x"))))),
                prefix + "vector_stores[0].name");
        assertWrongType("/v1/threads", Map.of("tool_resources", Map.of("file_search", Map.of("vector_stores", List.of(Map.of("file_ids", "file-a"))))),
                prefix + "vector_stores[0].file_ids", "an array", "a string");
        Map<String, Object> chunking = Map.of("type", "static", "static", Map.of("max_chunk_size_tokens", 99, "chunk_overlap_tokens", 0));
        Object badChunking = Map.of("tool_resources", Map.of("file_search", Map.of("vector_stores", List.of(Map.of("chunking_strategy", chunking)))));
        assertError(post("/v1/assistants", withModel(badChunking)), 400, prefix + "vector_stores[0].chunking_strategy.static.max_chunk_size_tokens",
                "integer_below_min_value", null);
        // a run's own tool_resources only name stores
        assertUnknown("/v1/threads/runs", Map.of("assistant_id", assistantId, "tool_resources", Map.of("file_search",
                Map.of("vector_stores", List.of(store)))), prefix + "vector_stores");
        // a file of a type file_search cannot read, attached for it
        String csv = api.uploadFile("assistants", "table.csv", "a,b\n1,2\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertError(post("/v1/threads/" + threadId + "/messages", body("role", "user", "content", "hi", "attachments",
                List.of(Map.of("file_id", csv, "tools", List.of(Map.of("type", "file_search")))))), 400, "attachments", "unsupported_file",
                "Files with extensions [.csv] are not supported for retrieval. See https://platform.openai.com/docs/assistants/tools/file-search/supported-files");
    }

    private static Map<String, Object> withModel(Object body) {
        Map<String, Object> out = new java.util.LinkedHashMap<>(Map.of("model", "gpt-4o"));
        @SuppressWarnings("unchecked") Map<String, Object> rest = (Map<String, Object>) body;
        out.putAll(rest);
        return out;
    }

    @Test
    void numbersOutOfRange() {
        assertError(api.post("/v1/assistants", body("model", "gpt-4o", "temperature", 2.5)), 400, "temperature", "decimal_above_max_value",
                "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 2.5 instead.");
        assertError(api.post("/v1/assistants", body("model", "gpt-4o", "top_p", -0.1)), 400, "top_p", "decimal_below_min_value",
                "Invalid 'top_p': decimal below minimum value. Expected a value >= 0, but got -0.1 instead.");
        assertError(api.post("/v1/assistants/" + assistantId, body("top_p", 1.01)), 400, "top_p", "decimal_above_max_value",
                "Invalid 'top_p': decimal above maximum value. Expected a value <= 1, but got 1.01 instead.");
        assertError(api.post("/v1/assistants", body("model", "gpt-4o", "tools", List.of(Map.of("type", "file_search",
                        "file_search", Map.of("max_num_results", 51))))), 400, "tools[0].file_search.max_num_results", "integer_above_max_value",
                "Invalid 'tools[0].file_search.max_num_results': integer above maximum value. Expected a value <= 50, but got 51 instead.");
        assertError(api.post("/v1/assistants", "{\"model\":\"gpt-4o\",\"tools\":[{\"type\":\"file_search\",\"file_search\":"
                        + "{\"max_num_results\":-99999999999999999999}}]}"), 400, "tools[0].file_search.max_num_results", "integer_below_min_value",
                null);
        // The edges themselves are accepted.
        JsonNode edges = api.post("/v1/assistants", body("model", "gpt-4o", "temperature", 2, "top_p", 0)).ok();
        assertThat(edges.get("temperature").asDouble()).isEqualTo(2.0);
        assertThat(edges.get("top_p").asDouble()).isEqualTo(0.0);
    }

    @Test
    void listLimitOutOfRange() {
        for (String path : List.of("/v1/assistants", "/v1/threads/" + threadId + "/messages")) {
            assertError(api.get(path + "?limit=0"), 400, "limit", "integer_below_min_value",
                    "Invalid 'limit': integer below minimum value. Expected a value >= 1, but got 0 instead.");
            assertError(api.get(path + "?limit=101"), 400, "limit", "integer_above_max_value",
                    "Invalid 'limit': integer above maximum value. Expected a value <= 100, but got 101 instead.");
            assertError(api.get(path + "?limit=ten"), 400, "limit", "invalid_type", null);
            assertError(api.get(path + "?order=up"), 400, "order", "invalid_value", null);
            assertThat(api.get(path + "?limit=100").ok().get("object").asText()).isEqualTo("list");
            assertThat(api.get(path + "?limit=1").ok().get("data").size()).isEqualTo(1);
        }
    }

    // --- length limits ------------------------------------------------------------------------------

    @Test
    void stringLengthLimits() {
        assertTooLong("/v1/assistants", body("model", "gpt-4o", "name", "n".repeat(257)), "name", 256, 257);
        assertTooLong("/v1/assistants", body("model", "gpt-4o", "description", "d".repeat(513)), "description", 512, 513);
        assertTooLong("/v1/assistants", body("model", "gpt-4o", "instructions", "i".repeat(256_001)), "instructions", 256_000, 256_001);
        assertTooLong("/v1/assistants/" + assistantId, body("name", "n".repeat(257)), "name", 256, 257);
        assertTooLong("/v1/threads/" + threadId + "/messages", body("role", "user", "content", "c".repeat(256_001)), "content", 256_000, 256_001);
        // At the limit they are accepted.
        JsonNode ok = api.post("/v1/assistants", body("model", "gpt-4o", "name", "n".repeat(256), "description", "d".repeat(512),
                "instructions", "i".repeat(256_000))).ok();
        assertThat(ok.get("name").asText()).hasSize(256);
        assertThat(ok.get("instructions").asText()).hasSize(256_000);
    }

    @Test
    void metadataLimits() {
        String key65 = "k".repeat(65);
        for (String path : List.of("/v1/assistants", "/v1/threads", "/v1/threads/" + threadId, "/v1/threads/" + threadId + "/messages/" + messageId)) {
            Map<String, Object> base = path.equals("/v1/assistants") ? body("model", "gpt-4o") : body();
            assertError(api.post(path, with(base, "metadata", Map.of(key65, "v"))), 400, "metadata", "string_above_max_length",
                    "Invalid 'metadata': metadata key '" + key65 + "' is too long. Expected a key with maximum length 64, but got a key with length 65 instead.");
            assertTooLong(path, with(base, "metadata", Map.of("k", "v".repeat(513))), "metadata.k", 512, 513);
            Map<String, String> pairs = new LinkedHashMap<>();
            for (int i = 0; i < 17; i++) {
                pairs.put("key" + i, "value");
            }
            assertError(api.post(path, with(base, "metadata", pairs)), 400, "metadata", "object_above_max_properties",
                    "Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got an object with 17 properties instead.");
            pairs.remove("key16");
            pairs.put("k".repeat(64), "v".repeat(512));
            pairs.remove("key0");
            assertThat(api.post(path, with(base, "metadata", pairs)).ok().get("metadata").size()).isEqualTo(16);
        }
    }

    @Test
    void tooManyTools() {
        List<Map<String, String>> tools = java.util.Collections.nCopies(129, Map.of("type", "code_interpreter"));
        assertError(api.post("/v1/assistants", body("model", "gpt-4o", "tools", tools)), 400, "tools", "array_above_max_length",
                "Invalid 'tools': array too long. Expected an array with maximum length 128, but got an array with length 129 instead.");
        assertError(api.post("/v1/assistants/" + assistantId, body("tools", tools)), 400, "tools", "array_above_max_length",
                "Invalid 'tools': array too long. Expected an array with maximum length 128, but got an array with length 129 instead.");
        assertThat(api.post("/v1/assistants", body("model", "gpt-4o", "tools", tools.subList(0, 128))).ok().get("tools").size()).isEqualTo(128);
    }

    @Test
    void badFunctionNames() {
        for (String name : List.of("get weather", "f".repeat(65), "", "caf\u00e9", "a.b")) {
            assertError(api.post("/v1/assistants", body("model", "gpt-4o", "tools", List.of(Map.of("type", "code_interpreter"),
                            Map.of("type", "function", "function", Map.of("name", name))))), 400, "tools[1].function.name", "invalid_value",
                    "Invalid 'tools[1].function.name': " + FUNCTION_NAME_PATTERN);
        }
        JsonNode ok = api.post("/v1/assistants", body("model", "gpt-4o", "tools", List.of(Map.of("type", "function",
                "function", Map.of("name", "f".repeat(64)))))).ok();
        assertThat(ok.at("/tools/0/function/name").asText()).hasSize(64);
    }

    @Test
    void badResponseFormat() {
        assertError(api.post("/v1/assistants", body("model", "gpt-4o", "response_format", Map.of("type", "xml"))), 400,
                "response_format.type", "invalid_value", "Invalid value: 'xml'. Supported values are: 'text', 'json_object', 'json_schema'.");
        assertError(api.post("/v1/assistants", body("model", "gpt-4o", "response_format", "json")), 400,
                "response_format", "invalid_value", "Invalid value: 'json'. Supported values are: 'auto'.");
        assertWrongType("/v1/assistants", body("model", "gpt-4o", "response_format", Map.of("type", 3)), "response_format.type", "a string", "an integer");
        assertError(api.post("/v1/assistants", body("model", "gpt-4o", "response_format", Map.of("type", "json_schema",
                        "json_schema", Map.of("name", "bad name")))), 400, "response_format.json_schema.name", "invalid_value",
                "Invalid 'response_format.json_schema.name': " + FUNCTION_NAME_PATTERN);
        assertError(api.post("/v1/assistants", body("model", "gpt-4o", "reasoning_effort", "extreme")), 400, "reasoning_effort", "invalid_value", null);
    }

    @Test
    void nullOptionalMembersReadAsAbsent() {
        Map<String, Object> jsonSchema = new LinkedHashMap<>(body("name", "answer", "description", null, "schema", null, "strict", null));
        JsonNode ok = api.post("/v1/assistants", body("model", "gpt-4o", "name", null, "response_format",
                body("type", "json_schema", "json_schema", jsonSchema))).ok();
        assertThat(ok.get("name").isNull()).isTrue();
        assertThat(ok.at("/response_format/json_schema/name").asText()).isEqualTo("answer");
        assertThat(ok.at("/response_format/json_schema").has("description")).isFalse();
        assertThat(ok.at("/response_format/json_schema").has("schema")).isFalse();
        String id = ok.get("id").asText();
        assertThat(api.get("/v1/assistants/" + id).ok().at("/response_format/json_schema").has("schema")).isFalse();
    }

    // --- ids in paths ---------------------------------------------------------------------------------

    @Test
    void wrongIdPrefixes() {
        String thread = "Invalid 'thread_id': 'abc'. Expected an ID that begins with 'thread'.";
        assertError(api.get("/v1/threads/abc"), 400, "thread_id", "invalid_value", thread);
        assertError(api.post("/v1/threads/abc", Map.of()), 400, "thread_id", "invalid_value", thread);
        assertError(api.delete("/v1/threads/abc"), 400, "thread_id", "invalid_value", thread);
        assertError(api.get("/v1/threads/abc/messages"), 400, "thread_id", "invalid_value", thread);
        assertError(api.post("/v1/threads/abc/messages", Map.of("role", "user", "content", "hi")), 400, "thread_id", "invalid_value", thread);
        assertError(api.get("/v1/threads/" + assistantId), 400, "thread_id", "invalid_value",
                "Invalid 'thread_id': '" + assistantId + "'. Expected an ID that begins with 'thread'.");
        assertError(api.get("/v1/threads/thread_"), 400, "thread_id", "invalid_value",
                "Invalid 'thread_id': 'thread_'. Expected an ID that begins with 'thread'.");

        String asst = "Invalid 'assistant_id': 'abc'. Expected an ID that begins with 'asst'.";
        assertError(api.get("/v1/assistants/abc"), 400, "assistant_id", "invalid_value", asst);
        assertError(api.post("/v1/assistants/abc", Map.of("name", "x")), 400, "assistant_id", "invalid_value", asst);
        assertError(api.delete("/v1/assistants/abc"), 400, "assistant_id", "invalid_value", asst);

        String msg = "Invalid 'message_id': 'abc'. Expected an ID that begins with 'msg'.";
        assertError(api.get("/v1/threads/" + threadId + "/messages/abc"), 400, "message_id", "invalid_value", msg);
        assertError(api.post("/v1/threads/" + threadId + "/messages/abc", Map.of()), 400, "message_id", "invalid_value", msg);
        assertError(api.delete("/v1/threads/" + threadId + "/messages/abc"), 400, "message_id", "invalid_value", msg);
        assertError(api.get("/v1/threads/" + threadId + "/messages?run_id=abc"), 400, "run_id", "invalid_value",
                "Invalid 'run_id': 'abc'. Expected an ID that begins with 'run'.");
    }

    @Test
    void wrongIdPrefixesInBodies() {
        assertError(api.post("/v1/assistants", body("model", "gpt-4o", "tool_resources", Map.of("file_search",
                        Map.of("vector_store_ids", List.of("store-1"))))), 400, "tool_resources.file_search.vector_store_ids[0]", "invalid_value",
                "Invalid 'tool_resources.file_search.vector_store_ids[0]': 'store-1'. Expected an ID that begins with 'vs'.");
        assertError(api.post("/v1/threads/" + threadId + "/messages", body("role", "user", "content", "hi",
                        "attachments", List.of(Map.of("file_id", "file_1")))), 400, "attachments[0].file_id", "invalid_value",
                "Invalid 'attachments[0].file_id': 'file_1'. Expected an ID that begins with 'file'.");
    }

    @Test
    void unknownIds() {
        assertError(api.get("/v1/assistants/asst_doesnotexist"), 404, null, null, "No assistant found with id 'asst_doesnotexist'.");
        assertError(api.post("/v1/assistants/asst_doesnotexist", Map.of("name", "x")), 404, null, null, "No assistant found with id 'asst_doesnotexist'.");
        assertError(api.delete("/v1/assistants/asst_doesnotexist"), 404, null, null, "No assistant found with id 'asst_doesnotexist'.");
        assertError(api.get("/v1/threads/thread_doesnotexist"), 404, null, null, "No thread found with id 'thread_doesnotexist'.");
        assertError(api.post("/v1/threads/thread_doesnotexist", Map.of()), 404, null, null, "No thread found with id 'thread_doesnotexist'.");
        assertError(api.delete("/v1/threads/thread_doesnotexist"), 404, null, null, "No thread found with id 'thread_doesnotexist'.");
        assertError(api.post("/v1/threads/thread_doesnotexist/messages", Map.of("role", "user", "content", "hi")), 404, null, null,
                "No thread found with id 'thread_doesnotexist'.");
        assertError(api.get("/v1/threads/thread_doesnotexist/messages"), 404, null, null, "No thread found with id 'thread_doesnotexist'.");
        String message = "/v1/threads/" + threadId + "/messages/msg_doesnotexist";
        assertError(api.get(message), 404, null, null, "No message found with id 'msg_doesnotexist'.");
        assertError(api.post(message, Map.of()), 404, null, null, "No message found with id 'msg_doesnotexist'.");
        assertError(api.delete(message), 404, null, null, "No message found with id 'msg_doesnotexist'.");
        // A message is only found under its own thread.
        String otherThread = api.post("/v1/threads", Map.of()).ok().get("id").asText();
        assertError(api.get("/v1/threads/" + otherThread + "/messages/" + messageId), 404, null, null,
                "No message found with id '" + messageId + "'.");
    }

    // --- routes and methods ---------------------------------------------------------------------------

    @Test
    void unknownRouteIsJson404() {
        assertError(api.get("/v1/nothing"), 404, null, null, "Invalid URL (GET /v1/nothing)");
        assertError(api.post("/v1/assistants/" + assistantId + "/files", Map.of()), 404, null, null,
                "Invalid URL (POST /v1/assistants/" + assistantId + "/files)");
        assertError(api.get("/nothing"), 404, null, null, "Invalid URL (GET /nothing)");
    }

    @Test
    void wrongMethodIsJson405() {
        assertError(api.send("PUT", "/v1/assistants", "{}"), 405, null, null, "Invalid method for URL (PUT /v1/assistants)");
        assertError(api.send("PATCH", "/v1/assistants/" + assistantId, "{}"), 405, null, null,
                "Invalid method for URL (PATCH /v1/assistants/" + assistantId + ")");
        assertError(api.send("PUT", "/v1/threads/" + threadId + "/messages", "{}"), 405, null, null,
                "Invalid method for URL (PUT /v1/threads/" + threadId + "/messages)");
        assertError(api.delete("/v1/assistants"), 405, null, null, "Invalid method for URL (DELETE /v1/assistants)");
    }

    // --- body size, empty bodies, headers --------------------------------------------------------------

    @Test
    void oversizedBodyIs413() {
        try (TestServer small = TestServer.start(TestServer.Storage.SQLITE, Map.of("SPINDLE_MAX_BODY_BYTES", "2048"))) {
            Api smallApi = small.api();
            String big = "{\"model\":\"gpt-4o\",\"instructions\":\"" + "x".repeat(10_000) + "\"}";
            String tooLarge = "Request body too large. Reduce the size of the request body and try again.";

            assertError(smallApi.post("/v1/assistants", big), 413, null, null, tooLarge);

            HttpRequest chunked = HttpRequest.newBuilder(URI.create(smallApi.baseUrl() + "/v1/assistants"))
                    .timeout(Duration.ofSeconds(30))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big.getBytes(StandardCharsets.UTF_8))))
                    .build();
            assertError(smallApi.send(chunked), 413, null, null, tooLarge);

            // The server still works afterwards, and a body under the limit is accepted, chunked or not.
            String fits = "{\"model\":\"gpt-4o\",\"instructions\":\"" + "x".repeat(1_500) + "\"}";
            assertThat(smallApi.post("/v1/assistants", fits).ok().get("instructions").asText()).hasSize(1_500);
            HttpRequest fitsChunked = HttpRequest.newBuilder(URI.create(smallApi.baseUrl() + "/v1/assistants"))
                    .timeout(Duration.ofSeconds(30))
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(fits.getBytes(StandardCharsets.UTF_8))))
                    .build();
            assertThat(smallApi.send(fitsChunked).ok().get("instructions").asText()).hasSize(1_500);
        }
    }

    @Test
    void emptyBodyCreatesAThread() {
        JsonNode noBody = api.send("POST", "/v1/threads", null).ok();
        assertThat(noBody.get("object").asText()).isEqualTo("thread");
        assertThat(noBody.get("metadata").size()).isZero();
        assertThat(api.post("/v1/threads", "").ok().get("object").asText()).isEqualTo("thread");
        assertThat(api.post("/v1/threads", " \n").ok().get("object").asText()).isEqualTo("thread");
        assertThat(api.post("/v1/threads", "null").ok().get("object").asText()).isEqualTo("thread");
        assertThat(api.post("/v1/threads", "{}").ok().get("id").asText()).startsWith("thread_");
    }

    @Test
    void openAiBetaHeaderIsOptional() {
        HttpRequest create = HttpRequest.newBuilder(URI.create(api.baseUrl() + "/v1/assistants"))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"gpt-4o\",\"name\":\"no beta\"}"))
                .build();
        HttpRequest read = HttpRequest.newBuilder(URI.create(api.baseUrl() + "/v1/threads/" + threadId)).GET().build();
        assertThat(api.send(create).ok().get("name").asText()).isEqualTo("no beta");
        assertThat(api.send(read).ok().get("id").asText()).isEqualTo(threadId);
    }

    // --- helpers ----------------------------------------------------------------------------------------

    private static Map<String, Object> body(Object... keysAndValues) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return map;
    }

    private static Map<String, Object> with(Map<String, Object> base, String key, Object value) {
        Map<String, Object> map = new LinkedHashMap<>(base);
        map.put(key, value);
        return map;
    }

    private static Api.Response postBytes(String path, byte[] bytes) {
        return api.send(HttpRequest.newBuilder(URI.create(api.baseUrl() + path))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(bytes))
                .build());
    }

    private static void assertWrongType(String path, Object body, String param, String expected, String got) {
        assertError(post(path, body), 400, param, "invalid_type",
                "Invalid type for '" + param + "': expected " + expected + ", but got " + got + " instead.");
    }

    private static void assertMissing(String path, Object body, String param) {
        assertError(post(path, body), 400, param, "missing_required_parameter", "Missing required parameter: '" + param + "'.");
    }

    private static void assertUnknown(String path, Object body, String param) {
        assertError(post(path, body), 400, param, "unknown_parameter", "Unknown parameter: '" + param + "'.");
    }

    private static void assertTooLong(String path, Object body, String param, int max, int actual) {
        assertError(post(path, body), 400, param, "string_above_max_length", "Invalid '" + param
                + "': string too long. Expected a string with maximum length " + max + ", but got a string with length " + actual + " instead.");
    }

    private static Api.Response post(String path, Object body) {
        return body instanceof String s ? api.post(path, s) : api.post(path, body);
    }

    /** Checks status and every field of the error; {@code message} null means "any non-empty text". */
    static void assertError(Api.Response response, int status, String param, String code, String message) {
        JsonNode error = response.error(status);
        assertThat(error).as("error object in %s", response.body()).isNotNull();
        assertThat(error.path("type").asText()).as("type in %s", response.body()).isEqualTo("invalid_request_error");
        assertThat(textOrNull(error.get("param"))).as("param in %s", response.body()).isEqualTo(param);
        assertThat(textOrNull(error.get("code"))).as("code in %s", response.body()).isEqualTo(code);
        if (message == null) {
            assertThat(error.path("message").asText()).as("message in %s", response.body()).isNotBlank();
        } else {
            assertThat(error.path("message").asText()).as("message").isEqualTo(message);
        }
    }

    private static String textOrNull(JsonNode node) {
        return node == null || node.isNull() ? null : node.asText();
    }
}
