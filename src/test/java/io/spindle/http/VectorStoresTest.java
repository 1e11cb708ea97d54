package io.spindle.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.core.MultipartField;
import com.openai.models.files.FileCreateParams;
import com.openai.models.files.FilePurpose;
import com.openai.models.vectorstores.VectorStore;
import com.openai.models.vectorstores.VectorStoreCreateParams;
import io.spindle.ingest.TestDocuments;
import io.spindle.testing.EndToEnd;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Vector stores through the real HTTP API (and the official SDK): stores, files, batches, ingestion, content. */
class VectorStoresTest extends EndToEnd {
    /** How long ingestion may take on a loaded machine. */
    private static final Duration INGESTED = Duration.ofSeconds(120);
    private static final String TEXT = "Spindle keeps the vector stores of its projects in the database. "
            + "Every ingested file is cut into chunks, and each chunk is embedded for semantic search. ";

    @TempDir
    Path dir;

    private OpenAIClient sdk;

    private String upload(String name, byte[] bytes) {
        return sdk().files().create(FileCreateParams.builder()
                .file(MultipartField.<InputStream>builder().value(new ByteArrayInputStream(bytes)).filename(name).build())
                .purpose(FilePurpose.ASSISTANTS)
                .build()).id();
    }

    private String uploadText(String name) {
        return upload(name, TEXT.repeat(3).getBytes(StandardCharsets.UTF_8));
    }


    @Test
    void createWithFilesIngestsThemAndCountsThem() throws Exception {
        String txt = uploadText("notes.txt");
        String md = upload("readme.md", ("# Title\n\n" + TEXT).getBytes(StandardCharsets.UTF_8));
        Path pdf = TestDocuments.pdf(dir.resolve("doc.pdf"), List.of(List.of("A page about vector stores.", "And chunks.")));
        String pdfId = upload("doc.pdf", Files.readAllBytes(pdf));

        VectorStore created = sdk().vectorStores().create(VectorStoreCreateParams.builder()
                .name("docs").fileIds(List.of(txt, md, pdfId))
                .expiresAfter(VectorStoreCreateParams.ExpiresAfter.builder().days(3).build())
                .metadata(VectorStoreCreateParams.Metadata.builder().putAdditionalProperty("k", com.openai.core.JsonValue.from("v")).build())
                .build());
        assertThat(created.id()).matches("vs_[0-9a-f]{32}");
        assertThat(created.name()).isEqualTo("docs");
        assertThat(created.fileCounts().total()).isEqualTo(3);
        assertThat(created.expiresAt()).contains(created.lastActiveAt().orElseThrow() + 3 * 86_400);

        JsonNode done = api().await("/v1/vector_stores/" + created.id(), s -> s.get("status").asText().equals("completed"), INGESTED);
        assertThat(done.get("file_counts").get("completed").asLong()).isEqualTo(3);
        assertThat(done.get("usage_bytes").asLong()).isGreaterThan(0);
        List<String> keys = iterable(done.fieldNames());
        assertThat(keys).containsExactly("id", "object", "created_at", "name", "description", "usage_bytes", "file_counts", "status",
                "expires_after", "expires_at", "last_active_at", "metadata");

        JsonNode files = api().get("/v1/vector_stores/" + created.id() + "/files?filter=completed&order=asc").ok();
        assertThat(files.get("data")).hasSize(3);
        JsonNode file = files.get("data").get(0);
        assertThat(iterable(file.fieldNames())).containsExactly("id", "object", "usage_bytes", "created_at", "vector_store_id", "status",
                "last_error", "chunking_strategy", "attributes");
        assertThat(api().get("/v1/vector_stores/" + created.id() + "/files?filter=failed").ok().get("data")).isEmpty();

        JsonNode content = api().get("/v1/vector_stores/" + created.id() + "/files/" + pdfId + "/content").ok();
        assertThat(content.get("object").asText()).isEqualTo("vector_store.file_content.page");
        assertThat(content.get("data").get(0).get("text").asText()).contains("A page about vector stores.");

        assertThat(api().get("/v1/vector_stores?limit=100").ok().get("data").toString()).contains(created.id());
        JsonNode renamed = api().post("/v1/vector_stores/" + created.id(), Map.of("name", "renamed")).ok();
        assertThat(renamed.get("name").asText()).isEqualTo("renamed");
        assertThat(renamed.get("metadata").get("k").asText()).isEqualTo("v");

        JsonNode deleted = api().delete("/v1/vector_stores/" + created.id()).ok();
        assertThat(deleted.toString()).isEqualTo("{\"id\":\"" + created.id() + "\",\"object\":\"vector_store.deleted\",\"deleted\":true}");
        assertThat(api().get("/v1/vector_stores/" + created.id()).error(404).get("message").asText())
                .isEqualTo("No vector store found with id '" + created.id() + "'.");
    }

