package io.spindle.admin;

import static io.spindle.testing.SdkJson.tree;
import static io.spindle.testing.SdkJson.treeWithout;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.openai.client.OpenAIClient;
import com.openai.core.http.HttpResponse;
import com.openai.models.beta.threads.messages.MessageListParams;
import com.openai.models.beta.threads.runs.RunRetrieveParams;
import com.openai.models.beta.threads.runs.steps.RunStepInclude;
import com.openai.models.beta.threads.runs.steps.StepListParams;
import com.openai.models.vectorstores.VectorStoreSearchParams;
import com.openai.models.vectorstores.files.FileListParams;
import io.spindle.testing.Api;
import io.spindle.testing.FakeEmbeddings;
import io.spindle.testing.FakeUpstream;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.FakeUpstream.ToolCall;
import io.spindle.testing.TestPostgres;
import io.spindle.testing.TestServer;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A project exported from SQLite ({@code spindle export}) and imported into PostgreSQL ({@code spindle import}), each
 * command run as its own process: the official SDK, against a server on PostgreSQL, sees the same objects, file bytes
 * and search results as it saw on SQLite, without embedding anything again; exported again from PostgreSQL beside the
 * live server, every object's line is as it was.
 */
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
class ExportImportSdkTest {
    private static final String FOODS = """
            Favorite foods of the team:
            - Summanus Ferdinand: tacos
            - Tekakwitha Effie: pizza
            - Filip Carola: cake
            """;
    private static final String ANSWER = "Filip likes cake【0:0†favorite_foods.txt】.";
    private static final Reply SEARCH = Reply.toolCalls(new ToolCall("call_export_search", "file_search",
            "{\"queries\": [\"Filip favorite food\"]}"));
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @AutoClose
    private final FakeUpstream model = FakeUpstream.start()
            .respondWith(body -> Reply.error(500, "FakeUpstream: this test scripted no further request"));
    @AutoClose
    private final FakeEmbeddings embeddings = FakeEmbeddings.start();

    /** The ids of what the test made. */
    private record Made(String searched, String download, String store, String assistant, String thread, String run) {}

    @Test
    void aProjectMovedFromSqliteToPostgresqlLooksTheSameThroughTheSdk() throws Exception {
        Path data = dir.resolve("data");
        Path export = dir.resolve("default.jsonl");
        byte[] bytes = new byte[DOWNLOAD_BYTES];
        new Random(16).nextBytes(bytes);
        Made made;
        JsonNode onSqlite;
        try (TestServer sqlite = TestServer.start(TestServer.Storage.SQLITE, env(Map.of("SPINDLE_DATA_DIR", data.toString())))) {
            made = make(sqlite.api(), bytes);
            onSqlite = seen(sqlite.sdk(), made);
        }
        assertThat(onSqlite.path("search")).as("what search found on SQLite").isNotEmpty();
        assertThat(onSqlite.path("search").path(0).path("file_id").asText()).isEqualTo(made.searched());
        SpindleCommand.Result exported = SpindleCommand.run(Map.of("SPINDLE_DATA_DIR", data.toString()),
                "export", "--project", "default", export.toString());
        assertThat(exported.stderr()).isEmpty();
        assertThat(exported.status()).isZero();
        assertThat(exported.stdout()).singleElement().asString()
                .startsWith("exported project default into " + export + ": file=2 assistant=1 thread=1 message=2 run=1 run_step=2 "
                        + "vector_store=1 vector_store_file=1 vector_store_file_batch=0 chunk=");
        assertThat(Files.readAllLines(export).getFirst()).startsWith("{\"kind\":\"spindle-export\",\"format\":1,\"project\":\"default\"");

        String postgres = TestPostgres.freshDatabase();
        try {
            Map<String, String> onPostgres = Map.of("SPINDLE_DATABASE_URL", postgres);
            SpindleCommand.Result imported = SpindleCommand.run(onPostgres, "import", export.toString());
            assertThat(imported.stderr()).isEmpty();
            assertThat(imported.status()).isZero();
            assertThat(imported.stdout()).singleElement().asString().startsWith("imported project default from " + export + ": file=2 ");

            try (TestServer server = TestServer.start(TestServer.Storage.POSTGRESQL, env(onPostgres))) {
                Path again = dir.resolve("again.jsonl");
                SpindleCommand.Result reexported = SpindleCommand.run(onPostgres, "export", "--project", "default", again.toString());
                assertThat(reexported.status()).as("export beside a live node: %s", reexported.stderr()).isZero();
                List<String> original = Files.readAllLines(export);
                List<String> fromPostgres = Files.readAllLines(again);
                assertThat(fromPostgres.subList(1, fromPostgres.size())).as("every object exported again from PostgreSQL")
                        .isEqualTo(original.subList(1, original.size()));

                JsonNode seen = seen(server.sdk(), made);
                assertThat(seen).isEqualTo(onSqlite);
                try (HttpResponse content = server.sdk().files().content(made.download()); InputStream body = content.body()) {
                    assertThat(body.readAllBytes()).isEqualTo(bytes);
                }
            }

            SpindleCommand.Result again = SpindleCommand.run(onPostgres, "import", export.toString());
            assertThat(again.status()).isEqualTo(2);
            assertThat(again.stderr()).singleElement().asString()
                    .matches("spindle import: file file-\\w+ exists already in this database; nothing was imported");

            Map<String, String> withKeys = new HashMap<>(onPostgres);
            withKeys.put("SPINDLE_API_KEYS", "sk-a:default,sk-b:default,sk-c:other");
            SpindleCommand.Result keys = SpindleCommand.run(withKeys, "keys");
            assertThat(keys.status()).isZero();
            assertThat(keys.stdout()).hasSize(2);
            assertThat(keys.stdout().get(0)).startsWith("default: 2 API key(s); file=2 assistant=1 thread=1 message=2 run=1 "
                    + "run_step=2 vector_store=1 vector_store_file=1 vector_store_file_batch=0 chunk=");
            assertThat(keys.stdout().get(1)).isEqualTo("other: 1 API key(s); file=0 assistant=0 thread=0 message=0 run=0 run_step=0 "
                    + "vector_store=0 vector_store_file=0 vector_store_file_batch=0 chunk=0");
        } finally {
            TestPostgres.dropDatabase(postgres);
        }
    }

