package io.spindle.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.core.JsonValue;
import com.openai.errors.NotFoundException;
import com.openai.models.beta.assistants.Assistant;
import com.openai.models.beta.assistants.AssistantCreateParams;
import com.openai.models.beta.assistants.CodeInterpreterTool;
import com.openai.models.beta.assistants.FileSearchTool;
import com.openai.models.beta.threads.Thread;
import com.openai.models.beta.threads.ThreadCreateParams;
import com.openai.models.beta.threads.messages.MessageCreateParams;
import com.openai.models.beta.threads.messages.MessageListParams;
import com.openai.models.vectorstores.VectorStoreCreateParams;
import io.spindle.testing.EndToEnd;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The vector stores assistants and threads get without calling {@code /vector_stores}: created inline through
 * {@code tool_resources.file_search.vector_stores}, and made or filled by message attachments for file_search
 * (issue 12, point 6), through the official SDK on every storage.
 */
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
class FileSearchStoresSdkTest extends EndToEnd {
    /** How long ingestion may take on a loaded machine. */
    private static final Duration INGESTED = Duration.ofSeconds(120);
    private static final long SEVEN_DAYS = 7 * 86_400;

    private String upload(String name) {
        return api().uploadFile("assistants", name, ("Notes about " + name + ": Filip's favorite food is cake. ")
                .repeat(5).getBytes(StandardCharsets.UTF_8));
    }

    private JsonNode store(String id) {
        return api().get("/v1/vector_stores/" + id).ok();
    }

    private List<String> storeFiles(String storeId) {
        List<String> ids = new ArrayList<>();
        api().get("/v1/vector_stores/" + storeId + "/files?order=asc&limit=100").ok().get("data").forEach(f -> ids.add(f.get("id").asText()));
        return ids;
    }

    private static MessageCreateParams.Attachment forFileSearch(String fileId) {
        return MessageCreateParams.Attachment.builder().fileId(fileId).addToolFileSearch().build();
    }

    private String threadStoreId(String threadId) {
        List<String> ids = sdk().beta().threads().retrieve(threadId).toolResources().orElseThrow()
                .fileSearch().orElseThrow().vectorStoreIds().orElseThrow();
        assertThat(ids).hasSize(1);
        return ids.getFirst();
    }

    @Test
    void anAssistantsInlineStoreIsCreatedWithItsFilesAndNeverExpires() throws Exception {
        String file = upload("favorite_foods.txt");
        Assistant assistant = sdk().beta().assistants().create(AssistantCreateParams.builder()
                .model("gpt-4o")
                .addTool(FileSearchTool.builder().build())
                .toolResources(AssistantCreateParams.ToolResources.builder()
                        .fileSearch(AssistantCreateParams.ToolResources.FileSearch.builder()
                                .addVectorStore(AssistantCreateParams.ToolResources.FileSearch.VectorStore.builder()
                                        .addFileId(file)
                                        .metadata(AssistantCreateParams.ToolResources.FileSearch.VectorStore.Metadata.builder()
                                                .putAdditionalProperty("source", JsonValue.from("helper")).build())
                                        .build())
                                .build())
                        .build())
                .build());

        List<String> storeIds = assistant.toolResources().orElseThrow().fileSearch().orElseThrow().vectorStoreIds().orElseThrow();
        assertThat(storeIds).hasSize(1);
        String storeId = storeIds.getFirst();
        assertThat(storeId).matches("vs_[0-9a-f]{32}");
        Assistant retrieved = sdk().beta().assistants().retrieve(assistant.id());
        assertThat(retrieved.toolResources()).isEqualTo(assistant.toolResources());

        // as the live API: name null, which the Java SDK's VectorStore cannot read (it wants a string), hence raw JSON
        JsonNode created = store(storeId);
        assertThat(created.get("name").isNull()).isTrue();
        assertThat(created.get("expires_after").isNull()).isTrue();
        assertThat(created.get("expires_at").isNull()).isTrue();
        assertThat(created.get("metadata").toString()).isEqualTo("{\"source\":\"helper\"}");

        JsonNode done = api().await("/v1/vector_stores/" + storeId, s -> s.get("status").asText().equals("completed"), INGESTED);
        assertThat(done.get("file_counts").get("completed").asLong()).isEqualTo(1);
        assertThat(storeFiles(storeId)).containsExactly(file);
    }

