package io.spindle.http;

import static io.spindle.testing.SdkJson.json;
import static io.spindle.testing.SdkJson.pairs;
import static io.spindle.testing.SdkJson.tree;
import static io.spindle.testing.SdkThreads.addMessage;
import static io.spindle.testing.SdkThreads.oldestFirst;
import static io.spindle.testing.SdkThreads.retrieveMessage;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.models.beta.threads.Thread;
import com.openai.models.beta.threads.ThreadCreateParams;
import com.openai.models.beta.threads.ThreadDeleted;
import com.openai.models.beta.threads.ThreadUpdateParams;
import com.openai.models.beta.threads.messages.ImageUrl;
import com.openai.models.beta.threads.messages.ImageUrlContentBlock;
import com.openai.models.beta.threads.messages.Message;
import com.openai.models.beta.threads.messages.MessageContentPartParam;
import com.openai.models.beta.threads.messages.MessageCreateParams;
import com.openai.models.beta.threads.messages.TextContentBlockParam;
import com.openai.services.blocking.beta.ThreadService;
import io.spindle.Settings;
import io.spindle.testing.EndToEnd;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/** /v1/threads through the official SDK: create (empty, metadata, messages), retrieve, modify, delete. */
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
class ThreadsSdkTest extends EndToEnd {

    private ThreadService threads() {
        return sdk().beta().threads();
    }

    private List<Message> messagesAscending(String threadId) {
        return threads().messages().list(threadId, oldestFirst().build(), MAY_BE_EMPTY).data();
    }

    @Test
    void createEmptyThread() {
        Thread thread = threads().create();

        assertThat(thread.id()).matches("thread_[A-Za-z0-9]{24}");
        assertThat(thread.createdAt()).isPositive();
        assertThat(tree(thread)).isEqualTo(json("""
                {"id": "%s", "object": "thread", "created_at": %d, "metadata": {}, "tool_resources": {}}"""
                .formatted(thread.id(), thread.createdAt())));
        assertThat(messagesAscending(thread.id())).isEmpty();
    }

    @Test
    void createWithMetadataAndToolResources() {
        Thread thread = threads().create(ThreadCreateParams.builder()
                .metadata(ThreadCreateParams.Metadata.builder().putAllAdditionalProperties(pairs("user", "u-42", "topic", "maths")).build())
                .toolResources(ThreadCreateParams.ToolResources.builder()
                        .codeInterpreter(ThreadCreateParams.ToolResources.CodeInterpreter.builder().addFileId("file-abc123").build())
                        .build())
                .build());

        assertThat(tree(thread.metadata().orElseThrow())).isEqualTo(json("{\"user\": \"u-42\", \"topic\": \"maths\"}"));
        assertThat(tree(thread.toolResources().orElseThrow())).isEqualTo(json("{\"code_interpreter\": {\"file_ids\": [\"file-abc123\"]}}"));
        assertThat(threads().retrieve(thread.id())).isEqualTo(thread);
    }

    @Test
    void createWithMessagesStoresThemInOrder() {
        Thread thread = threads().create(ThreadCreateParams.builder()
                .addMessage(ThreadCreateParams.Message.builder()
                        .role(ThreadCreateParams.Message.Role.USER)
                        .content("Hello, world!")
                        .build())
                .addMessage(ThreadCreateParams.Message.builder()
                        .role(ThreadCreateParams.Message.Role.ASSISTANT)
                        .contentOfArrayOfContentParts(List.of(
                                MessageContentPartParam.ofText(TextContentBlockParam.builder().text("Can you describe this image?").build()),
                                MessageContentPartParam.ofImageUrl(ImageUrlContentBlock.builder()
                                        .imageUrl(ImageUrl.builder().url("https://example.com/image.png").build())
                                        .build())))
                        .metadata(ThreadCreateParams.Message.Metadata.builder()
                                .putAllAdditionalProperties(pairs("messageMetadata", "messageMetadataValue"))
                                .build())
                        .build())
                .build());

        List<Message> messages = messagesAscending(thread.id());

        assertThat(messages).hasSize(2);
        assertThat(messages).allSatisfy(m -> {
            assertThat(m.id()).matches("msg_[A-Za-z0-9]{24}");
            assertThat(m.threadId()).isEqualTo(thread.id());
            assertThat(m.assistantId()).isEmpty();
            assertThat(m.runId()).isEmpty();
            assertThat(m.attachments()).contains(List.of());
        });
        assertThat(messages.get(0).role()).isEqualTo(Message.Role.USER);
        assertThat(tree(messages.get(0).content())).isEqualTo(json("""
                [{"type": "text", "text": {"value": "Hello, world!", "annotations": []}}]"""));
        assertThat(tree(messages.get(0).metadata().orElseThrow())).isEqualTo(json("{}"));
        assertThat(messages.get(1).role()).isEqualTo(Message.Role.ASSISTANT);
        assertThat(tree(messages.get(1).content())).isEqualTo(json("""
                [{"type": "text", "text": {"value": "Can you describe this image?", "annotations": []}},
                 {"type": "image_url", "image_url": {"url": "https://example.com/image.png", "detail": "auto"}}]"""));
        assertThat(tree(messages.get(1).metadata().orElseThrow())).isEqualTo(json("{\"messageMetadata\": \"messageMetadataValue\"}"));
        assertThat(tree(thread.metadata().orElseThrow())).isEqualTo(json("{}"));
    }

