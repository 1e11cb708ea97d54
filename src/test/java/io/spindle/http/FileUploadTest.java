package io.spindle.http;

import static io.spindle.http.BadInputTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.spindle.Settings;
import io.spindle.Spindle;
import io.spindle.testing.Api;
import io.spindle.testing.Multipart;
import io.spindle.testing.TestServer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /v1/files} and the other file routes over raw HTTP: bodies the SDKs never send, every
 * bad input with OpenAI's error, awkward bytes that must come back unchanged, malformed forms, and
 * the size limits of uploads and of JSON bodies side by side.
 */
class FileUploadTest {
    private static final String MALFORMED = "The multipart/form-data body of the request could not be parsed.";
    private static final String CONTENT_TYPE_HINT = "expected multipart/form-data. "
            + "(HINT: If you're using curl, you can pass -H 'Content-Type: multipart/form-data')";

    private static TestServer server;
    private static Api api;

    @BeforeAll
    static void start() {
        server = TestServer.start(TestServer.Storage.SQLITE);
        api = server.api();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static Api.Response upload(Api to, byte[] form) {
        return to.send(Multipart.post(to.baseUrl() + "/v1/files", null, form, Multipart.CONTENT_TYPE));
    }

    private static Api.Response upload(byte[] form) {
        return upload(api, form);
    }

    private static byte[] download(Api from, String id) throws IOException {
        try (InputStream in = from.download("/v1/files/" + id + "/content")) {
            return in.readAllBytes();
        }
    }

    // --- bytes that must come back as they went -------------------------------------------------

    @Test
    void awkwardBytesComeBackUnchanged() throws IOException {
        byte[] everyByte = new byte[1024];
        for (int i = 0; i < everyByte.length; i++) {
            everyByte[i] = (byte) i;
        }
        List<byte[]> contents = new ArrayList<>(List.of(
                everyByte,
                "x".getBytes(StandardCharsets.UTF_8),
                "\r\n".getBytes(StandardCharsets.UTF_8),
                "\r\nstarts and ends with a line break\r\n".getBytes(StandardCharsets.UTF_8),
                ("a line that looks like the boundary\r\n--" + Multipart.BOUNDARY + "x\r\nand goes on").getBytes(StandardCharsets.UTF_8),
                ("the boundary without its line break: --" + Multipart.BOUNDARY + "--").getBytes(StandardCharsets.UTF_8),
                ("\r\n--" + Multipart.BOUNDARY.substring(0, 10)).getBytes(StandardCharsets.UTF_8),
                "\r\r\r\n\n\n\r\n\r\n\r\r".getBytes(StandardCharsets.UTF_8),
                "caf\u00e9 \u2615 \uD83D\uDE00".getBytes(StandardCharsets.UTF_8)));
        byte[] random = new byte[3 * 1024 * 1024 + 17]; // several of the parser's buffers and chunks, with CRLFs here and there
        new Random(11).nextBytes(random);
        for (int i = 0; i < random.length; i += 4093) {
            random[i] = '\r';
            random[Math.min(i + 1, random.length - 1)] = '\n';
        }
        contents.add(random);

        for (byte[] content : contents) {
            // the SDKs send the file first; curl sends the fields in the order given: take both
            JsonNode fileFirst = upload(new Multipart().file("file", "data.bin", content).text("purpose", "batch").end()).ok();
            JsonNode purposeFirst = upload(new Multipart().text("purpose", "fine-tune").file("file", "data.bin", content).end()).ok();

            for (JsonNode file : List.of(fileFirst, purposeFirst)) {
                assertThat(file.get("bytes").asLong()).isEqualTo(content.length);
                assertThat(download(api, file.get("id").asText())).as("content of %d bytes", content.length).isEqualTo(content);
            }
        }
    }

    @Test
    void theFileObjectHasTheLiveApisShape() {
        long before = Instant.now().getEpochSecond();
        JsonNode file = upload(new Multipart().text("purpose", "vision").file("file", "cat.png", new byte[] {1, 2}).end()).ok();

        assertThat(file.properties()).extracting(Map.Entry::getKey).containsExactly(
                "object", "id", "purpose", "filename", "bytes", "created_at", "expires_at", "status", "status_details");
        assertThat(file.get("id").asText()).matches("file-[A-Za-z0-9]{22}");
        assertThat(file.get("object").asText()).isEqualTo("file");
        assertThat(file.get("purpose").asText()).isEqualTo("vision");
        assertThat(file.get("filename").asText()).isEqualTo("cat.png");
        assertThat(file.get("bytes").asLong()).isEqualTo(2);
        assertThat(file.get("created_at").asLong()).isBetween(before, Instant.now().getEpochSecond());
        assertThat(file.get("expires_at").isNull()).isTrue();
        assertThat(file.get("status").asText()).isEqualTo("processed");
        assertThat(file.get("status_details").isNull()).isTrue();
        assertThat(api.get("/v1/files/" + file.get("id").asText()).ok()).isEqualTo(file);

        JsonNode expiring = upload(new Multipart().text("purpose", "batch").text("expires_after[anchor]", "created_at")
                .text("expires_after[seconds]", "2592000").file("file", "b.jsonl", new byte[] {'{', '}'}).end()).ok();
        assertThat(expiring.get("expires_at").asLong()).isEqualTo(expiring.get("created_at").asLong() + 2_592_000);

        // a file part without a file name (the Java SDK sends an InputStream so) gets one
        JsonNode unnamed = upload(new Multipart().text("purpose", "batch").file("file", null, new byte[] {7}).end()).ok();
        assertThat(unnamed.get("filename").asText()).isEqualTo("upload");
    }

    // --- bad input ------------------------------------------------------------------------------

    @Test
    void badPurposeIsRefusedWithTheLiveApisWords() {
        for (String purpose : List.of("world_domination", "assistants_output", "ASSISTANTS", "")) {
            assertError(upload(new Multipart().text("purpose", purpose).file("file", "a.txt", new byte[] {1}).end()), 400, "purpose", null,
                    "'" + purpose + "' is not one of ['fine-tune', 'assistants', 'batch', 'user_data', 'vision', 'evals'] - 'purpose'");
        }
        // checked after the file too (the SDKs send the file part first)
        assertError(upload(new Multipart().file("file", "a.txt", new byte[] {1}).text("purpose", "world_domination").end()), 400,
                "purpose", null, "'world_domination' is not one of ['fine-tune', 'assistants', 'batch', 'user_data', 'vision', 'evals'] - 'purpose'");
    }

    @Test
    void missingEmptyUnknownAndRepeatedFields() {
        assertError(upload(new Multipart().file("file", "a.txt", new byte[] {1}).end()), 400, "purpose",
                "missing_required_parameter", "Missing required parameter: 'purpose'.");
        assertError(upload(new Multipart().text("purpose", "batch").end()), 400, "file",
                "missing_required_parameter", "Missing required parameter: 'file'.");
        assertError(upload(new Multipart().end()), 400, "file", "missing_required_parameter", "Missing required parameter: 'file'.");
        assertError(upload(new Multipart().text("purpose", "batch").file("file", "empty.txt", new byte[0]).end()), 400, "file", null,
                "Invalid 'file': the file is empty. Upload a file of at least one byte.");
        assertError(upload(new Multipart().text("purpose", "batch").text("model", "gpt-4o").file("file", "a.txt", new byte[] {1}).end()),
                400, "model", "unknown_parameter", "Unknown parameter: 'model'.");
        assertError(upload(new Multipart().text("purpose", "batch").text("purpose", "vision").file("file", "a.txt", new byte[] {1}).end()),
                400, "purpose", "invalid_value", "Invalid 'purpose': the field was sent more than once.");
        assertError(upload(new Multipart().text("purpose", "batch").file("file", "a.txt", new byte[] {1}).file("file", "b.txt", new byte[] {2})
                .end()), 400, "file", "invalid_value", "Invalid 'file': the field was sent more than once.");
        assertError(upload(new Multipart().text("purpose", "batch").text("notes", "x".repeat(70_000)).file("file", "a.txt", new byte[] {1})
                .end()), 400, "notes", "string_above_max_length", "Invalid 'notes': the value is longer than 65536 bytes.");
    }

    @Test
    void badExpiresAfter() {
        assertError(upload(expiring("last_active_at", "3600")), 400, "expires_after.anchor", "invalid_value",
                "Invalid value: 'last_active_at'. Supported values are: 'created_at'.");
        assertError(upload(expiring("created_at", "3599")), 400, "expires_after.seconds", "integer_below_min_value",
                "Invalid 'expires_after.seconds': integer below minimum value. Expected a value >= 3600, but got 3599 instead.");
        assertError(upload(expiring("created_at", "2592001")), 400, "expires_after.seconds", "integer_above_max_value",
                "Invalid 'expires_after.seconds': integer above maximum value. Expected a value <= 2592000, but got 2592001 instead.");
        assertError(upload(expiring("created_at", "an hour")), 400, "expires_after.seconds", "invalid_type",
                "Invalid 'expires_after.seconds': expected an integer, but got 'an hour' instead.");
        assertError(upload(new Multipart().text("purpose", "batch").text("expires_after[anchor]", "created_at")
                .file("file", "a.txt", new byte[] {1}).end()), 400, "expires_after.seconds", "missing_required_parameter",
                "Missing required parameter: 'expires_after.seconds'.");
        assertError(upload(new Multipart().text("purpose", "batch").text("expires_after[seconds]", "3600")
                .file("file", "a.txt", new byte[] {1}).end()), 400, "expires_after.anchor", "missing_required_parameter",
                "Missing required parameter: 'expires_after.anchor'.");
    }

    private static byte[] expiring(String anchor, String seconds) {
        return new Multipart().text("purpose", "batch").text("expires_after[anchor]", anchor).text("expires_after[seconds]", seconds)
                .file("file", "a.txt", new byte[] {1}).end();
    }

    @Test
    void aBodyThatIsNoFormIsRefused() {
        String url = api.baseUrl() + "/v1/files";
        byte[] json = "{\"purpose\":\"batch\"}".getBytes(StandardCharsets.UTF_8);
        assertError(api.send(Multipart.post(url, null, json, "application/json")), 400, null, null,
                "Invalid Content-Type header (application/json), " + CONTENT_TYPE_HINT);
        assertError(api.send(Multipart.post(url, null, json, "text/plain; charset=utf-8")), 400, null, null,
                "Invalid Content-Type header (text/plain; charset=utf-8), " + CONTENT_TYPE_HINT);
        assertError(api.send(Multipart.post(url, null, json, null)), 400, null, null, "Invalid Content-Type header (), " + CONTENT_TYPE_HINT);
        assertError(api.send(Multipart.post(url, null, new Multipart().text("purpose", "batch").end(), "multipart/form-data")), 400,
                null, null, "Invalid Content-Type header (multipart/form-data): multipart/form-data needs a boundary parameter.");
    }

    @Test
    void malformedFormsGet400AndTheServerCarriesOn() {
        byte[] good = new Multipart().text("purpose", "batch").file("file", "a.txt", "hello, world".getBytes(StandardCharsets.UTF_8)).end();
        List<byte[]> malformed = new ArrayList<>(List.of(
                new Multipart().text("purpose", "batch").file("file", "a.txt", new byte[] {1, 2, 3}).unfinished(), // no closing boundary
                Arrays.copyOf(good, good.length / 2), // cut off inside the file
                new Multipart().text("purpose", "batch").raw("--" + Multipart.BOUNDARY + "\r\nContent-Disposition: form-data; name=\"file\"\r\n")
                        .unfinished(), // cut off inside the part's headers
                new Multipart().raw("--" + Multipart.BOUNDARY + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n"
                        + "X-Long: " + "h".repeat(5_000) + "\r\n\r\nbatch\r\n").end(), // headers over the parser's limit
                new Multipart().raw("--" + Multipart.BOUNDARY + "\r\nContent-Type: text/plain\r\n\r\nbatch\r\n").end())); // a part with no name
        for (byte[] body : malformed) {
            assertError(upload(body), 400, null, null, MALFORMED);
        }

        // seeded mutations of a good form: each is refused or, if it happens to stay a valid form, accepted; never a 500
        Random random = new Random(20_261_203);
        for (int i = 0; i < 200; i++) {
            byte[] body = good.clone();
            switch (i % 3) {
                case 0 -> body[random.nextInt(body.length)] = (byte) random.nextInt(256);
                case 1 -> body = Arrays.copyOf(body, random.nextInt(body.length));
                default -> {
                    int at = random.nextInt(body.length);
                    byte[] junk = new byte[1 + random.nextInt(40)];
                    random.nextBytes(junk);
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    out.write(body, 0, at);
                    out.writeBytes(junk);
                    out.write(body, at, body.length - at);
                    body = out.toByteArray();
                }
            }
            Api.Response response = upload(body);
            assertThat(response.status()).as("mutation %d answered %s", i, response.body()).isIn(200, 400);
        }
        assertThat(upload(good).ok().get("bytes").asLong()).isEqualTo(12);
    }

    // --- downloads, lookups, lists ----------------------------------------------------------------

    @Test
    void downloadsFollowThePurpose() throws IOException {
        for (String purpose : List.of("assistants", "user_data")) {
            String id = upload(new Multipart().text("purpose", purpose).file("file", "a.txt", new byte[] {1}).end()).ok().get("id").asText();
            assertError(api.get("/v1/files/" + id + "/content"), 400, null, null, "Not allowed to download files of purpose: " + purpose);
        }
        for (String purpose : List.of("batch", "fine-tune", "vision", "evals")) {
            byte[] content = ("for " + purpose).getBytes(StandardCharsets.UTF_8);
            String id = upload(new Multipart().text("purpose", purpose).file("file", "a.txt", content).end()).ok().get("id").asText();
            assertThat(download(api, id)).isEqualTo(content);
        }
    }

    @Test
    void unknownFilesAre404WithTheLiveApisWords() {
        // files have no id prefix check: the live API answered GET /v1/files/fake_id with this
        for (String id : List.of("fake_id", "file-doesNotExist0000000")) {
            assertError(api.get("/v1/files/" + id), 404, "id", null, "No such File object: " + id);
            assertError(api.delete("/v1/files/" + id), 404, "id", null, "No such File object: " + id);
            assertError(api.get("/v1/files/" + id + "/content"), 404, "id", null, "No such File object: " + id);
        }
    }

    @Test
    void listParametersAreChecked() {
        assertError(api.get("/v1/files?limit=0"), 400, "limit", "integer_below_min_value",
                "Invalid 'limit': integer below minimum value. Expected a value >= 1, but got 0 instead.");
        assertError(api.get("/v1/files?limit=10001"), 400, "limit", "integer_above_max_value",
                "Invalid 'limit': integer above maximum value. Expected a value <= 10000, but got 10001 instead.");
        assertError(api.get("/v1/files?order=sideways"), 400, "order", "invalid_value",
                "Invalid value: 'sideways'. Supported values are: 'asc', 'desc'.");
        assertError(api.get("/v1/files?after=file-notInThisList"), 400, "after", "invalid_value",
                "Invalid 'after': 'file-notInThisList' is not the id of an object in this list.");
        assertThat(api.get("/v1/files?limit=10000").ok().get("object").asText()).isEqualTo("list");
    }

    @Test
    void wrongMethodsAre405() {
        assertError(api.send("PUT", "/v1/files", "{}"), 405, null, null, "Invalid method for URL (PUT /v1/files)");
        assertError(api.post("/v1/files/file-abc", "{}"), 405, null, null, "Invalid method for URL (POST /v1/files/file-abc)");
        assertError(api.delete("/v1/files/file-abc/content"), 405, null, null, "Invalid method for URL (DELETE /v1/files/file-abc/content)");
    }

    // --- size limits ------------------------------------------------------------------------------

    @Test
    void uploadsHaveTheirOwnLimitAndJsonBodiesKeepTheirs() throws IOException {
        try (TestServer small = TestServer.start(TestServer.Storage.SQLITE,
                Map.of("SPINDLE_MAX_BODY_BYTES", "2048", "SPINDLE_MAX_FILE_BYTES", "100000"))) {
            Api smallApi = small.api();
            byte[] fits = new byte[100_000];
            new Random(3).nextBytes(fits);

            // a file fifty times the JSON limit is fine, one byte over the file limit is not
            String id = upload(smallApi, new Multipart().text("purpose", "batch").file("file", "big.bin", fits).end()).ok().get("id").asText();
            assertThat(download(smallApi, id)).isEqualTo(fits);
            byte[] over = Arrays.copyOf(fits, 100_001);
            Api.Response tooLarge = upload(smallApi, new Multipart().text("purpose", "batch").file("file", "big.bin", over).end());
            assertError(tooLarge, 413, "file", null, "File too large. The largest file this server accepts is 100000 bytes.");
            assertThat(tooLarge.header("connection")).isEqualTo("close");
            Api.Response tooLargeChunked = smallApi.send(Multipart.post(smallApi.baseUrl() + "/v1/files", null,
                    () -> Multipart.streamed("batch", "big.bin", new ByteArrayInputStream(over))));
            assertError(tooLargeChunked, 413, "file", null, "File too large. The largest file this server accepts is 100000 bytes.");

            // JSON routes keep SPINDLE_MAX_BODY_BYTES
            String big = "{\"model\":\"gpt-4o\",\"instructions\":\"" + "x".repeat(10_000) + "\"}";
            assertError(smallApi.post("/v1/assistants", big), 413, null, null,
                    "Request body too large. Reduce the size of the request body and try again.");
            assertThat(smallApi.post("/v1/assistants", "{\"model\":\"gpt-4o\"}").ok().get("object").asText()).isEqualTo("assistant");
            assertThat(smallApi.get("/v1/files").ok().get("data")).hasSize(1);
        }
    }

    // --- expiry -----------------------------------------------------------------------------------

    @Test
    void anExpiredFileIsGoneEverywhere() throws IOException {
        AtomicReference<Instant> now = new AtomicReference<>(Instant.now());
        InstantSource clock = now::get;
        Map<String, String> env = Map.of("SPINDLE_PORT", "0", "SPINDLE_DATA_DIR", Files.createTempDirectory("spindle-expiry").toString());
        try (Spindle spindle = Spindle.start(Settings.fromEnvironment(env), clock)) {
            Api local = new Api("http://127.0.0.1:" + spindle.port(), null);
            JsonNode expiring = upload(local, expiring("created_at", "3600")).ok();
            JsonNode lasting = upload(local, new Multipart().text("purpose", "batch").file("file", "b.txt", new byte[] {2}).end()).ok();
            String id = expiring.get("id").asText();
            assertThat(local.get("/v1/files/" + id).ok()).isEqualTo(expiring);

            now.set(now.get().plus(Duration.ofSeconds(3_599)));
            assertThat(local.get("/v1/files/" + id).ok()).isEqualTo(expiring);
            now.set(now.get().plus(Duration.ofSeconds(2)));

            assertError(local.get("/v1/files/" + id), 404, "id", null, "No such File object: " + id);
            assertError(local.get("/v1/files/" + id + "/content"), 404, "id", null, "No such File object: " + id);
            assertError(local.delete("/v1/files/" + id), 404, "id", null, "No such File object: " + id);
            assertThat(local.get("/v1/files").ok().get("data")).extracting(f -> f.get("id").asText())
                    .containsExactly(lasting.get("id").asText());
        }
    }
}