    @Test
    void aThreadsInlineStoreExpiresSevenDaysAfterItsLastUse() throws Exception {
        String file = upload("thread-notes.md");
        Thread thread = sdk().beta().threads().create(ThreadCreateParams.builder()
                .toolResources(ThreadCreateParams.ToolResources.builder()
                        .fileSearch(ThreadCreateParams.ToolResources.FileSearch.builder()
                                .addVectorStore(ThreadCreateParams.ToolResources.FileSearch.VectorStore.builder()
                                        .addFileId(file)
                                        .staticChunkingStrategy(ThreadCreateParams.ToolResources.FileSearch.VectorStore.ChunkingStrategy
                                                .Static.InnerStatic.builder().maxChunkSizeTokens(200).chunkOverlapTokens(50).build())
                                        .build())
                                .build())
                        .build())
                .build());

        String storeId = thread.toolResources().orElseThrow().fileSearch().orElseThrow().vectorStoreIds().orElseThrow().getFirst();
        assertThat(threadStoreId(thread.id())).isEqualTo(storeId);
        JsonNode store = store(storeId);
        assertThat(store.get("expires_after").toString()).isEqualTo("{\"anchor\":\"last_active_at\",\"days\":7}");
        assertThat(store.get("expires_at").asLong()).isEqualTo(store.get("last_active_at").asLong() + SEVEN_DAYS);
        JsonNode file1 = api().await("/v1/vector_stores/" + storeId + "/files/" + file,
                f -> !f.get("status").asText().equals("in_progress"), INGESTED);
        assertThat(file1.get("status").asText()).isEqualTo("completed");
        assertThat(file1.get("chunking_strategy").toString())
                .isEqualTo("{\"type\":\"static\",\"static\":{\"max_chunk_size_tokens\":200,\"chunk_overlap_tokens\":50}}");
    }

    @Test
    void attachmentsMakeTheThreadsStoreOnceAndFillIt() throws Exception {
        String first = upload("first.txt");
        String second = upload("second.txt");
        Thread thread = sdk().beta().threads().create();
        assertThat(thread.toolResources().orElseThrow().fileSearch()).isEmpty();

        var message = sdk().beta().threads().messages().create(thread.id(), MessageCreateParams.builder()
                .role(MessageCreateParams.Role.USER).content("What is in this file?").addAttachment(forFileSearch(first)).build());
        assertThat(message.attachments().orElseThrow()).hasSize(1);
        String storeId = threadStoreId(thread.id());
        JsonNode store = store(storeId);
        assertThat(store.get("expires_after").get("days").asInt()).isEqualTo(7);
        assertThat(storeFiles(storeId)).containsExactly(first);

        sdk().beta().threads().messages().create(thread.id(), MessageCreateParams.builder()
                .role(MessageCreateParams.Role.USER).content("And these?")
                .addAttachment(forFileSearch(second)).addAttachment(forFileSearch(first)).build());
        assertThat(threadStoreId(thread.id())).isEqualTo(storeId);
        assertThat(storeFiles(storeId)).containsExactlyInAnyOrder(first, second);

        JsonNode done = api().await("/v1/vector_stores/" + storeId, s -> s.get("status").asText().equals("completed"), INGESTED);
        assertThat(done.get("file_counts").get("completed").asLong()).isEqualTo(2);
        // a file already in the store is not attached again: it stays completed
        sdk().beta().threads().messages().create(thread.id(), MessageCreateParams.builder()
                .role(MessageCreateParams.Role.USER).content("Again").addAttachment(forFileSearch(first)).build());
        assertThat(store(storeId).get("file_counts").toString())
                .isEqualTo("{\"in_progress\":0,\"completed\":2,\"failed\":0,\"cancelled\":0,\"total\":2}");
    }

    @Test
    void attachmentsGoIntoTheStoreAThreadAlreadyHas() {
        String file = upload("existing.txt");
        String storeId = sdk().vectorStores().create(VectorStoreCreateParams.builder().name("mine").build()).id();
        Thread thread = sdk().beta().threads().create(ThreadCreateParams.builder()
                .toolResources(ThreadCreateParams.ToolResources.builder()
                        .fileSearch(ThreadCreateParams.ToolResources.FileSearch.builder().addVectorStoreId(storeId).build())
                        .build())
                .addMessage(ThreadCreateParams.Message.builder().role(ThreadCreateParams.Message.Role.USER).content("read this")
                        .addAttachment(ThreadCreateParams.Message.Attachment.builder().fileId(file).addToolFileSearch().build())
                        .build())
                .build());

        assertThat(threadStoreId(thread.id())).isEqualTo(storeId);
        assertThat(store(storeId).get("name").asText()).isEqualTo("mine");
        assertThat(storeFiles(storeId)).containsExactly(file);
    }

    @Test
    void codeInterpreterAttachmentsMakeNoStore() {
        String file = upload("data.txt");
        Thread thread = sdk().beta().threads().create();
        sdk().beta().threads().messages().create(thread.id(), MessageCreateParams.builder()
                .role(MessageCreateParams.Role.USER).content("run this")
                .addAttachment(MessageCreateParams.Attachment.builder().fileId(file).addTool(CodeInterpreterTool.builder().build()).build()).build());
        assertThat(sdk().beta().threads().retrieve(thread.id()).toolResources().orElseThrow().fileSearch()).isEmpty();
    }

