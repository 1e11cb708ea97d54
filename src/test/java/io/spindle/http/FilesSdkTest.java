package io.spindle.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.core.MultipartField;
import com.openai.core.http.HttpResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.models.files.FileCreateParams;
import com.openai.models.files.FileDeleted;
import com.openai.models.files.FileListParams;
import com.openai.models.files.FileObject;
import com.openai.models.files.FilePurpose;
import io.spindle.testing.Api;
import io.spindle.testing.EndToEnd;
import io.spindle.testing.SdkJson;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Files API through the official Java SDK: upload, retrieve, list, download, delete; projects
 * see only their own files; deleting a file lets go of it in assistants and threads.
 */
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
class FilesSdkTest extends EndToEnd {

    @Override
    protected Map<String, String> env() {
        // a project per test that counts files, since the tests of a run share one server
        return Map.of("SPINDLE_API_KEYS", "key-a:alpha,key-b:beta,key-list:lists,key-empty:nothing");
    }

    /** Project alpha, through the server's first key: on a cluster each call goes to the next node, so every node serves every file. */
    private OpenAIClient alpha() {
        return sdk();
    }

    private static FileObject upload(OpenAIClient client, String name, byte[] bytes, FilePurpose purpose) {
        return client.files().create(FileCreateParams.builder()
                .file(MultipartField.<InputStream>builder().value(new ByteArrayInputStream(bytes)).filename(name).build())
                .purpose(purpose)
                .build());
    }

