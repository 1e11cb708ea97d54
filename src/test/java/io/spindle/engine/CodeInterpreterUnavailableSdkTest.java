package io.spindle.engine;

import static io.spindle.testing.SdkRuns.assistant;
import static io.spindle.testing.SdkRuns.runOf;
import static io.spindle.testing.SdkThreads.threadWith;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.errors.BadRequestException;
import com.openai.models.beta.assistants.Assistant;
import com.openai.models.beta.assistants.AssistantCreateParams;
import com.openai.models.beta.assistants.AssistantUpdateParams;
import com.openai.models.beta.assistants.CodeInterpreterTool;
import io.spindle.testing.RunEndToEnd;
import io.spindle.testing.SdkJson;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/** With the sandbox off, nothing can enable code_interpreter: creating or modifying an assistant, or a run, answers 400. */
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
class CodeInterpreterUnavailableSdkTest extends RunEndToEnd {

    @Override
    protected Map<String, String> env() {
        return Map.of("SPINDLE_SANDBOX", "off");
    }

    private static void assertUnavailable(ThrowingCallable call) {
        Throwable thrown = catchThrowable(call);
        assertThat(thrown).isInstanceOf(BadRequestException.class);
        JsonNode error = SdkJson.tree(((BadRequestException) thrown).body());
        error = error.has("error") ? error.get("error") : error;
        assertThat(error.path("type").asText()).isEqualTo("invalid_request_error");
        assertThat(error.path("param").asText()).isEqualTo("tools");
        assertThat(error.path("message").asText()).startsWith("code_interpreter is not available on this server: ")
                .contains("SPINDLE_SANDBOX=off").contains("README");
    }

    @Test
    void creatingAnAssistantWithCodeInterpreterIsRefused() {
        assertUnavailable(() -> sdk().beta().assistants().create(AssistantCreateParams.builder().model("gpt-4o")
                .addTool(CodeInterpreterTool.builder().build()).build()));
    }

    @Test
    void addingCodeInterpreterToAnAssistantIsRefusedAndChangesNothing() {
        Assistant plain = assistant(sdk(), "Be brief.");

        assertUnavailable(() -> sdk().beta().assistants().update(AssistantUpdateParams.builder().assistantId(plain.id())
                .addTool(CodeInterpreterTool.builder().build()).build()));

        assertThat(sdk().beta().assistants().retrieve(plain.id()).tools()).isEmpty();
    }

    @Test
    void aRunThatEnablesCodeInterpreterIsRefusedAndNotCreated() {
        Assistant plain = assistant(sdk(), "Be brief.");
        String threadId = threadWith(sdk(), "Hello");

        assertUnavailable(() -> sdk().beta().threads().runs().create(runOf(plain.id()).threadId(threadId)
                .addTool(CodeInterpreterTool.builder().build()).build()));

        assertThat(api().get("/v1/threads/" + threadId + "/runs").ok().path("data")).isEmpty();
    }
}
