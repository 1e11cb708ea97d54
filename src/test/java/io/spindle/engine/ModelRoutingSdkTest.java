package io.spindle.engine;

import static io.spindle.testing.SdkRuns.createRun;
import static io.spindle.testing.SdkRuns.messagesOf;
import static io.spindle.testing.SdkRuns.pollFor;
import static io.spindle.testing.SdkRuns.runOf;
import static io.spindle.testing.SdkRuns.runs;
import static io.spindle.testing.SdkThreads.threadWith;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.errors.BadRequestException;
import com.openai.models.beta.assistants.Assistant;
import com.openai.models.beta.assistants.AssistantCreateParams;
import com.openai.models.beta.assistants.AssistantUpdateParams;
import com.openai.models.beta.threads.ThreadCreateAndRunParams;
import com.openai.models.beta.threads.runs.Run;
import com.openai.models.beta.threads.runs.RunStatus;
import io.spindle.Settings;
import io.spindle.testing.FakeUpstream;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.SdkJson;
import io.spindle.testing.TestServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs of different models reach different upstreams at once, through a models file and no catch-all: each with its
 * route's key and model name (alias), its context window, and a 400 naming {@code model} for a model without a route.
 */
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
class ModelRoutingSdkTest {
    private static final String KEY_A = "sk-route-a";
    private static final String KEY_B = "sk-route-b-from-env";

    @TempDir
    static Path dir;

    private static FakeUpstream a;
    private static FakeUpstream b;
    private static TestServer server;
    private static OpenAIClient sdk;

    @BeforeAll
    static void start() throws IOException {
        a = FakeUpstream.start();
        b = FakeUpstream.start();
        Path models = Files.writeString(dir.resolve("models.json"), """
                {"routes": [
                  {"name": "openai", "models": ["gpt-4o"], "base_url": "%s", "api_key": "%s"},
                  {"name": "vllm", "models": ["llama*"], "base_url": "%s", "api_key_env": "LOCAL_LLM_KEY"},
                  {"name": "aliased", "models": ["gpt-4o-mini"], "base_url": "%s", "api_key_env": "LOCAL_LLM_KEY",
                   "upstream_model": "llama3.1:70b"},
                  {"name": "tiny", "models": ["tiny-model"], "base_url": "%s", "context_tokens": 1000}
                ]}
                """.formatted(a.baseUrl(), KEY_A, b.baseUrl(), b.baseUrl(), b.baseUrl()));
        server = TestServer.start(TestServer.Storage.SQLITE, Map.of("SPINDLE_MODELS_FILE", models.toString(),
                "LOCAL_LLM_KEY", KEY_B, "SPINDLE_POLL_AFTER_MS", "50", "SPINDLE_UPSTREAM_RETRIES", "0"));
        sdk = server.sdk();
    }

    @AfterAll
    static void stop() {
        sdk.close();
        server.close();
        a.close();
        b.close();
    }

    @BeforeEach
    void answerByUpstream() {
        a.respondWith(body -> Reply.text("from A"));
        b.respondWith(body -> Reply.text("from B"));
    }

    @Test
    void eachAssistantsRunsReachTheirOwnUpstreamWithItsKey() {
        int aBefore = a.requestCount();
        int bBefore = b.requestCount();
        Assistant onA = assistant("gpt-4o");
        Assistant onB = assistant("llama3.2");

        Run runA = pollFor(sdk, createRun(sdk, threadWith(sdk, "Hi A"), onA.id()), RunStatus.COMPLETED);
        Run runB = pollFor(sdk, createRun(sdk, threadWith(sdk, "Hi B"), onB.id()), RunStatus.COMPLETED);

        assertThat(answer(runA)).isEqualTo("from A");
        assertThat(answer(runB)).isEqualTo("from B");
        assertThat(a.requestCount() - aBefore).isEqualTo(1);
        assertThat(b.requestCount() - bBefore).isEqualTo(1);
        assertThat(a.lastRequest().path("model").asText()).isEqualTo("gpt-4o");
        assertThat(a.lastRequestHeader("Authorization")).isEqualTo("Bearer " + KEY_A);
        assertThat(b.lastRequest().path("model").asText()).isEqualTo("llama3.2");
        assertThat(b.lastRequestHeader("Authorization")).as("api_key_env").isEqualTo("Bearer " + KEY_B);
    }

    @Test
    void anAliasIsWhatTheUpstreamSeesWhileTheRunKeepsItsModel() {
        Run run = pollFor(sdk, createRun(sdk, threadWith(sdk, "Hi"), assistant("gpt-4o-mini").id()), RunStatus.COMPLETED);

        assertThat(run.model()).isEqualTo("gpt-4o-mini");
        assertThat(b.lastRequest().path("model").asText()).isEqualTo("llama3.1:70b");
        assertThat(answer(run)).isEqualTo("from B");
    }

