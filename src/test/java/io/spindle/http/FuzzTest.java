package io.spindle.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamWriteConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BigIntegerNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.ContainerNode;
import com.fasterxml.jackson.databind.node.DecimalNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.spindle.testing.Api;
import io.spindle.testing.TestServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Seeded fuzzing of every create and modify endpoint: valid bodies are mutated (keys dropped and
 * added, values swapped for other JSON types, deep nesting (around the 64 levels free-form JSON may
 * take, and past the parser's 1,000), long strings and arrays, NULs in ids, truncated text, random
 * bytes, invalid UTF-8) and the server must answer each with a valid object or a well-formed 400,
 * never a 5xx; afterwards every list holding what was accepted still answers. Each case has its own {@link Random} derived from {@link #SEED}, the endpoint and the
 * case number, so a failure names everything needed to regenerate the exact body.
 */
class FuzzTest {
    static final long SEED = 20_260_808L;
    static final int CASES_PER_ENDPOINT = 1_000;

    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** Parses like the server: strict about trailing text, same Jackson limits (UTF-8 is checked first, see {@link #parse}). */
    private static final ObjectReader STRICT = MAPPER.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    /** Byte sequences that are not UTF-8: overlong forms, a surrogate, past U+10FFFF, a stray continuation, a cut-off sequence. */
    private static final byte[][] INVALID_UTF8 = {
            {(byte) 0xC0, (byte) 0xAF}, {(byte) 0xE0, (byte) 0x80, (byte) 0xAF}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
            {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, {(byte) 0x80}, {(byte) 0xE2, (byte) 0x82}};
    private static final List<String> ID_PREFIXES = List.of("asst_", "thread_", "msg_", "run_", "file-", "vs_");
    /** Writes the mutated trees, including nesting deeper than the server's parser accepts. */
    private static final ObjectMapper WRITER = new ObjectMapper(JsonFactory.builder()
            .streamWriteConstraints(StreamWriteConstraints.builder().maxNestingDepth(10_000).build()).build());
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final String PARSE_ERROR_START = "We could not parse the JSON body of your request.";

    enum Endpoint {
        CREATE_ASSISTANT("assistant", "asst_"),
        MODIFY_ASSISTANT("assistant", "asst_"),
        CREATE_THREAD("thread", "thread_"),
        MODIFY_THREAD("thread", "thread_"),
        CREATE_MESSAGE("thread.message", "msg_"),
        MODIFY_MESSAGE("thread.message", "msg_"),
        CREATE_THREAD_AND_RUN("thread.run", "run_"),
        CREATE_VECTOR_STORE("vector_store", "vs_"),
        MODIFY_VECTOR_STORE("vector_store", "vs_");

        final String object;
        final String idPrefix;

        Endpoint(String object, String idPrefix) {
            this.object = object;
            this.idPrefix = idPrefix;
        }
    }

    private static final String FULL_ASSISTANT = """
            {"model":"gpt-4o","name":"Fuzz","description":"A fuzzed assistant","instructions":"Be brief.",
             "tools":[{"type":"code_interpreter"},
                      {"type":"file_search","file_search":{"max_num_results":5,"ranking_options":{"ranker":"auto","score_threshold":0.5}}},
                      {"type":"function","function":{"name":"get_weather","description":"Weather for a city",
                        "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]},"strict":false}}],
             "tool_resources":{"code_interpreter":{"file_ids":["file-abc123"]},"file_search":{"vector_store_ids":["vs_abc123"]}},
             "metadata":{"team":"fuzz","n":"1"},"temperature":0.7,"top_p":0.9,"reasoning_effort":"low",
             "response_format":{"type":"json_schema","json_schema":{"name":"answer","description":"d","schema":{"type":"object"},"strict":true}}}""";
    private static final String USER_MESSAGE = """
            {"role":"user","content":"Hello there",
             "attachments":[{"file_id":"file-abc123","tools":[{"type":"file_search"},{"type":"code_interpreter"}]}],
             "metadata":{"k":"v"}}""";
    /** Stands for an image uploaded before the cases run (image_file parts must name one); replaced before sending. */
    private static final String IMAGE_PLACEHOLDER = "file-FUZZIMAGEPLACEHOLDER0";
    private static final String PARTS_MESSAGE = """
            {"role":"assistant","content":[{"type":"text","text":"Hi"},
              {"type":"image_url","image_url":{"url":"https://example.com/cat.png","detail":"low"}},
              {"type":"image_file","image_file":{"file_id":"%s","detail":"high"}}]}""".formatted(IMAGE_PLACEHOLDER);
    private static final String TOOL_RESOURCES = """
            {"code_interpreter":{"file_ids":["file-a","file-b"]},"file_search":{"vector_store_ids":["vs_1"]}}""";

    /** Stands for the assistant created before the cases run; replaced in each body before sending. */
    private static final String ASSISTANT_PLACEHOLDER = "asst_FUZZASSISTANTPLACEHOLDER";
    private static final String FULL_THREAD_AND_RUN = """
            {"assistant_id":"%s","thread":{"messages":[%s],"metadata":{"t":"1"}},
             "model":"gpt-4o-mini","instructions":"Answer briefly.",
             "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}},{"type":"file_search"}],
             "tool_resources":{"code_interpreter":{"file_ids":["file-abc123"]}},"metadata":{"run":"fuzz"},
             "temperature":0.5,"top_p":0.9,"max_prompt_tokens":1000,"max_completion_tokens":500,
             "truncation_strategy":{"type":"last_messages","last_messages":3},
             "tool_choice":{"type":"function","function":{"name":"get_weather"}},"parallel_tool_calls":false,
             "response_format":{"type":"json_object"},"reasoning_effort":"low"}""".formatted(ASSISTANT_PLACEHOLDER, "%s");

    /** Stands for a file uploaded before the cases run; replaced in each body before sending. */
    private static final String FILE_PLACEHOLDER = "file-FUZZFILEPLACEHOLDER00";
    private static final String FULL_VECTOR_STORE = """
            {"name":"kb","description":"Fuzzed store","file_ids":["%s"],"metadata":{"team":"fuzz"},
             "expires_after":{"anchor":"last_active_at","days":7},
             "chunking_strategy":{"type":"static","static":{"max_chunk_size_tokens":400,"chunk_overlap_tokens":100}}}""".formatted(FILE_PLACEHOLDER);

    private static final Map<Endpoint, List<String>> BASES = Map.of(
            Endpoint.CREATE_ASSISTANT, List.of(FULL_ASSISTANT, "{\"model\":\"gpt-4o\"}",
                    "{\"model\":\"gpt-4o-mini\",\"response_format\":\"auto\",\"tools\":[],\"metadata\":{}}"),
            Endpoint.MODIFY_ASSISTANT, List.of(FULL_ASSISTANT, "{\"name\":\"renamed\"}",
                    "{\"instructions\":null,\"response_format\":{\"type\":\"json_object\"},\"temperature\":null}"),
            Endpoint.CREATE_THREAD, List.of("{\"messages\":[" + USER_MESSAGE + "," + PARTS_MESSAGE + "],\"tool_resources\":"
                    + TOOL_RESOURCES + ",\"metadata\":{\"a\":\"b\"}}", "{}", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"),
            Endpoint.MODIFY_THREAD, List.of("{\"tool_resources\":" + TOOL_RESOURCES + ",\"metadata\":{\"a\":\"b\",\"c\":\"\"}}",
                    "{\"metadata\":{}}", "{\"tool_resources\":{}}"),
            Endpoint.CREATE_MESSAGE, List.of(USER_MESSAGE, PARTS_MESSAGE, "{\"role\":\"user\",\"content\":\"x\"}"),
            Endpoint.MODIFY_MESSAGE, List.of("{\"metadata\":{\"a\":\"b\",\"c\":\"\"}}", "{\"metadata\":null}", "{}"),
            Endpoint.CREATE_THREAD_AND_RUN, List.of(FULL_THREAD_AND_RUN.formatted(USER_MESSAGE),
                    "{\"assistant_id\":\"" + ASSISTANT_PLACEHOLDER + "\"}",
                    "{\"assistant_id\":\"" + ASSISTANT_PLACEHOLDER + "\",\"tool_choice\":\"none\",\"truncation_strategy\":{\"type\":\"auto\"}}"),
            Endpoint.CREATE_VECTOR_STORE, List.of(FULL_VECTOR_STORE, "{}", "{\"name\":null,\"chunking_strategy\":{\"type\":\"auto\"}}"),
            Endpoint.MODIFY_VECTOR_STORE, List.of("{\"name\":\"renamed\",\"metadata\":{\"a\":\"b\"},"
                    + "\"expires_after\":{\"anchor\":\"last_active_at\",\"days\":1}}", "{\"expires_after\":null}", "{}"));

    /** Words that are meaningful somewhere in these bodies, so added keys and values sometimes land well. */
    private static final List<String> WORDS = List.of("model", "name", "description", "instructions", "tools", "tool_resources",
            "metadata", "temperature", "top_p", "reasoning_effort", "response_format", "type", "function", "file_search",
            "code_interpreter", "parameters", "strict", "max_num_results", "ranking_options", "ranker", "score_threshold",
            "file_ids", "vector_store_ids", "vector_stores", "json_schema", "schema", "messages", "role", "content", "attachments",
            "text", "image_url", "image_file", "url", "detail", "file_id", "user", "assistant", "auto", "low", "high", "json_object",
            "gpt-4o", "file-abc", "vs_abc", "file_ids", "chunking_strategy", "static", "max_chunk_size_tokens",
            "chunk_overlap_tokens", "expires_after", "anchor", "last_active_at", "days", "asst_abc", "thread_abc", "msg_abc", "run_abc", "default_2024_08_21", "none", "xhigh");
    private static final List<String> ODD_STRINGS = List.of("", " ", "\u0000", "caf\u00e9", "\u65e5\u672c\u8a9e", "\ud83d\ude00\ud83c\udf89",
            "\u202eevil", "\ud800", "\udfff", "a\nb\tc\r", "'\"\\", "<script>alert(1)</script>", "' OR 1=1 --", "%s%n", "\u00ad\u200b",
            "data:image/png;base64,AAAA", "http://", "https://example.com/x.gif", "file-", "vs_", "asst_", "thread_", "msg_");
    private static final int[] LENGTHS = {64, 65, 256, 257, 512, 513, 1024, 1025, 256_000, 256_001};
    private static final int[] ARRAY_SIZES = {2, 17, 21, 101, 129, 1_001};

    private static TestServer server;
    private static Api api;
    private static String assistantId;
    private static String threadId;
    private static String messageId;
    private static String fileId;
    private static String imageId;
    private static String vectorStoreId;

    @BeforeAll
    static void start() {
        // An API-only node: the fuzzed runs and vector store files are stored and answered, never executed or ingested.
        server = TestServer.start(TestServer.Storage.SQLITE, Map.of("SPINDLE_MAX_CONCURRENT_RUNS", "0", "SPINDLE_MAX_CONCURRENT_INGESTIONS", "0"));
        api = server.api();
        assistantId = api.post("/v1/assistants", Map.of("model", "gpt-4o")).ok().get("id").asText();
        threadId = api.post("/v1/threads", Map.of()).ok().get("id").asText();
        messageId = api.post("/v1/threads/" + threadId + "/messages", Map.of("role", "user", "content", "hi")).ok().get("id").asText();
        byte[] form = new io.spindle.testing.Multipart().text("purpose", "assistants").file("file", "notes.txt", "fuzz".getBytes()).end();
        fileId = api.send(io.spindle.testing.Multipart.post(api.baseUrl() + "/v1/files", null, form,
                io.spindle.testing.Multipart.CONTENT_TYPE)).ok().get("id").asText();
        imageId = api.uploadFile("vision", "fuzz.png", "fuzz".getBytes());
        vectorStoreId = api.post("/v1/vector_stores", Map.of("name", "fuzzed")).ok().get("id").asText();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static String path(Endpoint endpoint) {
        return switch (endpoint) {
            case CREATE_ASSISTANT -> "/v1/assistants";
            case MODIFY_ASSISTANT -> "/v1/assistants/" + assistantId;
            case CREATE_THREAD -> "/v1/threads";
            case MODIFY_THREAD -> "/v1/threads/" + threadId;
            case CREATE_MESSAGE -> "/v1/threads/" + threadId + "/messages";
            case MODIFY_MESSAGE -> "/v1/threads/" + threadId + "/messages/" + messageId;
            case CREATE_THREAD_AND_RUN -> "/v1/threads/runs";
            case CREATE_VECTOR_STORE -> "/v1/vector_stores";
            case MODIFY_VECTOR_STORE -> "/v1/vector_stores/" + vectorStoreId;
        };
    }

    /** What the server's answers to one endpoint looked like, to show the fuzzer reached all of them. */
    private static final class Tally {
        int ok;
        int parseErrors;
        int notAnObject;
        int validationErrors;
        final List<String> threads = new ArrayList<>();
    }

    @ParameterizedTest
    @EnumSource(Endpoint.class)
    void mutatedBodiesNeverBreakTheServer(Endpoint endpoint) {
        Tally tally = new Tally();
        for (int i = 0; i < CASES_PER_ENDPOINT; i++) {
            byte[] body = new byte[0];
            try {
                body = generate(endpoint, i);
                check(endpoint, body, tally);
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("fuzz failure: seed=" + SEED + " endpoint=" + endpoint + " case=" + i
                        + " (regenerate with FuzzTest.generate(Endpoint." + endpoint + ", " + i + "))\nPOST " + path(endpoint)
                        + "\nbody: " + describe(body) + "\n" + e.getMessage(), e);
            }
        }
        checkListsStillAnswer(tally);
        System.out.printf("FuzzTest %s: %d cases, %d ok, %d parse errors, %d non-object bodies, %d validation errors%n",
                endpoint, CASES_PER_ENDPOINT, tally.ok, tally.parseErrors, tally.notAnObject, tally.validationErrors);
        // The mutations must reach every kind of answer, or the fuzzing proves little.
        assertThat(tally.ok).as("200 answers for %s", endpoint).isGreaterThanOrEqualTo(CASES_PER_ENDPOINT / 20);
        assertThat(tally.validationErrors).as("validation errors for %s", endpoint).isGreaterThanOrEqualTo(CASES_PER_ENDPOINT / 5);
        assertThat(tally.parseErrors).as("parse errors for %s", endpoint).isGreaterThanOrEqualTo(CASES_PER_ENDPOINT / 20);
        assertThat(tally.notAnObject).as("non-object bodies for %s", endpoint).isGreaterThanOrEqualTo(5);
    }

    private static void check(Endpoint endpoint, byte[] generated, Tally tally) {
        byte[] body = new String(generated, java.nio.charset.StandardCharsets.ISO_8859_1)
                .replace(ASSISTANT_PLACEHOLDER, assistantId).replace(FILE_PLACEHOLDER, fileId)
                .replace(IMAGE_PLACEHOLDER, imageId).getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        Api.Response response = api.send(HttpRequest.newBuilder(URI.create(api.baseUrl() + path(endpoint)))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build());
        if (response.status() == 404 && endpoint == Endpoint.CREATE_THREAD_AND_RUN
                && !response.json().path("error").path("message").asText().startsWith("No file found with id")) {
            // a mutated assistant_id that is well-formed names no assistant
            assertThat(response.json().path("error").path("message").asText()).startsWith("No assistant found with id");
            tally.validationErrors++;
            return;
        }
        if (response.status() == 404 && endpoint != Endpoint.MODIFY_MESSAGE && endpoint != Endpoint.MODIFY_VECTOR_STORE) {
            // a file id that is well-formed names no file (files of vector stores, inline stores and file_search attachments)
            assertThat(response.json().path("error").path("message").asText()).startsWith("No file found with id");
            tally.validationErrors++;
            return;
        }
        assertThat(response.status()).as("status (never 5xx; 200 or 400 for a POST to an existing object)").isIn(200, 400);

        JsonNode sent = parse(body);
        if (sent == null) {
            JsonNode error = checkError(response);
            assertThat(error.path("message").asText()).as("message for a body that is not JSON").startsWith(PARSE_ERROR_START);
            assertThat(error.get("param").isNull()).as("param is null for a parse error").isTrue();
            tally.parseErrors++;
            return;
        }
        if (sent.isMissingNode() || sent.isNull()) {
            sent = NODES.objectNode();
        }
        if (!sent.isObject()) {
            JsonNode error = checkError(response);
            assertThat(error.path("code").asText()).isEqualTo("invalid_type");
            assertThat(error.path("message").asText()).startsWith("Invalid body: expected a JSON object");
            tally.notAnObject++;
            return;
        }
        if (response.status() == 400) {
            JsonNode error = checkError(response);
            assertThat(error.get("param").isTextual()).as("a JSON object rejected names its param: %s", response.body()).isTrue();
            assertThat(error.get("code").isTextual()).as("a JSON object rejected has a code: %s", response.body()).isTrue();
            String param = error.get("param").asText();
            String code = error.get("code").asText();
            // model_not_found keeps OpenAI's own text, which names the model asked for rather than the parameter
            if (!code.equals("invalid_value") && !code.equals("model_not_found")) {
                assertThat(error.path("message").asText()).as("message names the param").contains("'" + param + "'");
            }
            tally.validationErrors++;
            return;
        }
        checkObject(endpoint, sent, response.ok());
        if (endpoint == Endpoint.CREATE_THREAD_AND_RUN) {
            tally.threads.add(response.json().get("thread_id").asText());
        }
        tally.ok++;
    }

    /** The body as the server reads it, or null for what it cannot parse: bytes that are not UTF-8, then bad JSON. */
    private static JsonNode parse(byte[] body) {
        try {
            java.nio.charset.StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(body));
            return STRICT.readTree(body);
        } catch (IOException e) {
            return null;
        }
    }

    /** Every list holding what the cases stored still answers (an object stored too deep would break it). */
    private static void checkListsStillAnswer(Tally tally) {
        String after = null;
        do {
            JsonNode page = api.get("/v1/assistants?limit=100" + (after == null ? "" : "&after=" + after)).ok();
            after = page.get("has_more").asBoolean() ? page.get("last_id").asText() : null;
        } while (after != null);
        after = null;
        do {
            JsonNode page = api.get("/v1/vector_stores?limit=100" + (after == null ? "" : "&after=" + after)).ok();
            after = page.get("has_more").asBoolean() ? page.get("last_id").asText() : null;
        } while (after != null);
        for (String thread : tally.threads) {
            api.get("/v1/threads/" + thread + "/runs").ok();
            api.get("/v1/threads/" + thread + "/messages").ok();
        }
    }

    /** Every 4xx: OpenAI's error shape (the schema check already ran in Api), a message, the right type. */
    private static JsonNode checkError(Api.Response response) {
        assertThat(response.status()).as("status for a rejected body").isEqualTo(400);
        JsonNode error = response.json().get("error");
        assertThat(error).as("error object").isNotNull();
        assertThat(error.path("type").asText()).isEqualTo("invalid_request_error");
        assertThat(error.path("message").asText()).isNotBlank().doesNotContain("Exception").doesNotContain("jackson");
        return error;
    }

    /** A 200: the object of the endpoint (schema already checked by Api), echoing what was sent. */
    private static void checkObject(Endpoint endpoint, JsonNode sent, JsonNode object) {
        assertThat(object.path("object").asText()).isEqualTo(endpoint.object);
        assertThat(object.path("id").asText()).startsWith(endpoint.idPrefix);
        switch (endpoint) {
            case MODIFY_ASSISTANT -> assertThat(object.get("id").asText()).isEqualTo(assistantId);
            case MODIFY_THREAD -> assertThat(object.get("id").asText()).isEqualTo(threadId);
            case MODIFY_MESSAGE -> assertThat(object.get("id").asText()).isEqualTo(messageId);
            case MODIFY_VECTOR_STORE -> assertThat(object.get("id").asText()).isEqualTo(vectorStoreId);
            case CREATE_MESSAGE -> assertThat(object.get("thread_id").asText()).isEqualTo(threadId);
            default -> { }
        }
        if (sent.has("metadata")) {
            JsonNode expected = sent.get("metadata").isNull() ? NODES.objectNode() : sent.get("metadata");
            assertThat(object.get("metadata")).as("metadata echo").isEqualTo(expected);
        }
        for (String key : List.of("model", "name", "description", "instructions", "role")) {
            if (sent.hasNonNull(key)) {
                assertThat(object.path(key).asText()).as("%s echo", key).isEqualTo(sent.get(key).asText());
            }
        }
        // a run given "tools": null takes its assistant's, which the MODIFY_ASSISTANT cases changed
        if (sent.has("tools") && !(endpoint == Endpoint.CREATE_THREAD_AND_RUN && sent.get("tools").isNull())) {
            assertThat(object.get("tools").size()).as("tools count").isEqualTo(sent.get("tools").isNull() ? 0 : sent.get("tools").size());
        }
        if (endpoint == Endpoint.CREATE_MESSAGE && sent.path("content").isArray()) {
            assertThat(object.get("content").size()).as("content parts").isEqualTo(sent.get("content").size());
        }
    }

    // --- generating bodies ------------------------------------------------------------------------------

    /** The body of one case: a pure function of the seed, the endpoint and the case number. */
    static byte[] generate(Endpoint endpoint, int caseNumber) {
        Random r = new Random(mix(SEED, endpoint.ordinal(), caseNumber));
        List<String> bases = BASES.get(endpoint);
        JsonNode tree;
        try {
            tree = MAPPER.readTree(bases.get(r.nextInt(bases.size())));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (r.nextInt(25) == 0) {
            tree = randomValue(r, 0);
        } else {
            int mutations = r.nextInt(10) == 0 ? 0 : 1 + r.nextInt(3);
            for (int m = 0; m < mutations; m++) {
                tree = mutate(r, tree);
            }
        }
        byte[] bytes;
        try {
            bytes = WRITER.writeValueAsBytes(tree);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int textual = r.nextInt(100);
        if (textual < 8) {
            bytes = java.util.Arrays.copyOf(bytes, r.nextInt(bytes.length + 1));
        } else if (textual < 16) {
            int at = r.nextInt(bytes.length + 1);
            byte[] noise = new byte[1 + r.nextInt(8)];
            r.nextBytes(noise);
            byte[] out = new byte[bytes.length + noise.length];
            System.arraycopy(bytes, 0, out, 0, at);
            System.arraycopy(noise, 0, out, at, noise.length);
            System.arraycopy(bytes, at, out, at + noise.length, bytes.length - at);
            bytes = out;
        } else if (textual < 20 && bytes.length > 0) {
            String swaps = "{}[]\",:0 \\n";
            bytes[r.nextInt(bytes.length)] = (byte) swaps.charAt(r.nextInt(swaps.length()));
        } else if (textual < 25) {
            bytes = insertInvalidUtf8(r, bytes);
        }
        return bytes;
    }

    /** Not UTF-8, put inside a string when the body has one (where a lenient decoder would let it through). */
    private static byte[] insertInvalidUtf8(Random r, byte[] bytes) {
        List<Integer> quotes = new ArrayList<>();
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == '"') {
                quotes.add(i + 1);
            }
        }
        int at = quotes.isEmpty() || r.nextInt(4) == 0 ? r.nextInt(bytes.length + 1) : quotes.get(r.nextInt(quotes.size()));
        byte[] bad = INVALID_UTF8[r.nextInt(INVALID_UTF8.length)];
        byte[] out = new byte[bytes.length + bad.length];
        System.arraycopy(bytes, 0, out, 0, at);
        System.arraycopy(bad, 0, out, at, bad.length);
        System.arraycopy(bytes, at, out, at + bad.length, bytes.length - at);
        return out;
    }

    private static JsonNode mutate(Random r, JsonNode root) {
        List<Slot> slots = new ArrayList<>();
        collect(root, slots);
        if (slots.isEmpty() || r.nextInt(20) == 0) {
            // the root itself: wrap it or add a key to it
            if (root.isObject() && r.nextBoolean()) {
                ((ObjectNode) root).set(randomKey(r), randomValue(r, 0));
                return root;
            }
            return r.nextBoolean() ? nest(r, root) : randomValue(r, 0);
        }
        Slot slot = slots.get(r.nextInt(slots.size()));
        if (r.nextInt(12) == 0 && withNul(r, slots)) {
            return root;
        }
        switch (r.nextInt(8)) {
            case 0 -> slot.remove();
            case 1 -> {
                List<ObjectNode> objects = new ArrayList<>();
                objects(root, objects);
                if (!objects.isEmpty()) {
                    objects.get(r.nextInt(objects.size())).set(r.nextInt(4) == 0 ? randomKey(r) : WORDS.get(r.nextInt(WORDS.size())),
                            randomValue(r, 0));
                }
            }
            case 2, 3 -> slot.set(randomValue(r, 0));
            case 4 -> slot.set(nest(r, slot.get()));
            case 5 -> slot.set(TextNode.valueOf(longString(r, LENGTHS[r.nextInt(LENGTHS.length)])));
            case 6 -> {
                JsonNode value = slot.get();
                if (value.isArray() && !value.isEmpty()) {
                    ArrayNode array = (ArrayNode) value;
                    int size = ARRAY_SIZES[r.nextInt(ARRAY_SIZES.length)];
                    JsonNode element = array.get(r.nextInt(array.size()));
                    while (array.size() < size) {
                        array.add(element.deepCopy());
                    }
                } else if (value.isObject()) {
                    ObjectNode object = (ObjectNode) value;
                    int size = 15 + r.nextInt(3);
                    for (int k = 0; object.size() < size && k < 100; k++) {
                        object.put("key" + k, "v" + k);
                    }
                } else {
                    slot.remove();
                }
            }
            default -> slot.set(plausible(r));
        }
        return root;
    }

    /** Puts a NUL into an id (PostgreSQL cannot compare text holding one); false when the body has none. */
    private static boolean withNul(Random r, List<Slot> slots) {
        List<Slot> ids = slots.stream().filter(s -> s.get().isTextual()
                && ID_PREFIXES.stream().anyMatch(p -> s.get().textValue().startsWith(p))).toList();
        if (ids.isEmpty()) {
            return false;
        }
        Slot id = ids.get(r.nextInt(ids.size()));
        String text = id.get().textValue();
        // after a placeholder, which is replaced by the real id before sending
        int at = text.equals(ASSISTANT_PLACEHOLDER) ? text.length() : r.nextInt(text.length() + 1);
        id.set(TextNode.valueOf(text.substring(0, at) + "\u0000" + text.substring(at)));
        return true;
    }

    /** Wraps a value in arrays and objects: around the depth free-form JSON may take, now and then deeper than the parser allows. */
    private static JsonNode nest(Random r, JsonNode value) {
        int depth = switch (r.nextInt(10)) {
            case 0 -> 990 + r.nextInt(20);
            case 1 -> 1_100;
            case 2 -> 20 + r.nextInt(200);
            case 3 -> 60 + r.nextInt(8);
            default -> 1 + r.nextInt(4);
        };
        JsonNode out = value;
        for (int d = 0; d < depth; d++) {
            if (r.nextBoolean()) {
                out = NODES.arrayNode().add(out);
            } else {
                ObjectNode o = NODES.objectNode();
                o.set(r.nextInt(3) == 0 ? WORDS.get(r.nextInt(WORDS.size())) : "n", out);
                out = o;
            }
        }
        return out;
    }

    private static JsonNode randomValue(Random r, int depth) {
        switch (r.nextInt(depth >= 2 ? 7 : 9)) {
            case 0: return NullNode.getInstance();
            case 1: return BooleanNode.valueOf(r.nextBoolean());
            case 2: return randomNumber(r);
            case 3: return TextNode.valueOf(randomString(r));
            case 4: return TextNode.valueOf(WORDS.get(r.nextInt(WORDS.size())));
            case 5: return plausible(r);
            case 6: return r.nextBoolean() ? NODES.arrayNode() : NODES.objectNode();
            case 7: {
                ArrayNode a = NODES.arrayNode();
                for (int i = r.nextInt(4); i > 0; i--) {
                    a.add(randomValue(r, depth + 1));
                }
                return a;
            }
            default: {
                ObjectNode o = NODES.objectNode();
                for (int i = r.nextInt(4); i > 0; i--) {
                    o.set(r.nextBoolean() ? randomKey(r) : WORDS.get(r.nextInt(WORDS.size())), randomValue(r, depth + 1));
                }
                return o;
            }
        }
    }

    /** Values that are valid somewhere in these bodies. */
    private static JsonNode plausible(Random r) {
        String json = switch (r.nextInt(12)) {
            case 0 -> "{\"type\":\"code_interpreter\"}";
            case 1 -> "{\"type\":\"function\",\"function\":{\"name\":\"f_1\"}}";
            case 2 -> "{\"type\":\"text\",\"text\":\"part\"}";
            case 3 -> "{\"role\":\"user\",\"content\":\"nested\"}";
            case 4 -> "{\"k\":\"v\"}";
            case 5 -> "[\"file-xyz\"]";
            case 6 -> "{\"type\":\"json_object\"}";
            case 7 -> "{\"code_interpreter\":{\"file_ids\":[]}}";
            case 8 -> "\"auto\"";
            case 9 -> "0.5";
            case 10 -> "{\"file_id\":\"file-q\",\"tools\":[{\"type\":\"file_search\"}]}";
            default -> "[]";
        };
        try {
            return MAPPER.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static JsonNode randomNumber(Random r) {
        return switch (r.nextInt(14)) {
            case 0 -> LongNode.valueOf(0);
            case 1 -> LongNode.valueOf(-1);
            case 2 -> LongNode.valueOf(1);
            case 3 -> LongNode.valueOf(Long.MAX_VALUE);
            case 4 -> LongNode.valueOf(Long.MIN_VALUE);
            case 5 -> BigIntegerNode.valueOf(BigInteger.TEN.pow(19 + r.nextInt(40)).multiply(BigInteger.valueOf(r.nextBoolean() ? 7 : -7)));
            case 6 -> DecimalNode.valueOf(new BigDecimal("1e" + (300 + r.nextInt(200)) * (r.nextBoolean() ? 1 : -1)));
            case 7 -> DoubleNode.valueOf(r.nextGaussian() * 3);
            case 8 -> DoubleNode.valueOf(-0.0);
            case 9 -> DoubleNode.valueOf(3.0);
            case 10 -> DoubleNode.valueOf(2.0000001);
            case 11 -> DoubleNode.valueOf(Double.MIN_VALUE);
            case 12 -> LongNode.valueOf(r.nextInt(200) - 50);
            default -> DoubleNode.valueOf(r.nextDouble());
        };
    }

    private static String randomString(Random r) {
        if (r.nextInt(3) == 0) {
            return ODD_STRINGS.get(r.nextInt(ODD_STRINGS.size()));
        }
        StringBuilder s = new StringBuilder();
        for (int i = r.nextInt(24); i > 0; i--) {
            s.appendCodePoint(switch (r.nextInt(4)) {
                case 0 -> r.nextInt(0x20);
                case 1 -> 0x80 + r.nextInt(0x2000);
                case 2 -> 0x1F600 + r.nextInt(80);
                default -> 0x20 + r.nextInt(0x5f);
            });
        }
        return s.toString();
    }

    private static String randomKey(Random r) {
        return r.nextInt(4) == 0 ? "" : randomString(r);
    }

    private static String longString(Random r, int length) {
        StringBuilder s = new StringBuilder(length);
        String alphabet = r.nextBoolean() ? "abcdefghij" : "\u00e9\u65e5x ";
        while (s.length() < length) {
            s.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        return s.toString();
    }

    /** splitmix64 over the inputs: nearby case numbers get unrelated random streams. */
    private static long mix(long seed, int endpoint, int caseNumber) {
        long z = seed + 0x9E3779B97F4A7C15L * (endpoint * 1_000_003L + caseNumber + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    // --- tree access --------------------------------------------------------------------------------------

    /** A place in the tree holding a value: a field of an object or an element of an array. */
    private record Slot(ContainerNode<?> parent, String field, int index) {
        JsonNode get() {
            return field != null ? parent.get(field) : parent.get(index);
        }

        void set(JsonNode value) {
            if (field != null) {
                ((ObjectNode) parent).set(field, value);
            } else {
                ((ArrayNode) parent).set(index, value);
            }
        }

        void remove() {
            if (field != null) {
                ((ObjectNode) parent).remove(field);
            } else {
                ((ArrayNode) parent).remove(index);
            }
        }
    }

    private static void collect(JsonNode node, List<Slot> out) {
        if (node instanceof ObjectNode object) {
            for (String name : iterable(object)) {
                out.add(new Slot(object, name, -1));
                collect(object.get(name), out);
            }
        } else if (node instanceof ArrayNode array) {
            for (int i = 0; i < array.size(); i++) {
                out.add(new Slot(array, null, i));
                collect(array.get(i), out);
            }
        }
    }

    private static void objects(JsonNode node, List<ObjectNode> out) {
        if (node instanceof ObjectNode object) {
            out.add(object);
        }
        for (JsonNode child : node) {
            objects(child, out);
        }
    }

    private static List<String> iterable(ObjectNode object) {
        List<String> names = new ArrayList<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }

    /** The body for a failure message: as text, plus base64 of the exact bytes when it is not huge. */
    private static String describe(byte[] body) {
        String text = new String(body, StandardCharsets.UTF_8);
        String shown = text.length() > 4_000 ? text.substring(0, 4_000) + "... (" + body.length + " bytes in all)" : text;
        return shown + (body.length <= 16_384 ? "\nbase64: " + Base64.getEncoder().encodeToString(body) : "");
    }
}
