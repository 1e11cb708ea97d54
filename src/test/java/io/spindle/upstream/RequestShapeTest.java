package io.spindle.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindle.api.Json;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@link RequestShape}: the engine's one request as each kind of route takes it. */
class RequestShapeTest {

    /** A route that changes nothing: no alias, reasoning as the run says, sampling sent, system role, images accepted. */
    private static final ModelRoute PLAIN = new ModelRoute("local", List.of("*"), ModelRoute.Kind.OPENAI,
            URI.create("http://127.0.0.1:8000/v1"), Optional.empty(), Optional.empty(), Optional.empty(), 128_000, 0,
            Duration.ofSeconds(120), 2, ModelRoute.Images.ACCEPT, Optional.empty(), false, true);

    @Test
    void aPlainRouteSendsTheBodyAsItIs() throws Exception {
        ObjectNode body = engineBody();

        assertThat(RequestShape.adapt(body, PLAIN)).isEqualTo(engineBody());
    }

    @Test
    void anAliasReplacesTheModel() throws Exception {
        ObjectNode out = RequestShape.adapt(engineBody(), route(PLAIN.kind(), Optional.of("llama3.1:70b"), PLAIN.images(),
                PLAIN.reasoning(), false, true));

        assertThat(out.path("model").asText()).isEqualTo("llama3.1:70b");
        assertThat(without(out, "model")).isEqualTo(without(engineBody(), "model"));
    }

    @Test
    void anAzureRouteSendsItsDeploymentAsTheModel() throws Exception {
        ObjectNode out = RequestShape.adapt(engineBody(), route(ModelRoute.Kind.AZURE, Optional.of("my-gpt4o"), PLAIN.images(),
                PLAIN.reasoning(), false, true));

        assertThat(out.path("model").asText()).isEqualTo("my-gpt4o");
    }

    @Test
    void aReasoningModelGetsMaxCompletionTokensAndItsEffort() throws Exception {
        ModelRoute reasoning = route(PLAIN.kind(), Optional.empty(), PLAIN.images(), Optional.of(true), false, true);
        ObjectNode withMaxTokens = engineBody();
        withMaxTokens.set("max_tokens", withMaxTokens.remove("max_completion_tokens"));

        ObjectNode fromEngine = RequestShape.adapt(engineBody(), reasoning);
        ObjectNode renamed = RequestShape.adapt(withMaxTokens, reasoning);

        assertThat(fromEngine).isEqualTo(engineBody());
        assertThat(renamed.path("max_completion_tokens").asInt()).isEqualTo(500);
        assertThat(renamed.has("max_tokens")).isFalse();
        assertThat(renamed.path("reasoning_effort").asText()).isEqualTo("low");
    }

    @Test
    void aModelThatIsNotForReasoningGetsMaxTokensAndNoEffort() throws Exception {
        ObjectNode out = RequestShape.adapt(engineBody(), route(PLAIN.kind(), Optional.empty(), PLAIN.images(),
                Optional.of(false), false, true));

        assertThat(out.path("max_tokens").asInt()).isEqualTo(500);
        assertThat(out.has("max_completion_tokens")).isFalse();
        assertThat(out.has("reasoning_effort")).isFalse();
        assertThat(without(out, "max_tokens")).isEqualTo(without(engineBody(), "max_completion_tokens", "reasoning_effort"));
    }

    @Test
    void noTokenLimitStaysNoTokenLimit() throws Exception {
        ObjectNode unlimited = without(engineBody(), "max_completion_tokens");

        for (boolean reasoning : new boolean[] {true, false}) {
            ObjectNode out = RequestShape.adapt(unlimited, route(PLAIN.kind(), Optional.empty(), PLAIN.images(),
                    Optional.of(reasoning), false, true));
            assertThat(out.has("max_tokens")).isFalse();
            assertThat(out.has("max_completion_tokens")).isFalse();
        }
    }

    @Test
    void withoutSamplingTemperatureAndTopPAreNotSent() throws Exception {
        ObjectNode out = RequestShape.adapt(engineBody(), route(PLAIN.kind(), Optional.empty(), PLAIN.images(),
                PLAIN.reasoning(), false, false));

        assertThat(out).isEqualTo(without(engineBody(), "temperature", "top_p"));
    }

    @Test
    void theDeveloperRoleReplacesTheSystemRoleOnly() throws Exception {
        ObjectNode out = RequestShape.adapt(engineBody(), route(PLAIN.kind(), Optional.empty(), PLAIN.images(),
                PLAIN.reasoning(), true, true));

        assertThat(out.path("messages").findValuesAsText("role")).containsExactly("developer", "user", "assistant", "user");
        assertThat(out.path("messages").get(0).path("content").asText()).isEqualTo("Be brief.");
    }

    @Test
    void imagesReachARouteThatAcceptsThem() throws Exception {
        assertThat(RequestShape.adapt(withImages(), PLAIN)).isEqualTo(withImages());
    }

