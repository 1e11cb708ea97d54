package io.spindle.http;

import static io.spindle.testing.SdkJson.pairs;
import static io.spindle.testing.SdkThreads.addMessage;
import static io.spindle.testing.SdkThreads.deleteMessage;
import static io.spindle.testing.SdkThreads.retrieveMessage;
import static io.spindle.testing.SdkThreads.updateMessage;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.beta.assistants.Assistant;
import com.openai.models.beta.assistants.AssistantCreateParams;
import com.openai.models.beta.assistants.AssistantListParams;
import com.openai.models.beta.assistants.AssistantUpdateParams;
import com.openai.models.beta.threads.Thread;
import com.openai.models.beta.threads.ThreadUpdateParams;
import com.openai.models.beta.threads.messages.Message;
import com.openai.models.beta.threads.messages.MessageCreateParams;
import com.openai.models.beta.threads.messages.MessageUpdateParams;
import com.openai.services.blocking.beta.AssistantService;
import io.spindle.Settings;
import io.spindle.testing.EndToEnd;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/** API keys map to projects; a project sees only its own objects, and requests without a valid key get 401. */
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
class ProjectsSdkTest extends EndToEnd {
    private static final String WRONG_KEY = "sk-wrong-0123456789";

    @Override
    protected Map<String, String> env() {
        return Map.of("SPINDLE_API_KEYS", "key-a:alpha,key-b:beta,key-c");
    }

    private OpenAIClient alpha() {
        return sdk("key-a");
    }

    private OpenAIClient beta() {
        return sdk("key-b");
    }

    /** key-c names no project, so it belongs to project "default". */
    private OpenAIClient defaultProject() {
        return sdk("key-c");
    }

    private static Assistant createAssistant(OpenAIClient client, String name) {
        return client.beta().assistants().create(AssistantCreateParams.builder().model("gpt-4o").name(name).build());
    }

    private static List<String> assistantIds(OpenAIClient client) {
        return client.beta().assistants().list(AssistantListParams.builder().limit(100).build(), MAY_BE_EMPTY)
                .data().stream().map(Assistant::id).toList();
    }

    @Test
    void assistantOfOneProjectDoesNotExistForAnother() {
        Assistant assistant = createAssistant(alpha(), "alpha's");
        String id = assistant.id();

        for (OpenAIClient other : List.of(beta(), defaultProject())) {
            AssistantService theirs = other.beta().assistants();
            assertNotFound(() -> theirs.retrieve(id), "assistant", id);
            assertNotFound(() -> theirs.update(id, AssistantUpdateParams.builder().name("stolen").build()), "assistant", id);
            assertNotFound(() -> theirs.delete(id), "assistant", id);
            assertThat(assistantIds(other)).doesNotContain(id);
        }
        assertThat(alpha().beta().assistants().retrieve(assistant.id())).isEqualTo(assistant);
        assertThat(assistantIds(alpha())).contains(assistant.id());
    }

    @Test
    void threadAndMessagesOfOneProjectDoNotExistForAnother() {
        Thread thread = alpha().beta().threads().create();
        Message message = addMessage(alpha(), thread.id(), "alpha's secret");
        MessageUpdateParams.Metadata stolen = MessageUpdateParams.Metadata.builder().putAllAdditionalProperties(pairs("by", "beta")).build();
        OpenAIClient other = beta();

        assertNotFound(() -> other.beta().threads().retrieve(thread.id()), "thread", thread.id());
        assertNotFound(() -> other.beta().threads().update(thread.id(), ThreadUpdateParams.builder().build()), "thread", thread.id());
        assertNotFound(() -> other.beta().threads().delete(thread.id()), "thread", thread.id());
        assertNotFound(() -> other.beta().threads().messages().list(thread.id()), "thread", thread.id());
        assertNotFound(() -> other.beta().threads().messages().create(thread.id(),
                MessageCreateParams.builder().role(MessageCreateParams.Role.USER).content("injected").build()), "thread", thread.id());
        assertNotFound(() -> retrieveMessage(other, thread.id(), message.id()), "thread", thread.id());
        assertNotFound(() -> updateMessage(other, thread.id(), message.id(), stolen), "thread", thread.id());
        assertNotFound(() -> deleteMessage(other, thread.id(), message.id()), "thread", thread.id());
        String theirThread = other.beta().threads().create().id();
        assertNotFound(() -> retrieveMessage(other, theirThread, message.id()), "message", message.id());
        assertNotFound(() -> deleteMessage(other, theirThread, message.id()), "message", message.id());

        assertThat(alpha().beta().threads().retrieve(thread.id())).isEqualTo(thread);
        assertThat(alpha().beta().threads().messages().list(thread.id()).data()).containsExactly(message);
    }

