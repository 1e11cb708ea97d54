package io.spindle.testing;

import com.openai.client.OpenAIClient;
import com.openai.models.beta.threads.ThreadCreateParams;
import com.openai.models.beta.threads.messages.Message;
import com.openai.models.beta.threads.messages.MessageCreateParams;
import com.openai.models.beta.threads.messages.MessageDeleteParams;
import com.openai.models.beta.threads.messages.MessageDeleted;
import com.openai.models.beta.threads.messages.MessageListParams;
import com.openai.models.beta.threads.messages.MessageRetrieveParams;
import com.openai.models.beta.threads.messages.MessageUpdateParams;
import java.util.Arrays;
import java.util.List;

/** Short forms of the SDK's thread and message calls the end-to-end tests make again and again. */
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
public final class SdkThreads {
    private SdkThreads() {}

    /** A thread holding one user message per text, all created by the one create-thread request. */
    public static String threadWith(OpenAIClient sdk, String... texts) {
        ThreadCreateParams.Builder thread = ThreadCreateParams.builder();
        for (String text : texts) {
            thread.addMessage(ThreadCreateParams.Message.builder()
                    .role(ThreadCreateParams.Message.Role.USER)
                    .content(text)
                    .build());
        }
        return sdk.beta().threads().create(thread.build()).id();
    }

    /** Adds one user message per text, one request each; returns them in creation order. */
    public static List<Message> addMessages(OpenAIClient sdk, String threadId, String... texts) {
        return Arrays.stream(texts).map(text -> addMessage(sdk, threadId, text)).toList();
    }

    public static Message addMessage(OpenAIClient sdk, String threadId, String text) {
        return sdk.beta().threads().messages().create(threadId, MessageCreateParams.builder()
                .role(MessageCreateParams.Role.USER)
                .content(text)
                .build());
    }

    public static Message retrieveMessage(OpenAIClient sdk, String threadId, String messageId) {
        return sdk.beta().threads().messages().retrieve(messageId,
                MessageRetrieveParams.builder().threadId(threadId).build());
    }

    public static Message updateMessage(OpenAIClient sdk, String threadId, String messageId, MessageUpdateParams.Metadata metadata) {
        return sdk.beta().threads().messages().update(messageId,
                MessageUpdateParams.builder().threadId(threadId).metadata(metadata).build());
    }

    public static MessageDeleted deleteMessage(OpenAIClient sdk, String threadId, String messageId) {
        return sdk.beta().threads().messages().delete(messageId,
                MessageDeleteParams.builder().threadId(threadId).build());
    }

    public static MessageListParams.Builder oldestFirst() {
        return MessageListParams.builder().order(MessageListParams.Order.ASC);
    }

    public static MessageListParams.Builder newestFirst() {
        return MessageListParams.builder().order(MessageListParams.Order.DESC);
    }

    /** The texts of one page of messages, in the order listed. */
    public static List<String> listTexts(OpenAIClient sdk, String threadId, MessageListParams params) {
        return texts(sdk.beta().threads().messages().list(threadId, params).data());
    }

    public static List<String> texts(List<Message> messages) {
        return messages.stream().map(SdkThreads::text).toList();
    }

    /** The value of a message's first text part. */
    public static String text(Message message) {
        return message.content().getFirst().asText().text().value();
    }
}
