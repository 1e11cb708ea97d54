package io.spindle.engine;

import static io.spindle.testing.SdkRuns.createRun;
import static io.spindle.testing.SdkRuns.messagesOf;
import static io.spindle.testing.SdkRuns.pollFor;
import static io.spindle.testing.SdkRuns.runOf;
import static io.spindle.testing.SdkThreads.text;
import static io.spindle.testing.SdkThreads.threadWith;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.models.beta.assistants.AssistantCreateParams;
import com.openai.models.beta.threads.ThreadCreateParams;
import com.openai.models.ReasoningEffort;
import com.openai.models.beta.threads.messages.ImageUrl;
import com.openai.models.beta.threads.messages.ImageUrlContentBlock;
import com.openai.models.beta.threads.messages.MessageContentPartParam;
import com.openai.models.beta.threads.messages.TextContentBlockParam;
import com.openai.models.beta.threads.runs.Run;
import com.openai.models.beta.threads.runs.RunStatus;
import io.spindle.testing.FakeUpstream;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.TestServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a route of the models file does to the runs it serves, through the official SDK: Azure's request shape, images
 * refused or replaced, a reasoning model's parameters, a concurrency cap that queues calls, and a circuit breaker that
 * fails runs fast while an endpoint keeps failing and lets them through again once it answers.
 */
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
class RouteBehaviourSdkTest {
    private static final String AZURE_KEY = "0123456789abcdef0123456789abcdef";

    @TempDir
    static Path dir;

    private static FakeUpstream azure;
    private static FakeUpstream local;
    private static FakeUpstream narrow;
    private static FakeUpstream flaky;
    private static TestServer server;
    private static OpenAIClient sdk;

    @BeforeAll
    static void start() throws IOException {
        azure = FakeUpstream.start().respondWith(body -> Reply.text("from Azure"));
        local = FakeUpstream.start().respondWith(body -> Reply.text("from local"));
        narrow = FakeUpstream.start();
        flaky = FakeUpstream.start().respondWith(body -> Reply.error(500, "the flaky endpoint is down"));
        String azureResource = azure.baseUrl().replaceFirst("/v1$", "");
        Path models = Files.writeString(dir.resolve("models.yaml"), """
                routes:
                  - name: azure
                    models: [azure-gpt-4o]
                    kind: azure
                    base_url: %s
                    api_key: %s
                    upstream_model: my-gpt4o
                    api_version: 2024-10-21
                  - name: text-only
                    models: [text-only]
                    base_url: %s
                    images: refuse
                  - name: lenient
                    models: [lenient]
                    base_url: %s
                    images: placeholder
                  - name: o-series
                    models: [o3-mini]
                    base_url: %s
                    reasoning: true
                    developer_role: true
                    sampling: false
                  - name: old-server
                    models: [old-llama]
                    base_url: %s
                    reasoning: false
                  - name: narrow
                    models: [narrow]
                    base_url: %s
                    max_concurrent: 1
                  - name: flaky
                    models: [flaky]
                    base_url: %s
                """.formatted(azureResource, AZURE_KEY, local.baseUrl(), local.baseUrl(), local.baseUrl(), local.baseUrl(),
                narrow.baseUrl(), flaky.baseUrl()));
        server = TestServer.start(TestServer.Storage.SQLITE, Map.of("SPINDLE_MODELS_FILE", models.toString(),
                "SPINDLE_POLL_AFTER_MS", "50", "SPINDLE_UPSTREAM_RETRIES", "0",
                "SPINDLE_UPSTREAM_BREAKER_FAILURES", "2", "SPINDLE_UPSTREAM_BREAKER_SECONDS", "1"));
        sdk = server.sdk();
    }

    @AfterAll
    static void stop() {
        sdk.close();
        server.close();
        for (FakeUpstream f : List.of(azure, local, narrow, flaky)) {
            f.close();
        }
    }

    private static String assistant(String model) {
        return sdk.beta().assistants().create(AssistantCreateParams.builder().model(model).instructions("Be brief.")
                .temperature(0.5).build()).id();
    }

    private static Run finished(String model, String threadId, RunStatus status) {
        return pollFor(sdk, createRun(sdk, threadId, assistant(model)), status);
    }

    @Test
    void anAzureRouteCallsItsDeploymentWithApiVersionAndApiKey() {
        Run run = finished("azure-gpt-4o", threadWith(sdk, "Hi"), RunStatus.COMPLETED);

        assertThat(text(messagesOf(sdk, run).getFirst())).isEqualTo("from Azure");
        FakeUpstream.Received call = azure.received().getLast();
        assertThat(call.target()).isEqualTo("/openai/deployments/my-gpt4o/chat/completions?api-version=2024-10-21");
        assertThat(call.header("api-key")).isEqualTo(AZURE_KEY);
        assertThat(call.header("Authorization")).isNull();
    }