    private static final int DOWNLOAD_BYTES = 1024 * 1024 + 4099; // more than one of PostgreSQL's 1 MiB blob chunks

    /** A searched file in a vector store, a file to download, an assistant with file_search and a run that searched. */
    private Made make(Api api, byte[] bytes) throws InterruptedException {
        String searched = api.uploadFile("assistants", "favorite_foods.txt", FOODS.getBytes(StandardCharsets.UTF_8));
        String download = api.uploadFile("batch", "random.bin", bytes);
        String store = api.post("/v1/vector_stores", Map.of("name", "foods", "file_ids", List.of(searched))).ok().path("id").asText();
        api.await("/v1/vector_stores/" + store, s -> s.path("status").asText().equals("completed"), WAIT);
        String assistant = api.post("/v1/assistants", Map.of("model", "gpt-4o", "tools", List.of(Map.of("type", "file_search")),
                "tool_resources", Map.of("file_search", Map.of("vector_store_ids", List.of(store))))).ok().path("id").asText();
        String thread = api.post("/v1/threads", Map.of("messages", List.of(Map.of("role", "user", "content", "What does Filip like?"))))
                .ok().path("id").asText();
        model.enqueue(SEARCH, Reply.text(ANSWER));
        String run = api.post("/v1/threads/" + thread + "/runs", Map.of("assistant_id", assistant)).ok().path("id").asText();
        JsonNode done = api.await("/v1/threads/" + thread + "/runs/" + run, r -> !r.path("status").asText().matches("queued|in_progress"),
                WAIT);
        assertThat(done.path("status").asText()).as("run %s", done).isEqualTo("completed");
        return new Made(searched, download, store, assistant, thread, run);
    }

    /** Everything the SDK shows of what was made, as one JSON tree. */
    private static JsonNode seen(OpenAIClient sdk, Made made) {
        ObjectNode seen = JsonNodeFactory.instance.objectNode();
        seen.set("files", tree(List.of(sdk.files().retrieve(made.searched()), sdk.files().retrieve(made.download()))));
        // each search moves last_active_at to its own second, so it differs between the servers by design
        seen.set("vector_store", treeWithout(sdk.vectorStores().retrieve(made.store()), "last_active_at"));
        seen.set("vector_store_files", tree(sdk.vectorStores().files().list(made.store(), FileListParams.builder().build()).data()));
        seen.set("assistant", tree(sdk.beta().assistants().retrieve(made.assistant())));
        seen.set("thread", tree(sdk.beta().threads().retrieve(made.thread())));
        seen.set("messages", tree(sdk.beta().threads().messages().list(made.thread(), MessageListParams.builder().build()).data()));
        seen.set("run", tree(sdk.beta().threads().runs().retrieve(made.run(),
                RunRetrieveParams.builder().threadId(made.thread()).build())));
        seen.set("steps", tree(sdk.beta().threads().runs().steps().list(made.run(), StepListParams.builder().threadId(made.thread())
                .addInclude(RunStepInclude.STEP_DETAILS_TOOL_CALLS_FILE_SEARCH_RESULTS_CONTENT)
                .build()).data()));
        seen.set("search", tree(sdk.vectorStores().search(VectorStoreSearchParams.builder().vectorStoreId(made.store())
                .query("What does Filip like to eat?").build()).data()));
        return seen;
    }

    private Map<String, String> env(Map<String, String> storage) {
        Map<String, String> env = new HashMap<>(embeddings.settings());
        env.put("SPINDLE_UPSTREAM_URL", model.baseUrl());
        env.put("SPINDLE_UPSTREAM_API_KEY", "sk-upstream-test-key");
        env.put("SPINDLE_POLL_AFTER_MS", "50");
        env.putAll(storage);
        return env;
    }
}