    @Test
    void threadCreationWithMessagesAttachingFilesMakesOneStore() {
        String first = upload("a.txt");
        String second = upload("b.txt");
        Thread thread = sdk().beta().threads().create(ThreadCreateParams.builder()
                .addMessage(userMessage("one", first))
                .addMessage(userMessage("two", second, first))
                .build());

        String storeId = thread.toolResources().orElseThrow().fileSearch().orElseThrow().vectorStoreIds().orElseThrow().getFirst();
        assertThat(threadStoreId(thread.id())).isEqualTo(storeId);
        assertThat(storeFiles(storeId)).containsExactlyInAnyOrder(first, second);
    }

    private static ThreadCreateParams.Message userMessage(String text, String... fileIds) {
        ThreadCreateParams.Message.Builder message = ThreadCreateParams.Message.builder().role(ThreadCreateParams.Message.Role.USER).content(text);
        for (String fileId : fileIds) {
            message.addAttachment(ThreadCreateParams.Message.Attachment.builder().fileId(fileId).addToolFileSearch().build());
        }
        return message.build();
    }

    @Test
    void runsAttachFilesOfTheirMessagesToo() {
        String assistantId = sdk().beta().assistants().create(AssistantCreateParams.builder().model("gpt-4o").build()).id();
        String inline = upload("inline.txt");
        String attached = upload("attached.txt");
        Map<String, Object> attachment = Map.of("file_id", attached, "tools", List.of(Map.of("type", "file_search")));

        JsonNode run = api().post("/v1/threads/runs", Map.of("assistant_id", assistantId, "thread", Map.of(
                "tool_resources", Map.of("file_search", Map.of("vector_stores", List.of(Map.of("file_ids", List.of(inline))))),
                "messages", List.of(Map.of("role", "user", "content", "hi", "attachments", List.of(attachment)))))).ok();
        String threadStore = threadStoreId(run.get("thread_id").asText());
        assertThat(storeFiles(threadStore)).containsExactlyInAnyOrder(inline, attached);
        assertThat(store(threadStore).get("expires_after").get("days").asInt()).isEqualTo(7);

        String threadId = sdk().beta().threads().create().id();
        api().post("/v1/threads/" + threadId + "/runs", Map.of("assistant_id", assistantId,
                "additional_messages", List.of(Map.of("role", "user", "content", "hi", "attachments", List.of(attachment))))).ok();
        assertThat(storeFiles(threadStoreId(threadId))).containsExactly(attached);
    }

    @Test
    void modifyingToolResourcesCanCreateAStore() {
        String file = upload("later.txt");
        String assistantId = sdk().beta().assistants().create(AssistantCreateParams.builder().model("gpt-4o").build()).id();
        Map<String, Object> inline = Map.of("tool_resources", Map.of("file_search",
                Map.of("vector_stores", List.of(Map.of("file_ids", List.of(file))))));

        JsonNode assistant = api().post("/v1/assistants/" + assistantId, inline).ok();
        String assistantStore = assistant.get("tool_resources").get("file_search").get("vector_store_ids").get(0).asText();
        assertThat(storeFiles(assistantStore)).containsExactly(file);
        assertThat(store(assistantStore).get("expires_after").isNull()).isTrue();

        String threadId = sdk().beta().threads().create().id();
        JsonNode thread = api().post("/v1/threads/" + threadId, inline).ok();
        String threadStore = thread.get("tool_resources").get("file_search").get("vector_store_ids").get(0).asText();
        assertThat(threadStoreId(threadId)).isEqualTo(threadStore);
        assertThat(storeFiles(threadStore)).containsExactly(file);
        assertThat(store(threadStore).get("expires_after").get("days").asInt()).isEqualTo(7);
    }

    @Test
    void anUnknownFileCreatesNothing() {
        Thread thread = sdk().beta().threads().create();
        assertThatThrownBy(() -> sdk().beta().threads().messages().create(thread.id(), MessageCreateParams.builder()
                .role(MessageCreateParams.Role.USER).content("hi").addAttachment(forFileSearch("file-doesnotexist")).build()))
                .isInstanceOfSatisfying(NotFoundException.class,
                        e -> assertThat(e.getMessage()).contains("No file found with id 'file-doesnotexist'."));
        assertThat(sdk().beta().threads().retrieve(thread.id()).toolResources().orElseThrow().fileSearch()).isEmpty();
        assertThat(sdk().beta().threads().messages().list(thread.id(), MessageListParams.none(), MAY_BE_EMPTY).data()).isEmpty();

        JsonNode error = api().post("/v1/assistants", Map.of("model", "gpt-4o", "tool_resources", Map.of("file_search",
                Map.of("vector_stores", List.of(Map.of("file_ids", List.of("file-doesnotexist"))))))).error(404);
        assertThat(error.get("message").asText()).isEqualTo("No file found with id 'file-doesnotexist'.");
    }
}