    @Test
    void aRunsOwnModelPicksTheRoute() {
        Run run = pollFor(sdk, createRun(sdk, threadWith(sdk, "Hi"), runOf(assistant("gpt-4o").id()).model("llama-guard")),
                RunStatus.COMPLETED);

        assertThat(run.model()).isEqualTo("llama-guard");
        assertThat(answer(run)).isEqualTo("from B");
        assertThat(b.lastRequest().path("model").asText()).isEqualTo("llama-guard");
    }

    @Test
    void aRunOfAModelWithoutARouteIsRefusedNamingModel() {
        int calls = a.requestCount() + b.requestCount();
        String threadId = threadWith(sdk, "Hi");
        String assistantId = assistant("gpt-4o").id();

        assertModelRefused(() -> createRun(sdk, threadId, runOf(assistantId).model("mistral-large")), "mistral-large");
        assertModelRefused(() -> sdk.beta().threads().createAndRun(ThreadCreateAndRunParams.builder()
                .assistantId(assistantId).model("claude-3").build()), "claude-3");
        assertThat(runs(sdk, threadId)).as("no run was made").isEmpty();
        assertThat(a.requestCount() + b.requestCount()).isEqualTo(calls);
    }

    @Test
    void anAssistantOfAModelWithoutARouteIsRefusedAtCreateAndModify() {
        assertModelRefused(() -> assistant("mistral-large"), "mistral-large");

        Assistant assistant = assistant("gpt-4o");
        assertModelRefused(() -> sdk.beta().assistants().update(assistant.id(),
                AssistantUpdateParams.builder().model("mistral-large").build()), "mistral-large");
        Assistant renamed = sdk.beta().assistants().update(assistant.id(), AssistantUpdateParams.builder().name("kept").build());
        assertThat(renamed.model()).isEqualTo("gpt-4o");
    }

    @Test
    void thePromptFitsTheRoutesContextWindow() {
        String longText = "word ".repeat(600);
        String threadId = threadWith(sdk, "first " + longText, "second " + longText, "third " + longText);

        pollFor(sdk, createRun(sdk, threadId, assistant("llama3").id()), RunStatus.COMPLETED);
        JsonNode wide = b.lastRequest().path("messages");
        pollFor(sdk, createRun(sdk, threadId, assistant("tiny-model").id()), RunStatus.COMPLETED);
        JsonNode narrow = b.lastRequest().path("messages");

        assertThat(userTexts(wide)).as("128,000 tokens: every message").hasSize(3);
        assertThat(userTexts(narrow)).as("1,000 tokens: only the newest message fits").hasSize(1);
        assertThat(userTexts(narrow).getFirst()).startsWith("third");
    }

    @Test
    void aBadModelsFileStopsStartWithOneLineNamingTheSettingRouteAndField() throws IOException {
        Path bad = Files.writeString(dir.resolve("bad.json"), """
                {"routes": [{"name": "local", "models": ["llama3"], "base_url": "http://127.0.0.1:11434/v1", "images": "yes"}]}
                """);
        Throwable thrown = catchThrowable(() -> TestServer.start(TestServer.Storage.SQLITE,
                Map.of("SPINDLE_MODELS_FILE", bad.toString())).close());
        assertThat(thrown).isInstanceOf(Settings.Invalid.class).hasMessage("SPINDLE_MODELS_FILE " + bad
                + ": route 'local': images must be one of accept, refuse, placeholder, got 'yes'");
    }

    private static List<String> userTexts(JsonNode messages) {
        return messages.valueStream().filter(m -> m.path("role").asText().equals("user"))
                .map(m -> m.path("content").isTextual() ? m.path("content").asText() : m.path("content").toString()).toList();
    }

    private static void assertModelRefused(ThrowingCallable call, String model) {
        Throwable thrown = catchThrowable(call);
        assertThat(thrown).isInstanceOf(BadRequestException.class);
        JsonNode error = SdkJson.tree(((BadRequestException) thrown).body());
        error = error.has("error") ? error.get("error") : error;
        assertThat(error.path("message").asText()).isEqualTo("The requested model '" + model + "' does not exist.");
        assertThat(error.path("param").asText()).isEqualTo("model");
        assertThat(error.path("code").asText()).isEqualTo("model_not_found");
        assertThat(error.path("type").asText()).isEqualTo("invalid_request_error");
    }

    private static Assistant assistant(String model) {
        return sdk.beta().assistants().create(AssistantCreateParams.builder().model(model).build());
    }

    private static String answer(Run run) {
        return messagesOf(sdk, run).getFirst().content().getFirst().asText().text().value();
    }
}
