package io.spindle.engine;

import static io.spindle.testing.SdkJson.tree;
import static io.spindle.testing.SdkRuns.createRun;
import static io.spindle.testing.SdkRuns.messagesOf;
import static io.spindle.testing.SdkRuns.pendingCallIds;
import static io.spindle.testing.SdkRuns.pollFor;
import static io.spindle.testing.SdkRuns.submit;
import static io.spindle.testing.SdkThreads.threadWith;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.core.http.StreamResponse;
import com.openai.models.beta.assistants.AssistantStreamEvent;
import com.openai.models.beta.assistants.FileSearchTool;
import com.openai.models.beta.assistants.Assistant;
import com.openai.models.beta.assistants.AssistantCreateParams;
import com.openai.models.beta.threads.messages.Message;
import com.openai.models.beta.threads.runs.Run;
import com.openai.models.beta.threads.runs.RunCreateParams;
import com.openai.models.beta.threads.runs.RunStatus;
import com.openai.models.beta.threads.runs.steps.RunStep;
import com.openai.models.beta.threads.runs.steps.RunStepInclude;
import com.openai.models.beta.threads.runs.steps.StepListParams;
import com.openai.models.beta.threads.runs.steps.StepRetrieveParams;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.FakeUpstream.ToolCall;
import io.spindle.testing.RunEndToEnd;
import io.spindle.testing.SdkJson;
import io.spindle.testing.SdkRuns;
import io.spindle.testing.SseEvents;
import io.spindle.testing.StreamReplay;
import io.spindle.testing.TestServer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * file_search inside runs through the official SDK, on both storages: the model (scripted) calls the search tool, the
 * run executes it against the assistant's vector store (real ingestion and search), the model reads the results and
 * answers with a citation marker that becomes a {@code file_citation} annotation; steps show the results, with their
 * content only for {@code include[]}.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(TestServer.Storage.class)
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
class FileSearchSdkTest extends RunEndToEnd {
    private static final String FOODS = """
            The favorite food of several people:
            - Summanus Ferdinand: tacos
            - Tekakwitha Effie: pizza
            - Filip Carola: cake
            """;
    private static final String INCLUDE = "include[]=step_details.tool_calls%5B%2A%5D.file_search.results%5B%2A%5D.content";

    @Parameter
    TestServer.Storage storage;

    @Override
    protected TestServer.Storage storage() {
        return storage;
    }

    private record Library(String fileId, String vectorStoreId, Assistant assistant) {}

    /** A file in a vector store (ingested), and an assistant with file_search over it. */
    private Library library(String... functions) throws InterruptedException {
        String fileId = api().uploadFile("assistants", "favorite_foods.txt", FOODS.getBytes(StandardCharsets.UTF_8));
        String storeId = api().post("/v1/vector_stores", "{\"file_ids\": [\"" + fileId + "\"]}").ok().path("id").asText();
        api().await("/v1/vector_stores/" + storeId, s -> s.path("status").asText().equals("completed"), Duration.ofSeconds(60));
        AssistantCreateParams.Builder params = AssistantCreateParams.builder().model("gpt-4o")
                .addTool(FileSearchTool.builder().build())
                .toolResources(AssistantCreateParams.ToolResources.builder()
                        .fileSearch(AssistantCreateParams.ToolResources.FileSearch.builder().addVectorStoreId(storeId).build())
                        .build());
        for (String f : functions) {
            params.addTool(SdkRuns.functionTool(f));
        }
        return new Library(fileId, storeId, sdk().beta().assistants().create(params.build()));
    }

    private static Reply search(String query) {
        return Reply.toolCalls(new ToolCall("call_up_search", "file_search", "{\"queries\": [\"" + query + "\"]}"));
    }