    @Test
    void retrieveReturnsWhatCreateReturned() {
        Thread thread = threads().create();

        assertThat(threads().retrieve(thread.id())).isEqualTo(thread);
    }

    @Test
    void modifyReplacesMetadataAndKeepsTheRest() {
        Thread thread = threads().create(ThreadCreateParams.builder()
                .metadata(ThreadCreateParams.Metadata.builder().putAllAdditionalProperties(pairs("a", "1", "b", "2")).build())
                .toolResources(ThreadCreateParams.ToolResources.builder()
                        .codeInterpreter(ThreadCreateParams.ToolResources.CodeInterpreter.builder().addFileId("file-abc123").build())
                        .build())
                .build());

        Thread modified = threads().update(thread.id(), ThreadUpdateParams.builder()
                .metadata(ThreadUpdateParams.Metadata.builder().putAllAdditionalProperties(pairs("a", "changed")).build())
                .build());

        assertThat(tree(modified.metadata().orElseThrow())).isEqualTo(json("{\"a\": \"changed\"}"));
        assertThat(modified.toolResources()).isEqualTo(thread.toolResources());
        assertThat(modified.createdAt()).isEqualTo(thread.createdAt());
        assertThat(threads().retrieve(thread.id())).isEqualTo(modified);
    }

    @Test
    void modifyToolResources() {
        Thread thread = threads().create();

        Thread modified = threads().update(thread.id(), ThreadUpdateParams.builder()
                .toolResources(ThreadUpdateParams.ToolResources.builder()
                        .codeInterpreter(ThreadUpdateParams.ToolResources.CodeInterpreter.builder().addFileId("file-xyz789").build())
                        .build())
                .build());

        assertThat(tree(modified.toolResources().orElseThrow())).isEqualTo(json("{\"code_interpreter\": {\"file_ids\": [\"file-xyz789\"]}}"));
        assertThat(threads().retrieve(thread.id())).isEqualTo(modified);
    }

    @Test
    void deleteRemovesTheThreadAndItsMessages() {
        Thread thread = threads().create();
        Message message = addMessage(sdk(), thread.id(), "soon gone");

        ThreadDeleted deleted = threads().delete(thread.id());

        assertThat(deleted.id()).isEqualTo(thread.id());
        assertThat(deleted.deleted()).isTrue();
        assertThat(tree(deleted._object_())).isEqualTo(json("\"thread.deleted\""));
        assertThreadNotFound(() -> threads().retrieve(thread.id()), thread.id());
        assertThreadNotFound(() -> threads().update(thread.id(), ThreadUpdateParams.builder().build()), thread.id());
        assertThreadNotFound(() -> threads().delete(thread.id()), thread.id());
        assertThreadNotFound(() -> retrieveMessage(sdk(), thread.id(), message.id()), thread.id());
        assertThreadNotFound(() -> messagesAscending(thread.id()), thread.id());
        assertThreadNotFound(() -> threads().messages().create(thread.id(),
                MessageCreateParams.builder().role(MessageCreateParams.Role.USER).content("late").build()), thread.id());
        assertThat(server().spindle().store().message(Settings.DEFAULT_PROJECT, thread.id(), message.id())).isEmpty();
    }

    @Test
    void deletingOneThreadLeavesOthersAlone() {
        Thread kept = threads().create();
        Message keptMessage = addMessage(sdk(), kept.id(), "still here");

        threads().delete(threads().create().id());

        assertThat(threads().retrieve(kept.id())).isEqualTo(kept);
        assertThat(retrieveMessage(sdk(), kept.id(), keptMessage.id())).isEqualTo(keptMessage);
    }

    @Test
    void idOfTheWrongKindIsABadRequest() {
        assertThatThrownBy(() -> threads().retrieve("asst_abc"))
                .isInstanceOf(BadRequestException.class)
                .hasMessageContaining("Invalid 'thread_id': 'asst_abc'. Expected an ID that begins with 'thread'.");
    }

    private static void assertThreadNotFound(ThrowingCallable call, String threadId) {
        assertThatThrownBy(call)
                .isInstanceOf(NotFoundException.class)
                .hasMessageContaining("No thread found with id '" + threadId + "'.");
    }
}