    private static String threadWithImage() {
        return sdk.beta().threads().create(ThreadCreateParams.builder().addMessage(ThreadCreateParams.Message.builder()
                .role(ThreadCreateParams.Message.Role.USER)
                .contentOfArrayOfContentParts(List.of(
                        MessageContentPartParam.ofText(TextContentBlockParam.builder()
                                .text("What is in this picture?").build()),
                        MessageContentPartParam.ofImageUrl(ImageUrlContentBlock.builder().imageUrl(ImageUrl.builder()
                                .url("https://example.com/cat.png").build()).build())))
                .build()).build()).id();
    }

    @Test
    void aRouteThatRefusesImagesFailsTheRunClearlyWithoutCallingTheModel() {
        int before = local.requestCount();

        Run run = finished("text-only", threadWithImage(), RunStatus.FAILED);

        Run.LastError error = run.lastError().orElseThrow();
        assertThat(error.code()).isEqualTo(Run.LastError.Code.INVALID_PROMPT);
        assertThat(error.message()).contains("'text-only'").contains("does not accept images");
        assertThat(local.requestCount()).isEqualTo(before);
    }

    @Test
    void aRouteWithPlaceholdersSendsTextInsteadOfTheImage() {
        Run run = finished("lenient", threadWithImage(), RunStatus.COMPLETED);

        JsonNode content = local.lastRequest().path("messages").path(1).path("content");
        assertThat(run.model()).isEqualTo("lenient");
        assertThat(content.toString()).doesNotContain("image_url").doesNotContain("cat.png").contains("image omitted");
    }

    @Test
    void aReasoningRouteGetsDeveloperInstructionsMaxCompletionTokensAndNoSampling() {
        String thread = threadWith(sdk, "Think.");
        pollFor(sdk, createRun(sdk, thread, runOf(assistant("o3-mini")).maxCompletionTokens(500L)
                .reasoningEffort(ReasoningEffort.HIGH)), RunStatus.COMPLETED);

        JsonNode sent = local.lastRequest();
        assertThat(sent.path("messages").path(0).path("role").asText()).isEqualTo("developer");
        assertThat(sent.path("max_completion_tokens").asInt()).isEqualTo(500);
        assertThat(sent.path("reasoning_effort").asText()).isEqualTo("high");
        assertThat(sent.has("temperature")).isFalse();

        pollFor(sdk, createRun(sdk, threadWith(sdk, "Answer."), runOf(assistant("old-llama")).maxCompletionTokens(300L)
                .reasoningEffort(ReasoningEffort.LOW)), RunStatus.COMPLETED);
        JsonNode old = local.lastRequest();
        assertThat(old.path("max_tokens").asInt()).isEqualTo(300);
        assertThat(old.has("max_completion_tokens")).isFalse();
        assertThat(old.has("reasoning_effort")).isFalse();
        assertThat(old.path("messages").path(0).path("role").asText()).isEqualTo("system");
        assertThat(old.path("temperature").asDouble()).isEqualTo(0.5);
    }

    @Test
    void aConcurrencyCapOfOneQueuesTheSecondCallUntilTheFirstEnds() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        narrow.respondWith(body -> {
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Reply.text("one at a time");
        });
        String assistant = assistant("narrow");
        Run first = createRun(sdk, threadWith(sdk, "First"), assistant);
        Run second = createRun(sdk, threadWith(sdk, "Second"), assistant);

        assertThat(narrow.awaitRequests(1, Duration.ofSeconds(20))).isTrue();
        Thread.sleep(500);
        assertThat(narrow.requestCount()).as("the second call waits for the first").isEqualTo(1);
        release.countDown();

        for (Run run : List.of(first, second)) {
            assertThat(text(messagesOf(sdk, pollFor(sdk, run, RunStatus.COMPLETED)).getFirst())).isEqualTo("one at a time");
        }
        assertThat(narrow.requestCount()).isEqualTo(2);
    }

    @Test
    void aFailingEndpointOpensTheBreakerThenATrialCallClosesIt() throws Exception {
        flaky.respondWith(body -> Reply.error(500, "the flaky endpoint is down"));
        int before = flaky.requestCount();
        for (int i = 0; i < 2; i++) {
            Run failed = finished("flaky", threadWith(sdk, "Try " + i), RunStatus.FAILED);
            assertThat(failed.lastError().orElseThrow().code()).isEqualTo(Run.LastError.Code.SERVER_ERROR);
        }

        Run fast = finished("flaky", threadWith(sdk, "Again"), RunStatus.FAILED);

        assertThat(fast.lastError().orElseThrow().message()).contains("route 'flaky'").contains("2 times in a row");
        assertThat(flaky.requestCount() - before).as("the open breaker did not call the endpoint").isEqualTo(2);

        flaky.respondWith(body -> Reply.text("back"));
        Thread.sleep(1_100);
        Run back = finished("flaky", threadWith(sdk, "Now?"), RunStatus.COMPLETED);
        assertThat(text(messagesOf(sdk, back).getFirst())).isEqualTo("back");
        assertThat(flaky.requestCount() - before).isEqualTo(3);
    }
}