    @Test
    void thePolledRunSearchesTheAssistantsStoreAndCitesTheResult() throws InterruptedException {
        Library lib = library();
        String threadId = threadWith(sdk(), "Using the files you have available, what's Filip's favorite food?");
        String answer = "Filip's favorite food is cake【0:0†favorite_foods.txt】.";
        script(search("Filip favorite food").withUsage(100, 10), Reply.text(answer).withUsage(300, 12));

        Run run = pollFor(sdk(), createRun(sdk(), threadId, lib.assistant().id()), RunStatus.COMPLETED);

        assertThat(run.usage().orElseThrow().totalTokens()).isEqualTo(422);
        List<JsonNode> steps = api().get("/v1/threads/" + threadId + "/runs/" + run.id() + "/steps?order=asc").ok().path("data")
                .valueStream().toList();
        assertThat(steps).extracting(s -> s.path("type").asText()).containsExactly("tool_calls", "message_creation");
        JsonNode call = steps.getFirst().path("step_details").path("tool_calls").path(0);
        assertThat(call.path("id").asText()).matches("call_[A-Za-z0-9]{24}");
        assertThat(call.path("type").asText()).isEqualTo("file_search");
        assertThat(call.path("file_search").path("ranking_options"))
                .isEqualTo(SdkJson.json("{\"ranker\": \"default_2024_08_21\", \"score_threshold\": 0.0}"));
        JsonNode result = call.path("file_search").path("results").path(0);
        assertThat(result.path("file_id").asText()).isEqualTo(lib.fileId());
        assertThat(result.path("file_name").asText()).isEqualTo("favorite_foods.txt");
        assertThat(result.path("score").asDouble()).isBetween(0.0, 1.0);
        assertThat(result.path("attributes")).isEqualTo(SdkJson.json("{}"));
        assertThat(result.has("content")).as("content only with include[]").isFalse();
        assertThat(call.has("spindle")).as("what only Spindle reads stays inside").isFalse();
        assertThat(steps.getFirst().path("usage").path("total_tokens").asLong()).isEqualTo(110);

        JsonNode included = api().get("/v1/threads/" + threadId + "/runs/" + run.id() + "/steps/" + steps.getFirst().path("id").asText()
                + "?" + INCLUDE).ok();
        assertThat(included.path("step_details").path("tool_calls").path(0).path("file_search").path("results").path(0)
                .path("content").path(0).path("text").asText()).contains("Filip Carola: cake");

        JsonNode second = upstreamRequests().get(1);
        JsonNode messages = second.path("messages");
        JsonNode toolMessage = messages.get(messages.size() - 1);
        assertThat(toolMessage.path("role").asText()).isEqualTo("tool");
        assertThat(toolMessage.path("content").asText()).contains("【0:0†favorite_foods.txt】").contains("Filip Carola: cake");
        JsonNode assistantCall = messages.get(messages.size() - 2).path("tool_calls").path(0);
        assertThat(assistantCall.path("function").path("name").asText()).isEqualTo("file_search");
        assertThat(assistantCall.path("function").path("arguments").asText()).contains("Filip favorite food");
        assertThat(assistantCall.path("id").asText()).isEqualTo(toolMessage.path("tool_call_id").asText());

        Message message = messagesOf(sdk(), run).getFirst();
        JsonNode text = tree(message).path("content").path(0).path("text");
        assertThat(text.path("value").asText()).isEqualTo(answer);
        assertThat(text.path("annotations")).isEqualTo(SdkJson.json("""
                [{"type": "file_citation", "text": "【0:0†favorite_foods.txt】", "start_index": 29, "end_index": 53,
                  "file_citation": {"file_id": "%s"}}]""".formatted(lib.fileId())));
    }

    @Test
    void theSdksIncludeOptionShowsResultContentOnStepsListAndRetrieve() throws InterruptedException {
        Library lib = library();
        String threadId = threadWith(sdk(), "What does Tekakwitha like?");
        script(search("Tekakwitha"), Reply.text("Pizza【0:0†favorite_foods.txt】"));
        Run run = pollFor(sdk(), sdk().beta().threads().runs().create(RunCreateParams.builder().threadId(threadId)
                .assistantId(lib.assistant().id()).addInclude(RunStepInclude.STEP_DETAILS_TOOL_CALLS_FILE_SEARCH_RESULTS_CONTENT)
                .build()), RunStatus.COMPLETED);

        List<RunStep> listed = sdk().beta().threads().runs().steps().list(StepListParams.builder().threadId(threadId).runId(run.id())
                .addInclude(RunStepInclude.STEP_DETAILS_TOOL_CALLS_FILE_SEARCH_RESULTS_CONTENT).build()).data();
        RunStep searchStep = listed.getLast();
        JsonNode listedResult = tree(searchStep).path("step_details").path("tool_calls").path(0).path("file_search").path("results").path(0);
        assertThat(listedResult.path("content").path(0).path("type").asText()).isEqualTo("text");
        assertThat(listedResult.path("content").path(0).path("text").asText()).contains("Tekakwitha Effie: pizza");

        RunStep retrieved = sdk().beta().threads().runs().steps().retrieve(StepRetrieveParams.builder().threadId(threadId)
                .runId(run.id()).stepId(searchStep.id()).addInclude(RunStepInclude.STEP_DETAILS_TOOL_CALLS_FILE_SEARCH_RESULTS_CONTENT)
                .build());
        assertThat(tree(retrieved)).isEqualTo(tree(searchStep));
        RunStep plain = sdk().beta().threads().runs().steps().retrieve(StepRetrieveParams.builder().threadId(threadId)
                .runId(run.id()).stepId(searchStep.id()).build());
        assertThat(tree(plain).path("step_details").path("tool_calls").path(0).path("file_search").path("results").path(0)
                .has("content")).isFalse();
    }