    @Test
    void eachProjectListsOnlyItsOwnAssistants() {
        Assistant ofAlpha = createAssistant(alpha(), "a");
        Assistant ofBeta = createAssistant(beta(), "b");
        Assistant ofDefault = createAssistant(defaultProject(), "c");

        assertThat(assistantIds(alpha())).contains(ofAlpha.id()).doesNotContain(ofBeta.id(), ofDefault.id());
        assertThat(assistantIds(beta())).contains(ofBeta.id()).doesNotContain(ofAlpha.id(), ofDefault.id());
        assertThat(assistantIds(defaultProject())).contains(ofDefault.id()).doesNotContain(ofAlpha.id(), ofBeta.id());
        assertThat(server().spindle().store().assistant(Settings.DEFAULT_PROJECT, ofDefault.id())).isPresent();
        assertThat(server().spindle().store().assistant("alpha", ofAlpha.id())).isPresent();
    }

    @Test
    void anotherProjectsIdIsNoValidCursor() {
        Assistant ofAlpha = createAssistant(alpha(), "a");
        createAssistant(beta(), "b");

        assertThatThrownBy(() -> beta().beta().assistants().list(AssistantListParams.builder().after(ofAlpha.id()).build()))
                .isInstanceOf(BadRequestException.class)
                .hasMessageContaining("Invalid 'after': '" + ofAlpha.id() + "' is not the id of an object in this list.");
    }

    @Test
    void wrongKeyIsUnauthorized() {
        OpenAIClient intruder = sdk(WRONG_KEY);
        String existing = createAssistant(alpha(), "a").id();

        for (ThrowingCallable call : List.<ThrowingCallable>of(
                () -> intruder.beta().assistants().list(),
                () -> intruder.beta().threads().create(),
                () -> intruder.beta().assistants().retrieve(existing))) {
            assertThatThrownBy(call)
                    .isInstanceOfSatisfying(UnauthorizedException.class, e -> {
                        assertThat(e.statusCode()).isEqualTo(401);
                        assertThat(e.code()).contains("invalid_api_key");
                    })
                    .hasMessageContaining("Incorrect API key provided: sk-")
                    .hasMessageNotContaining(WRONG_KEY);
        }
    }

    @Test
    void missingKeyIsUnauthorized() {
        for (String path : List.of("/v1/assistants", "/v1/threads/thread_abc")) {
            JsonNode error = api().withKey(null).get(path).error(401);

            assertThat(error.get("message").asText()).startsWith("You didn't provide an API key.");
            assertThat(error.get("type").asText()).isEqualTo("invalid_request_error");
        }
        int before = assistantIds(defaultProject()).size();
        assertThat(api().withKey(null).post("/v1/assistants", Map.of("model", "gpt-4o")).status()).isEqualTo(401);
        assertThat(assistantIds(defaultProject())).as("nothing was created in project default").hasSize(before);
    }

    private static void assertNotFound(ThrowingCallable call, String kind, String id) {
        assertThatThrownBy(call)
                .isInstanceOf(NotFoundException.class)
                .hasMessageContaining("No " + kind + " found with id '" + id + "'.");
    }
}
