package io.spindle.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.errors.NotFoundException;
import com.openai.models.models.Model;
import io.spindle.testing.SdkJson;
import io.spindle.testing.TestServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /v1/models} and {@code GET /v1/models/{model}} through the official SDK (every body checked against the
 * spec's ListModelsResponse and Model): the models routes name exactly, owned by their route.
 */
class ModelsSdkTest {
    @TempDir
    static Path dir;

    private static TestServer server;
    private static OpenAIClient sdk;

    @BeforeAll
    static void start() throws IOException {
        Path models = Files.writeString(dir.resolve("models.yaml"), """
                routes:
                  - name: azure
                    models: [gpt-4o, gpt-4o-mini]
                    kind: azure
                    base_url: https://acme.openai.azure.com
                    upstream_model: prod-4o
                    api_version: "2024-10-21"
                  - name: vllm
                    models: ["meta-llama/Llama-3.1-8B-Instruct", "llama*"]
                    base_url: http://127.0.0.1:9/v1
                  - name: ollama
                    models: [gpt-4o, "qwen2.5:7b"]
                    base_url: http://127.0.0.1:9/v1
                """);
        server = TestServer.start(TestServer.Storage.SQLITE, Map.of("SPINDLE_MODELS_FILE", models.toString()));
        sdk = server.sdk();
    }

    @AfterAll
    static void stop() {
        sdk.close();
        server.close();
    }

    @Test
    void theListHoldsEveryExactNameInFileOrderOwnedByItsRoute() {
        List<Model> listed = sdk.models().list().data();

        assertThat(listed).extracting(Model::id)
                .as("patterns are not listed; gpt-4o once, on the route that takes it")
                .containsExactly("gpt-4o", "gpt-4o-mini", "meta-llama/Llama-3.1-8B-Instruct", "qwen2.5:7b");
        assertThat(listed).extracting(Model::ownedBy).containsExactly("azure", "azure", "vllm", "ollama");
        assertThat(listed).extracting(Model::created).as("one stable time").containsOnly(listed.getFirst().created());
        assertThat(listed.getFirst().created()).isPositive();
        assertThat(server.api().get("/v1/models").ok().path("object").asText()).isEqualTo("list");
    }

    @Test
    void anyRoutableModelCanBeRetrieved() {
        Model model = sdk.models().retrieve("qwen2.5:7b");
        assertThat(model.id()).isEqualTo("qwen2.5:7b");
        assertThat(model.ownedBy()).isEqualTo("ollama");
        assertThat(model.created()).isEqualTo(sdk.models().list().data().getFirst().created());

        assertThat(sdk.models().retrieve("llama3.2").ownedBy()).as("a pattern's model").isEqualTo("vllm");
        JsonNode slashed = server.api().get("/v1/models/meta-llama/Llama-3.1-8B-Instruct").ok();
        assertThat(slashed.path("id").asText()).isEqualTo("meta-llama/Llama-3.1-8B-Instruct");
        assertThat(slashed.path("object").asText()).isEqualTo("model");
        assertThat(slashed.path("owned_by").asText()).isEqualTo("vllm");
    }

    @Test
    void anUnknownModelIs404() {
        NotFoundException e = catchThrowableOfType(NotFoundException.class, () -> sdk.models().retrieve("mistral-large"));

        JsonNode error = SdkJson.tree(e.body());
        error = error.has("error") ? error.get("error") : error;
        assertThat(error.path("message").asText()).isEqualTo("The model 'mistral-large' does not exist");
        assertThat(error.path("type").asText()).isEqualTo("invalid_request_error");
        assertThat(error.path("param").asText()).isEqualTo("model");
        assertThat(error.path("code").asText()).isEqualTo("model_not_found");
    }

    @Test
    void otherMethodsAre405() {
        assertThat(server.api().post("/v1/models", "{}").status()).isEqualTo(405);
        assertThat(server.api().delete("/v1/models/gpt-4o").status()).isEqualTo(405);
    }

    @Test
    void withoutAModelsFileNothingIsListedAndEveryModelGoesToTheUpstreamUrl() {
        try (TestServer plain = TestServer.start(TestServer.Storage.SQLITE)) {
            OpenAIClient plainSdk = plain.sdk();
            assertThat(plainSdk.models().list().data()).isEmpty();
            assertThat(plainSdk.models().retrieve("gpt-4o").ownedBy()).isEqualTo("default");
            plainSdk.close();
        }
    }
}