    @Test
    void filesAttachUpdateDetachAndFailAlone() throws Exception {
        String store = api().post("/v1/vector_stores", "{}").ok().get("id").asText();
        assertThat(api().get("/v1/vector_stores/" + store).ok().get("status").asText()).isEqualTo("completed");
        String good = uploadText("good.txt");
        String corrupt = upload("broken.pdf", "%PDF-1.4 this is not a pdf".getBytes(StandardCharsets.UTF_8));

        JsonNode attached = api().post("/v1/vector_stores/" + store + "/files", Map.of("file_id", good, "attributes", Map.of("year", 2024))).ok();
        assertThat(attached.get("status").asText()).isEqualTo("in_progress");
        assertThat(attached.get("chunking_strategy").toString())
                .isEqualTo("{\"type\":\"static\",\"static\":{\"max_chunk_size_tokens\":800,\"chunk_overlap_tokens\":400}}");
        api().post("/v1/vector_stores/" + store + "/files", Map.of("file_id", corrupt)).ok();

        JsonNode failed = api().await("/v1/vector_stores/" + store + "/files/" + corrupt, f -> !f.get("status").asText().equals("in_progress"), INGESTED);
        assertThat(failed.get("status").asText()).isEqualTo("failed");
        assertThat(failed.get("last_error").get("code").asText()).isEqualTo("invalid_file");
        JsonNode completed = api().await("/v1/vector_stores/" + store + "/files/" + good, f -> !f.get("status").asText().equals("in_progress"), INGESTED);
        assertThat(completed.get("status").asText()).isEqualTo("completed");

        JsonNode updated = api().post("/v1/vector_stores/" + store + "/files/" + good,
                "{\"attributes\":{\"lang\":\"en\",\"ok\":true}}").ok(); // a JSON string: Map.of has no order
        assertThat(updated.get("attributes").toString()).isEqualTo("{\"lang\":\"en\",\"ok\":true}");

        JsonNode counts = api().get("/v1/vector_stores/" + store).ok().get("file_counts");
        assertThat(counts.toString()).isEqualTo("{\"in_progress\":0,\"completed\":1,\"failed\":1,\"cancelled\":0,\"total\":2}");

        assertThat(api().delete("/v1/vector_stores/" + store + "/files/" + corrupt).ok().toString())
                .isEqualTo("{\"id\":\"" + corrupt + "\",\"object\":\"vector_store.file.deleted\",\"deleted\":true}");
        assertThat(api().get("/v1/vector_stores/" + store + "/files/" + corrupt).error(404).get("message").asText())
                .isEqualTo("No file found with id '" + corrupt + "'.");

        // deleting the file itself takes it out of the store
        api().delete("/v1/files/" + good).ok();
        assertThat(api().get("/v1/vector_stores/" + store + "/files").ok().get("data")).isEmpty();
        assertThat(api().get("/v1/vector_stores/" + store).ok().get("file_counts").get("total").asLong()).isZero();
    }

    @Test
    void batchesCreateRetrieveCancelAndList() throws Exception {
        String store = api().post("/v1/vector_stores", "{}").ok().get("id").asText();
        String a = uploadText("a.txt");
        String b = uploadText("b.txt");
        JsonNode batch = api().post("/v1/vector_stores/" + store + "/file_batches", Map.of("file_ids", List.of(a, b))).ok();
        assertThat(batch.get("id").asText()).matches("vsfb_[0-9a-f]{32}");
        assertThat(batch.get("object").asText()).isEqualTo("vector_store.file_batch");
        String path = "/v1/vector_stores/" + store + "/file_batches/" + batch.get("id").asText();
        JsonNode done = api().await(path, x -> !x.get("status").asText().equals("in_progress"), INGESTED);
        assertThat(done.get("status").asText()).isEqualTo("completed");
        assertThat(done.get("file_counts").get("completed").asLong()).isEqualTo(2);
        assertThat(api().get(path + "/files").ok().get("data")).hasSize(2);

        // a cancel: the files still in progress end cancelled (ingestion may already have finished some)
        String c = uploadText("c.txt");
        JsonNode second = api().post("/v1/vector_stores/" + store + "/file_batches", Map.of("file_ids", List.of(c))).ok();
        JsonNode cancelled = api().post("/v1/vector_stores/" + store + "/file_batches/" + second.get("id").asText() + "/cancel", "").ok();
        assertThat(cancelled.get("file_counts").get("in_progress").asLong()).isZero();
        assertThat(cancelled.get("status").asText()).isIn("cancelled", "completed");
    }

    @Test
    void badInputIsRefusedNamingTheParameter() {
        String csv = upload("table.csv", "a,b\n1,2\n".getBytes(StandardCharsets.UTF_8));
        JsonNode unsupported = api().post("/v1/vector_stores", Map.of("file_ids", List.of(csv))).error(400);
        assertThat(unsupported.get("message").asText()).isEqualTo("Files with extensions [.csv] are not supported for retrieval. "
                + "See https://platform.openai.com/docs/assistants/tools/file-search/supported-files");
        assertThat(unsupported.get("code").asText()).isEqualTo("unsupported_file");
        assertThat(unsupported.get("param").asText()).isEqualTo("file_ids");

        assertThat(api().post("/v1/vector_stores", Map.of("file_ids", List.of("file-nope"))).error(404).get("message").asText())
                .isEqualTo("No file found with id 'file-nope'.");
        assertThat(api().post("/v1/vector_stores", Map.of("expires_after", Map.of("anchor", "last_active_at", "days", 0)))
                .error(400).get("param").asText()).isEqualTo("expires_after.days");
        assertThat(api().post("/v1/vector_stores", Map.of("nope", 1)).error(400).get("param").asText()).isEqualTo("nope");
        assertThat(api().get("/v1/vector_stores/abc").error(400).get("param").asText()).isEqualTo("vector_store_id");
        String store = api().post("/v1/vector_stores", "{}").ok().get("id").asText();
        assertThat(api().post("/v1/vector_stores/" + store + "/files", Map.of("file_id", csv, "attributes", Map.of("x", List.of(1))))
                .error(400).get("param").asText()).isEqualTo("attributes.x");
        assertThat(api().post("/v1/vector_stores/" + store + "/file_batches", Map.of("file_ids", List.of())).error(400).get("param").asText())
                .isEqualTo("file_ids");
        assertThat(api().get("/v1/vector_stores/" + store + "/files?filter=done").error(400).get("param").asText()).isEqualTo("filter");
    }

    private static List<String> iterable(java.util.Iterator<String> it) {
        List<String> out = new java.util.ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }
}