    private static byte[] download(OpenAIClient client, String id) {
        try (HttpResponse response = client.files().content(id); InputStream body = response.body()) {
            assertThat(response.statusCode()).isEqualTo(200);
            return body.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void uploadRetrieveDownloadDelete() {
        byte[] bytes = "name,score\nada,3\n".getBytes(StandardCharsets.UTF_8);
        long before = Instant.now().getEpochSecond();

        FileObject file = upload(alpha(), "scores.csv", bytes, FilePurpose.BATCH);

        assertThat(file.id()).matches("file-[A-Za-z0-9]{22}");
        assertThat(file.filename()).isEqualTo("scores.csv");
        assertThat(file.bytes()).isEqualTo(bytes.length);
        assertThat(file.purpose()).isEqualTo(FileObject.Purpose.BATCH);
        assertThat(file.status()).isEqualTo(FileObject.Status.PROCESSED);
        assertThat(file.expiresAt()).isEmpty();
        assertThat(file.statusDetails()).isEmpty();
        assertThat(file.createdAt()).isBetween(before, Instant.now().getEpochSecond());
        assertThat(alpha().files().retrieve(file.id())).isEqualTo(file);
        assertThat(download(alpha(), file.id())).isEqualTo(bytes);

        FileDeleted deleted = alpha().files().delete(file.id());

        assertThat(SdkJson.tree(deleted))
                .isEqualTo(SdkJson.json("{\"id\": \"" + file.id() + "\", \"object\": \"file\", \"deleted\": true}"));
        assertNoSuchFile(() -> alpha().files().retrieve(file.id()), file.id());
        assertNoSuchFile(() -> alpha().files().content(file.id()), file.id());
        assertNoSuchFile(() -> alpha().files().delete(file.id()), file.id());
    }

    @Test
    void uploadFromAPathKeepsItsNameAndAssistantsFilesCannotBeDownloaded(@TempDir Path dir) throws IOException {
        Path path = Files.writeString(dir.resolve("notes.md"), "# Notes\n\nAll of them.\n");

        FileObject file = alpha().files().create(FileCreateParams.builder().file(path).purpose(FilePurpose.ASSISTANTS).build());

        assertThat(file.filename()).isEqualTo("notes.md");
        assertThat(file.bytes()).isEqualTo(Files.size(path));
        assertThat(file.purpose()).isEqualTo(FileObject.Purpose.ASSISTANTS);
        assertThatThrownBy(() -> alpha().files().content(file.id()))
                .isInstanceOfSatisfying(BadRequestException.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(400);
                    assertThat(e.getMessage()).contains("Not allowed to download files of purpose: assistants");
                });
    }

    @Test
    void expiresAfterSetsExpiresAt() {
        FileObject file = alpha().files().create(FileCreateParams.builder()
                .file(MultipartField.<InputStream>builder().value(new ByteArrayInputStream(new byte[] {1, 2, 3})).filename("x.bin").build())
                .purpose(FilePurpose.USER_DATA)
                .expiresAfter(FileCreateParams.ExpiresAfter.builder().seconds(7_200).build())
                .build());

        assertThat(file.expiresAt()).contains(file.createdAt() + 7_200);
        assertThat(alpha().files().retrieve(file.id()).expiresAt()).contains(file.createdAt() + 7_200);
    }

    @Test
    void listFiltersByPurposeOrdersAndPages() {
        OpenAIClient lists = sdk("key-list");
        List<String> ids = new ArrayList<>();
        List<FilePurpose> purposes = List.of(FilePurpose.BATCH, FilePurpose.VISION, FilePurpose.BATCH, FilePurpose.FINE_TUNE,
                FilePurpose.VISION);
        for (int i = 0; i < purposes.size(); i++) {
            ids.add(upload(lists, "f" + i + ".jsonl", ("{\"i\":" + i + "}\n").getBytes(StandardCharsets.UTF_8), purposes.get(i)).id());
        }

        assertThat(lists.files().list().data()).extracting(FileObject::id).containsExactlyElementsOf(ids.reversed());
        assertThat(lists.files().list(FileListParams.builder().purpose("vision").build()).data())
                .extracting(FileObject::id).containsExactly(ids.get(4), ids.get(1));
        assertThat(lists.files().list(FileListParams.builder().purpose("evals").build(), MAY_BE_EMPTY).data()).isEmpty();

        var firstPage = lists.files().list(FileListParams.builder().order(FileListParams.Order.ASC).limit(2).build());
        assertThat(firstPage.data()).extracting(FileObject::id).containsExactly(ids.get(0), ids.get(1));
        assertThat(firstPage.hasMore()).contains(true);
        List<String> paged = new ArrayList<>();
        firstPage.autoPager().forEach(f -> paged.add(f.id()));
        assertThat(paged).containsExactlyElementsOf(ids);

        // a deleted file still works as the cursor of the page after it
        lists.files().delete(ids.get(1));
        assertThat(lists.files().list(FileListParams.builder().order(FileListParams.Order.ASC).after(ids.get(1)).build()).data())
                .extracting(FileObject::id).containsExactly(ids.get(2), ids.get(3), ids.get(4));

        assertThat(sdk("key-empty").files().list(MAY_BE_EMPTY).data()).isEmpty();
    }

    @Test
    void aFileOfOneProjectDoesNotExistForAnother() {
        FileObject file = upload(alpha(), "secret.txt", "alpha only".getBytes(StandardCharsets.UTF_8), FilePurpose.BATCH);
        OpenAIClient beta = sdk("key-b");

        assertNoSuchFile(() -> beta.files().retrieve(file.id()), file.id());
        assertNoSuchFile(() -> beta.files().content(file.id()), file.id());
        assertNoSuchFile(() -> beta.files().delete(file.id()), file.id());
        assertThat(beta.files().list(MAY_BE_EMPTY).data()).extracting(FileObject::id).doesNotContain(file.id());

        assertThat(alpha().files().retrieve(file.id())).isEqualTo(file);
        assertThat(download(alpha(), file.id())).isEqualTo("alpha only".getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void deletingAFileDetachesItFromTheProjectsAssistantsAndThreads() {
        String gone = upload(alpha(), "gone.csv", "a\n".getBytes(StandardCharsets.UTF_8), FilePurpose.ASSISTANTS).id();
        String kept = upload(alpha(), "kept.csv", "b\n".getBytes(StandardCharsets.UTF_8), FilePurpose.ASSISTANTS).id();
        Api a = api().withKey("key-a");
        Api b = api().withKey("key-b");
        String assistant = a.post("/v1/assistants", Map.of("model", "gpt-4o", "tools", List.of(Map.of("type", "code_interpreter")),
                "tool_resources", codeInterpreter(gone, kept))).ok().get("id").asText();
        String thread = a.post("/v1/threads", Map.of("tool_resources", codeInterpreter(gone))).ok().get("id").asText();
        String untouched = a.post("/v1/assistants", Map.of("model", "gpt-4o", "tool_resources", codeInterpreter(kept)))
                .ok().get("id").asText();
        // another project may name the same id (ids are not checked for existence); its objects are not ours to change
        String betas = b.post("/v1/assistants", Map.of("model", "gpt-4o", "tool_resources", codeInterpreter(gone)))
                .ok().get("id").asText();

        alpha().files().delete(gone);

        assertThat(fileIds(a.get("/v1/assistants/" + assistant).ok())).containsExactly(kept);
        assertThat(fileIds(a.get("/v1/threads/" + thread).ok())).isEmpty();
        assertThat(fileIds(a.get("/v1/assistants/" + untouched).ok())).containsExactly(kept);
        assertThat(fileIds(b.get("/v1/assistants/" + betas).ok())).containsExactly(gone);
        // the rest of the assistant is as it was
        JsonNode after = a.get("/v1/assistants/" + assistant).ok();
        assertThat(after.get("tools").get(0).get("type").asText()).isEqualTo("code_interpreter");
        assertThat(after.get("model").asText()).isEqualTo("gpt-4o");
    }

    private static Map<String, Object> codeInterpreter(String... fileIds) {
        return Map.of("code_interpreter", Map.of("file_ids", List.of(fileIds)));
    }

    private static List<String> fileIds(JsonNode object) {
        List<String> ids = new ArrayList<>();
        object.at("/tool_resources/code_interpreter/file_ids").forEach(id -> ids.add(id.asText()));
        return ids;
    }

    private static void assertNoSuchFile(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String id) {
        assertThatThrownBy(call).isInstanceOfSatisfying(NotFoundException.class, e -> {
            assertThat(e.statusCode()).isEqualTo(404);
            assertThat(e.getMessage()).contains("No such File object: " + id);
        });
    }
}
