package io.spindle.http;

import static io.spindle.testing.SdkJson.json;
import static io.spindle.testing.SdkJson.pairs;
import static io.spindle.testing.SdkJson.tree;
import static io.spindle.testing.SdkJson.treeWithout;
import static io.spindle.testing.SdkThreads.addMessage;
import static io.spindle.testing.SdkThreads.addMessages;
import static io.spindle.testing.SdkThreads.deleteMessage;
import static io.spindle.testing.SdkThreads.listTexts;
import static io.spindle.testing.SdkThreads.newestFirst;
import static io.spindle.testing.SdkThreads.oldestFirst;
import static io.spindle.testing.SdkThreads.retrieveMessage;
import static io.spindle.testing.SdkThreads.texts;
import static io.spindle.testing.SdkThreads.updateMessage;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.errors.NotFoundException;
import com.openai.models.beta.assistants.CodeInterpreterTool;
import com.openai.models.beta.threads.messages.ImageFile;
import com.openai.models.beta.threads.messages.ImageFileContentBlock;
import com.openai.models.beta.threads.messages.ImageUrl;
import com.openai.models.beta.threads.messages.ImageUrlContentBlock;
import com.openai.models.beta.threads.messages.Message;
import com.openai.models.beta.threads.messages.MessageContentPartParam;
import com.openai.models.beta.threads.messages.MessageCreateParams;
import com.openai.models.beta.threads.messages.MessageDeleted;
import com.openai.models.beta.threads.messages.MessageListPage;
import com.openai.models.beta.threads.messages.MessageListParams;
import com.openai.models.beta.threads.messages.MessageUpdateParams;
import com.openai.models.beta.threads.messages.TextContentBlockParam;
import com.openai.services.blocking.beta.threads.MessageService;
import io.spindle.testing.Api;
import io.spindle.testing.EndToEnd;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/** /v1/threads/{id}/messages through the official SDK: create, retrieve, modify, delete, list and its filters. */
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
class MessagesSdkTest extends EndToEnd {

    private MessageService messages() {
        return sdk().beta().threads().messages();
    }

    private String newThread() {
        return sdk().beta().threads().create().id();
    }

    @Test
    void createUserMessageWithStringContent() {
        String threadId = newThread();

        Message message = addMessage(sdk(), threadId, "Hello, world!");

        assertThat(message.id()).matches("msg_[A-Za-z0-9]{24}");
        assertThat(message.role()).isEqualTo(Message.Role.USER);
        assertThat(tree(message)).isEqualTo(json("""
                {"id": "%s", "object": "thread.message", "created_at": %d, "assistant_id": null, "thread_id": "%s",
                 "run_id": null, "status": "completed", "incomplete_details": null, "incomplete_at": null,
                 "completed_at": %d, "role": "user",
                 "content": [{"type": "text", "text": {"value": "Hello, world!", "annotations": []}}],
                 "attachments": [], "metadata": {}}"""
                .formatted(message.id(), message.createdAt(), threadId, message.createdAt())));
    }

    @Test
    void createAssistantMessageHasNoAssistantOrRun() {
        Message message = messages().create(newThread(), MessageCreateParams.builder()
                .role(MessageCreateParams.Role.ASSISTANT)
                .content("Hi there, user.")
                .build());

        assertThat(message.role()).isEqualTo(Message.Role.ASSISTANT);
        assertThat(message.assistantId()).isEmpty();
        assertThat(message.runId()).isEmpty();
    }