    @Test
    void citationIndicesCountCodePointsAfterEmojiAndAccents() throws InterruptedException {
        Library lib = library();
        String threadId = threadWith(sdk(), "Qu'aime Filip ?");
        String marker = "【0:0†favorite_foods.txt】";
        String answer = "Café crème ☕ 😀🎂 : Filip préfère le gâteau" + marker + " 🍰 et voilà" + marker;
        script(search("Filip"), Reply.text(answer).withPieceSize(3));

        Run run = pollFor(sdk(), createRun(sdk(), threadId, lib.assistant().id()), RunStatus.COMPLETED);

        JsonNode text = tree(messagesOf(sdk(), run).getFirst()).path("content").path(0).path("text");
        String value = text.path("value").asText();
        assertThat(value).isEqualTo(answer);
        JsonNode annotations = text.path("annotations");
        assertThat(annotations).hasSize(2);
        int[] codePoints = value.codePoints().toArray();
        for (JsonNode a : annotations) {
            int start = a.path("start_index").asInt();
            int end = a.path("end_index").asInt();
            assertThat(new String(codePoints, start, end - start)).isEqualTo(marker).isEqualTo(a.path("text").asText());
            assertThat(a.path("file_citation").path("file_id").asText()).isEqualTo(lib.fileId());
        }
        assertThat(annotations.path(0).path("start_index").asInt()).isEqualTo(answer.codePointCount(0, answer.indexOf(marker)));
    }

    @Test
    void aMarkerThatCitesNothingRetrievedStaysPlainText() throws InterruptedException {
        Library lib = library();
        String threadId = threadWith(sdk(), "Who likes tacos?");
        String answer = "Summanus【0:0†favorite_foods.txt】, not the one in【7:3†other.pdf】.";
        script(search("tacos"), Reply.text(answer));

        Run run = pollFor(sdk(), createRun(sdk(), threadId, lib.assistant().id()), RunStatus.COMPLETED);

        JsonNode annotations = tree(messagesOf(sdk(), run).getFirst()).path("content").path(0).path("text").path("annotations");
        assertThat(annotations).extracting(a -> a.path("text").asText()).containsExactly("【0:0†favorite_foods.txt】");
    }

    @Test
    void theStreamedRunShowsTheSearchStepAndACitationDeltaThatRebuildsTheMessage() throws InterruptedException {
        Library lib = library();
        String threadId = threadWith(sdk(), "Using the files you have available, what's Filip's favorite food?");
        String answer = "Filip's favorite food is cake【0:0†favorite_foods.txt】.";
        script(search("Filip"), Reply.text(answer).withPieceSize(4));

        List<SseEvents.Event> events;
        try (StreamResponse<AssistantStreamEvent> stream = sdk().beta().threads().runs().createStreaming(RunCreateParams.builder()
                .threadId(threadId).assistantId(lib.assistant().id())
                .addInclude(RunStepInclude.STEP_DETAILS_TOOL_CALLS_FILE_SEARCH_RESULTS_CONTENT).build())) {
            events = stream.stream().map(SdkJson::event).toList();
        }

        assertThat(StreamReplay.order(events)).containsExactlyElementsOf(StreamReplay.TOOL_TURN_THEN_ANSWER);
        JsonNode stepDelta = events.stream().filter(e -> e.name().equals("thread.run.step.delta")).findFirst().orElseThrow().json();
        JsonNode deltaCall = stepDelta.path("delta").path("step_details").path("tool_calls").path(0);
        assertThat(deltaCall.path("type").asText()).isEqualTo("file_search");
        assertThat(deltaCall.path("file_search").path("results")).isEmpty();
        JsonNode completedStep = events.stream().filter(e -> e.name().equals("thread.run.step.completed")).findFirst().orElseThrow().json();
        assertThat(completedStep.path("step_details").path("tool_calls").path(0).path("file_search").path("results").path(0)
                .path("content").path(0).path("text").asText()).contains("Filip Carola: cake");

        List<JsonNode> citing = events.stream().filter(e -> e.name().equals("thread.message.delta")).map(SseEvents.Event::json)
                .filter(d -> !d.path("delta").path("content").path(0).path("text").path("annotations").isEmpty()).toList();
        assertThat(citing).hasSize(1);
        JsonNode delta = citing.getFirst().path("delta").path("content").path(0).path("text");
        assertThat(delta.path("value").asText()).contains("【0:0†favorite_foods.txt】");
        assertThat(delta.path("annotations").path(0).path("file_citation").path("quote").asText()).isEmpty();

        StreamReplay.Result replay = StreamReplay.replay(events);
        String messageId = replay.onlyMessageId();
        JsonNode stored = api().get("/v1/threads/" + threadId + "/messages/" + messageId).ok();
        assertThat(replay.text(messageId)).isEqualTo(answer);
        JsonNode rebuilt = replay.messages().get(messageId).path("content").path(0).path("text").path("annotations");
        assertThat(rebuilt.path(0).path("start_index")).isEqualTo(stored.path("content").path(0).path("text").path("annotations")
                .path(0).path("start_index"));
        assertThat(rebuilt.path(0).path("end_index")).isEqualTo(stored.path("content").path(0).path("text").path("annotations")
                .path(0).path("end_index"));
    }