    @Test
    void aRouteThatRefusesImagesFailsThePromptNamingModelAndRoute() {
        ModelRoute refuse = route(PLAIN.kind(), Optional.of("llama3.1:8b"), ModelRoute.Images.REFUSE, PLAIN.reasoning(), false, true);

        UpstreamException e = catchThrowableOfType(UpstreamException.class, () -> RequestShape.adapt(withImages(), refuse));

        assertThat(e).isNotNull();
        assertThat(e.kind()).isEqualTo(UpstreamException.Kind.INVALID_PROMPT);
        assertThat(e.kind().code).isEqualTo("invalid_prompt");
        assertThat(e.getMessage()).startsWith("The model 'gpt-4o' (route 'local') does not accept images; ");
    }

    @Test
    void aRouteThatRefusesImagesTakesAPromptWithoutThem() throws Exception {
        ModelRoute refuse = route(PLAIN.kind(), Optional.empty(), ModelRoute.Images.REFUSE, PLAIN.reasoning(), false, true);

        assertThat(RequestShape.adapt(engineBody(), refuse)).isEqualTo(engineBody());
    }

    @Test
    void aPlaceholderRouteGetsTextInsteadOfEachImage() throws Exception {
        ModelRoute placeholder = route(PLAIN.kind(), Optional.empty(), ModelRoute.Images.PLACEHOLDER, PLAIN.reasoning(), false, true);

        ObjectNode out = RequestShape.adapt(withImages(), placeholder);

        JsonNode parts = out.path("messages").get(3).path("content");
        assertThat(parts).hasSize(3);
        assertThat(parts.get(0)).isEqualTo(Json.object().put("type", "text").put("text", "What is in these?"));
        assertThat(parts.get(1)).isEqualTo(Json.object().put("type", "text").put("text", RequestShape.IMAGE_PLACEHOLDER));
        assertThat(parts.get(2)).isEqualTo(parts.get(1));
        assertThat(out.findValues("image_url")).isEmpty();
        ObjectNode rest = out.deepCopy();
        ((ArrayNode) rest.path("messages")).remove(3);
        ObjectNode restBefore = withImages();
        ((ArrayNode) restBefore.path("messages")).remove(3);
        assertThat(rest).isEqualTo(restBefore);
    }

    @Test
    void theCallersBodyIsNeverChanged() throws Exception {
        ModelRoute everything = route(ModelRoute.Kind.OPENAI, Optional.of("alias"), ModelRoute.Images.PLACEHOLDER,
                Optional.of(false), true, false);
        ObjectNode body = withImages();

        ObjectNode out = RequestShape.adapt(body, everything);

        assertThat(out).isNotEqualTo(withImages());
        assertThat(body).isEqualTo(withImages());
    }

    // ----- helpers -----------------------------------------------------------------------------------------------

    private static ModelRoute route(ModelRoute.Kind kind, Optional<String> upstreamModel, ModelRoute.Images images,
                                    Optional<Boolean> reasoning, boolean developerRole, boolean sampling) {
        return new ModelRoute(PLAIN.name(), PLAIN.models(), kind, PLAIN.baseUrl(), PLAIN.apiKey(), upstreamModel,
                kind == ModelRoute.Kind.AZURE ? Optional.of("2024-10-21") : Optional.empty(), PLAIN.contextTokens(),
                PLAIN.maxConcurrent(), PLAIN.timeout(), PLAIN.retries(), images, reasoning, developerRole, sampling);
    }

    /** A body as engine/Prompt builds it: instructions as a system message, a finished exchange, every option set. */
    private static ObjectNode engineBody() {
        ObjectNode body = Json.object().put("model", "gpt-4o").put("stream", true);
        body.putObject("stream_options").put("include_usage", true);
        ArrayNode messages = body.putArray("messages");
        messages.addObject().put("role", "system").put("content", "Be brief.");
        messages.addObject().put("role", "user").put("content", "Hi");
        messages.addObject().put("role", "assistant").put("content", "Hello.");
        messages.addObject().put("role", "user").put("content", "Weather?");
        body.put("temperature", 0.2).put("top_p", 0.9).put("reasoning_effort", "low").put("max_completion_tokens", 500);
        return body;
    }

    /** {@link #engineBody()} whose last user message holds text and two images (a URL with detail, a data URL). */
    private static ObjectNode withImages() {
        ObjectNode body = engineBody();
        ArrayNode parts = ((ObjectNode) body.path("messages").get(3)).putArray("content");
        parts.addObject().put("type", "text").put("text", "What is in these?");
        parts.addObject().put("type", "image_url").putObject("image_url").put("url", "https://example.com/cat.png").put("detail", "low");
        parts.addObject().put("type", "image_url").putObject("image_url").put("url", "data:image/png;base64,iVBORw0KGgo=");
        return body;
    }

    private static ObjectNode without(ObjectNode body, String... keys) {
        ObjectNode copy = body.deepCopy();
        copy.remove(List.of(keys));
        return copy;
    }
}