    @Test
    void createWithContentPartsAttachmentsAndMetadata() {
        // files attached for file_search must exist: they go into the thread's vector store
        String doc = api().uploadFile("assistants", "doc1.txt", "a document".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        String data = api().uploadFile("assistants", "data2.txt", "some data".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        // so must an image_file part's file, named as an image
        String image = api().uploadFile("vision", "img1.png", "image bytes".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Message message = messages().create(newThread(), MessageCreateParams.builder()
                .role(MessageCreateParams.Role.USER)
                .contentOfArrayOfContentParts(List.of(
                        MessageContentPartParam.ofText(TextContentBlockParam.builder().text("Compare these").build()),
                        MessageContentPartParam.ofImageFile(ImageFileContentBlock.builder()
                                .imageFile(ImageFile.builder().fileId(image).detail(ImageFile.Detail.LOW).build())
                                .build()),
                        MessageContentPartParam.ofImageUrl(ImageUrlContentBlock.builder()
                                .imageUrl(ImageUrl.builder().url("https://example.com/b.png").detail(ImageUrl.Detail.HIGH).build())
                                .build())))
                .addAttachment(MessageCreateParams.Attachment.builder().fileId(doc).addToolFileSearch().build())
                .addAttachment(MessageCreateParams.Attachment.builder()
                        .fileId(data)
                        .addTool(CodeInterpreterTool.builder().build())
                        .addToolFileSearch()
                        .build())
                .metadata(MessageCreateParams.Metadata.builder().putAllAdditionalProperties(pairs("source", "upload")).build())
                .build());

        assertThat(tree(message.content())).isEqualTo(json("""
                [{"type": "text", "text": {"value": "Compare these", "annotations": []}},
                 {"type": "image_file", "image_file": {"file_id": "%s", "detail": "low"}},
                 {"type": "image_url", "image_url": {"url": "https://example.com/b.png", "detail": "high"}}]""".formatted(image)));
        assertThat(tree(message.attachments().orElseThrow())).isEqualTo(json("""
                [{"file_id": "%s", "tools": [{"type": "file_search"}]},
                 {"file_id": "%s", "tools": [{"type": "code_interpreter"}, {"type": "file_search"}]}]""".formatted(doc, data)));
        assertThat(tree(message.metadata().orElseThrow())).isEqualTo(json("{\"source\": \"upload\"}"));
        assertThat(retrieveMessage(sdk(), message.threadId(), message.id())).isEqualTo(message);
    }

    @Test
    void retrieveReturnsWhatCreateReturned() {
        Message message = addMessage(sdk(), newThread(), "remember me");

        assertThat(retrieveMessage(sdk(), message.threadId(), message.id())).isEqualTo(message);
    }

    @Test
    void retrieveThroughAnotherThreadIsNotFound() {
        Message message = addMessage(sdk(), newThread(), "mine");
        String otherThread = newThread();

        assertMessageNotFound(() -> retrieveMessage(sdk(), otherThread, message.id()), message.id());
        assertMessageNotFound(() -> deleteMessage(sdk(), otherThread, message.id()), message.id());
    }

    @Test
    void modifyReplacesMetadataOnly() {
        Message message = messages().create(newThread(), MessageCreateParams.builder()
                .role(MessageCreateParams.Role.USER)
                .content("Goodbye, world!")
                .metadata(MessageCreateParams.Metadata.builder().putAllAdditionalProperties(pairs("k", "old", "other", "x")).build())
                .build());

        Message modified = updateMessage(sdk(), message.threadId(), message.id(),
                MessageUpdateParams.Metadata.builder().putAllAdditionalProperties(pairs("k", "new")).build());

        assertThat(tree(modified.metadata().orElseThrow())).isEqualTo(json("{\"k\": \"new\"}"));
        assertThat(treeWithout(modified, "metadata")).isEqualTo(treeWithout(message, "metadata"));
        assertThat(retrieveMessage(sdk(), message.threadId(), message.id())).isEqualTo(modified);
    }

    @Test
    void deleteRemovesOnlyThatMessage() {
        String threadId = newThread();
        List<Message> created = addMessages(sdk(), threadId, "keep 1", "drop", "keep 2");
        Message dropped = created.get(1);

        MessageDeleted deleted = deleteMessage(sdk(), threadId, dropped.id());

        assertThat(deleted.id()).isEqualTo(dropped.id());
        assertThat(deleted.deleted()).isTrue();
        assertThat(tree(deleted._object_())).isEqualTo(json("\"thread.message.deleted\""));
        assertMessageNotFound(() -> retrieveMessage(sdk(), threadId, dropped.id()), dropped.id());
        assertMessageNotFound(() -> deleteMessage(sdk(), threadId, dropped.id()), dropped.id());
        assertThat(listTexts(sdk(), threadId, oldestFirst().build())).containsExactly("keep 1", "keep 2");
    }

    @Test
    void listOrdersAndLimits() {
        String threadId = newThread();
        addMessages(sdk(), threadId, "m1", "m2", "m3", "m4", "m5");

        assertThat(texts(messages().list(threadId).data())).containsExactly("m5", "m4", "m3", "m2", "m1");
        assertThat(listTexts(sdk(), threadId, newestFirst().build())).containsExactly("m5", "m4", "m3", "m2", "m1");
        assertThat(listTexts(sdk(), threadId, oldestFirst().build())).containsExactly("m1", "m2", "m3", "m4", "m5");

        MessageListPage firstTwo = messages().list(threadId, newestFirst().limit(2).build());
        assertThat(texts(firstTwo.data())).containsExactly("m5", "m4");
        assertThat(firstTwo.hasMore()).contains(true);

        MessageListPage all = messages().list(threadId, oldestFirst().limit(5).build());
        assertThat(texts(all.data())).hasSize(5);
        assertThat(all.hasMore()).contains(false);
    }

    @Test
    void listWithCursors() {
        String threadId = newThread();
        List<String> ids = addMessages(sdk(), threadId, "m1", "m2", "m3", "m4", "m5").stream().map(Message::id).toList();

        assertThat(listTexts(sdk(), threadId, oldestFirst().after(ids.get(1)).build())).containsExactly("m3", "m4", "m5");
        assertThat(listTexts(sdk(), threadId, newestFirst().after(ids.get(3)).build())).containsExactly("m3", "m2", "m1");
        assertThat(listTexts(sdk(), threadId, oldestFirst().before(ids.get(3)).build())).containsExactly("m1", "m2", "m3");
        assertThat(listTexts(sdk(), threadId, newestFirst().before(ids.get(1)).build())).containsExactly("m5", "m4", "m3");
        assertThat(listTexts(sdk(), threadId, oldestFirst().after(ids.get(0)).before(ids.get(4)).build()))
                .containsExactly("m2", "m3", "m4");
    }

    @Test
    void beforeWithALimitReturnsTheNearestItems() {
        String threadId = newThread();
        List<String> ids = addMessages(sdk(), threadId, "m1", "m2", "m3", "m4", "m5").stream().map(Message::id).toList();

        MessageListPage ascendingPage = messages().list(threadId, oldestFirst().before(ids.get(3)).limit(2).build());
        assertThat(texts(ascendingPage.data())).containsExactly("m2", "m3");
        assertThat(ascendingPage.hasMore()).contains(true);

        MessageListPage descendingPage = messages().list(threadId, newestFirst().before(ids.get(1)).limit(2).build());
        assertThat(texts(descendingPage.data())).containsExactly("m4", "m3");
        assertThat(descendingPage.hasMore()).contains(true);
    }

    @Test
    void listOnlyShowsTheThreadsOwnMessages() {
        String threadId = newThread();
        addMessages(sdk(), threadId, "here");
        addMessages(sdk(), newThread(), "elsewhere");

        assertThat(listTexts(sdk(), threadId, oldestFirst().build())).containsExactly("here");
    }

    @Test
    void runIdThatMatchesNothingGivesAnEmptyPage() {
        String threadId = newThread();
        addMessages(sdk(), threadId, "not from a run");

        MessageListPage page = messages().list(threadId, MessageListParams.builder().runId("run_nothing").build(), MAY_BE_EMPTY);
        assertThat(page.data()).isEmpty();
        assertThat(page.hasMore()).contains(false);

        JsonNode raw = api().get("/v1/threads/" + threadId + "/messages?run_id=run_nothing").ok();
        assertThat(raw).isEqualTo(json("""
                {"object": "list", "data": [], "first_id": null, "last_id": null, "has_more": false}"""));
    }

    @Test
    void createRetrieveAndListAnswerTheSameBytesWithCharactersOutsideTheBmpEscaped() {
        String threadId = newThread();

        Api.Response created = api().post("/v1/threads/" + threadId + "/messages",
                "{\"role\": \"user\", \"content\": \"smile \uD83D\uDE00 é\", \"metadata\": {\"k\": \"\uD83D\uDE00\"}}");

        String body = created.body();
        assertThat(body).contains("\"value\":\"smile \\uD83D\\uDE00 é\"").contains("\"k\":\"\\uD83D\\uDE00\"");
        String id = created.ok().path("id").asText();
        assertThat(api().get("/v1/threads/" + threadId + "/messages/" + id).body()).isEqualTo(body);
        assertThat(api().get("/v1/threads/" + threadId + "/messages").body()).contains("\"data\":[" + body + "]");
    }

    private static void assertMessageNotFound(ThrowingCallable call, String messageId) {
        assertThatThrownBy(call)
                .isInstanceOf(NotFoundException.class)
                .hasMessageContaining("No message found with id '" + messageId + "'.");
    }
}
