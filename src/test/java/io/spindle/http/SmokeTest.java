package io.spindle.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.OpenAIClient;
import com.openai.models.beta.assistants.Assistant;
import com.openai.models.beta.assistants.AssistantCreateParams;
import io.spindle.testing.TestServer;
import org.junit.jupiter.api.Test;

class SmokeTest {
    @Test
    void sdkCreatesAndReadsAnAssistant() {
        try (TestServer server = TestServer.start(TestServer.Storage.SQLITE)) {
            OpenAIClient client = server.sdk();
            Assistant created = client.beta().assistants().create(AssistantCreateParams.builder().model("gpt-4o").name("a").build());
            Assistant read = client.beta().assistants().retrieve(created.id());
            assertThat(read.name()).contains("a");
            assertThat(server.api().get("/v1/assistants/" + created.id()).ok().get("model").asText()).isEqualTo("gpt-4o");
        }
    }
}