    @Test
    void aSearchThenAFunctionCallWaitsForTheOutputAndThenAnswers() throws InterruptedException {
        Library lib = library("order_food");
        String threadId = threadWith(sdk(), "Order Filip's favorite food.");
        script(search("Filip favorite food"),
                Reply.toolCalls(new ToolCall("call_up_order", "order_food", "{\"food\": \"cake\"}")),
                Reply.text("I ordered a cake【0:0†favorite_foods.txt】."));

        Run waiting = pollFor(sdk(), createRun(sdk(), threadId, lib.assistant().id()), RunStatus.REQUIRES_ACTION);
        List<String> pending = pendingCallIds(waiting);
        assertThat(pending).hasSize(1);
        assertThat(tree(waiting.requiredAction().orElseThrow()).path("submit_tool_outputs").path("tool_calls").path(0)
                .path("function").path("name").asText()).isEqualTo("order_food");

        Run done = pollFor(sdk(), submit(sdk(), waiting, pending.getFirst(), "ordered"), RunStatus.COMPLETED);

        List<JsonNode> steps = api().get("/v1/threads/" + threadId + "/runs/" + done.id() + "/steps?order=asc").ok().path("data")
                .valueStream().toList();
        assertThat(steps).extracting(s -> s.path("type").asText() + ":"
                        + s.path("step_details").path("tool_calls").path(0).path("type").asText(""))
                .containsExactly("tool_calls:file_search", "tool_calls:function", "message_creation:");
        assertThat(steps.get(1).path("step_details").path("tool_calls").path(0).path("function").path("output").asText())
                .isEqualTo("ordered");
        JsonNode annotations = tree(messagesOf(sdk(), done).getFirst()).path("content").path(0).path("text").path("annotations");
        assertThat(annotations).hasSize(1);
        JsonNode last = upstreamRequests().getLast().path("messages");
        assertThat(last.valueStream().filter(m -> m.path("role").asText().equals("tool")).map(m -> m.path("content").asText()))
                .hasSize(2).last().isEqualTo("ordered");
    }

    @Test
    void aFileDeletedFromTheStoreIsNoLongerFound() throws InterruptedException {
        Library lib = library();
        assertThat(api().delete("/v1/vector_stores/" + lib.vectorStoreId() + "/files/" + lib.fileId()).ok().path("deleted")
                .asBoolean()).isTrue();
        String threadId = threadWith(sdk(), "What's Filip's favorite food?");
        script(search("Filip favorite food"), Reply.text("I could not find it."));

        Run run = pollFor(sdk(), createRun(sdk(), threadId, lib.assistant().id()), RunStatus.COMPLETED);

        JsonNode call = api().get("/v1/threads/" + threadId + "/runs/" + run.id() + "/steps?order=asc").ok()
                .path("data").path(0).path("step_details").path("tool_calls").path(0);
        assertThat(call.path("file_search").path("results")).isEmpty();
        assertThat(upstreamRequests().get(1).path("messages").valueStream().map(m -> m.path("content").asText()))
                .noneMatch(c -> c.contains("Filip Carola"));
    }
}
