package io.spindle.engine;

import static io.spindle.testing.SdkRuns.createRun;
import static io.spindle.testing.SdkRuns.messagesOf;
import static io.spindle.testing.SdkRuns.pollFor;
import static io.spindle.testing.SdkThreads.text;
import static io.spindle.testing.SdkThreads.threadWith;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.core.http.StreamResponse;
import com.openai.models.beta.assistants.Assistant;
import com.openai.models.beta.assistants.AssistantStreamEvent;
import com.openai.models.beta.assistants.AssistantCreateParams;
import com.openai.models.beta.assistants.CodeInterpreterTool;
import com.openai.models.beta.threads.ThreadCreateParams;
import com.openai.models.beta.threads.runs.Run;
import com.openai.models.beta.threads.runs.RunCreateParams;
import com.openai.models.beta.threads.runs.RunRetrieveParams;
import com.openai.models.beta.threads.runs.RunStatus;
import com.openai.models.beta.threads.runs.steps.CodeInterpreterToolCall;
import com.openai.models.beta.threads.runs.steps.CodeInterpreterToolCallDelta;
import com.openai.models.beta.threads.runs.steps.ToolCallDelta;
import com.openai.models.beta.threads.runs.steps.RunStep;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.FakeUpstream.ToolCall;
import io.spindle.api.Json;
import io.spindle.testing.RunEndToEnd;
import io.spindle.testing.SdkJson;
import io.spindle.testing.SdkRuns;
import io.spindle.testing.SdkThreads;
import io.spindle.testing.SseEvents;
import io.spindle.testing.StreamReplay;
import io.spindle.testing.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * code_interpreter inside polled and streamed runs through the official SDK, with the real sandbox: the scripted model writes
 * Python, the run executes it in the thread's session and the model reads the logs back; files go in through
 * tool_resources and attachments, figures and written files come out as downloadable {@code assistants_output} files.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(value = TestServer.Storage.class, names = {"SQLITE", "POSTGRESQL"})
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
class CodeInterpreterSdkTest extends RunEndToEnd {
    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    @Parameter
    TestServer.Storage storage;

    @Override
    protected TestServer.Storage storage() {
        return storage;
    }

    @Override
    protected Map<String, String> env() {
        return Map.of("SPINDLE_SANDBOX_TIMEOUT_SECONDS", "2");
    }

    private Assistant assistant() {
        return sdk().beta().assistants().create(AssistantCreateParams.builder().model("gpt-4o")
                .addTool(CodeInterpreterTool.builder().build()).build());
    }

    private static Reply code(String python) {
        return Reply.toolCalls(new ToolCall("call_up_code", "code_interpreter", Json.object().put("code", python).toString()));
    }

    private JsonNode steps(String threadId, Run run) {
        return api().get("/v1/threads/" + threadId + "/runs/" + run.id() + "/steps?order=asc").ok().path("data");
    }

    /** The code_interpreter call of the run's only tool_calls step. */
    private JsonNode onlyCall(String threadId, Run run) {
        List<JsonNode> calls = steps(threadId, run).valueStream().filter(s -> s.path("type").asText().equals("tool_calls"))
                .flatMap(s -> s.path("step_details").path("tool_calls").valueStream()).toList();
        assertThat(calls).hasSize(1);
        assertThat(calls.getFirst().has("spindle")).as("what only Spindle reads stays inside").isFalse();
        return calls.getFirst().path("code_interpreter");
    }

    /** The text the model read back after its code ran: the last message of its next request. */
    private String readBack() {
        JsonNode messages = upstreamRequests().get(1).path("messages");
        JsonNode tool = messages.get(messages.size() - 1);
        assertThat(tool.path("role").asText()).isEqualTo("tool");
        return tool.path("content").asText();
    }

    private static String logs(JsonNode call) {
        return call.path("outputs").valueStream().filter(o -> o.path("type").asText().equals("logs"))
                .map(o -> o.path("logs").asText()).findFirst().orElse("");
    }

    private byte[] download(String fileId) throws IOException {
        JsonNode file = api().get("/v1/files/" + fileId).ok();
        assertThat(file.path("purpose").asText()).isEqualTo("assistants_output");
        try (InputStream in = api().download("/v1/files/" + fileId + "/content")) {
            return in.readAllBytes();
        }
    }

    @Test
    void thePolledRunExecutesTheCodeAndTheModelReadsTheLogs() {
        Assistant assistant = assistant();
        String threadId = threadWith(sdk(), "What is 6 times 7?");
        script(code("print(6 * 7)").withUsage(100, 10), Reply.text("It is 42.").withUsage(200, 5));

        Run run = pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.COMPLETED);

        List<RunStep> steps = SdkRuns.steps(sdk(), run);
        assertThat(steps).extracting(s -> s.type().asString()).containsExactly("tool_calls", "message_creation");
        CodeInterpreterToolCall call = steps.getFirst().stepDetails().asToolCalls().toolCalls().getFirst().asCodeInterpreter();
        assertThat(call.id()).matches("call_[A-Za-z0-9]{24}");
        assertThat(call.codeInterpreter().input()).isEqualTo("print(6 * 7)");
        assertThat(call.codeInterpreter().outputs()).hasSize(1);
        assertThat(call.codeInterpreter().outputs().getFirst().asLogs().logs()).isEqualTo("42\n");
        assertThat(steps.getFirst().usage().orElseThrow().totalTokens()).isEqualTo(110);

        JsonNode messages = upstreamRequests().get(1).path("messages");
        JsonNode asked = messages.get(messages.size() - 2).path("tool_calls").path(0);
        assertThat(asked.path("function").path("name").asText()).isEqualTo("code_interpreter");
        assertThat(asked.path("function").path("arguments").asText()).contains("print(6 * 7)");
        assertThat(readBack()).isEqualTo("42\n");
        assertThat(text(messagesOf(sdk(), run).getFirst())).isEqualTo("It is 42.");
    }

    @Test
    void theStreamedRunShowsTheCodeAsWrittenThenItsLogsAndImageAndAddsUpToTheStepAndMessage() {
        Assistant assistant = assistant();
        String threadId = threadWith(sdk(), "Draw a line and say 6 times 7.");
        String python = "import matplotlib.pyplot as plt\nprint(\"caf\u00e9 \u2615\", 6 * 7)\n"
                + "open('line.csv', 'w').write('x,y\\n1,3\\n2,4\\n')\nplt.plot([1, 2], [3, 4])";
        // small pieces: the escapes (\n, \", \u00e9) arrive split between chunks, and so does the link
        String answer = "It is 42, and here is the line \u2615 and [its data](sandbox:/mnt/data/line.csv).";
        script(code(python).withPieceSize(3), Reply.text(answer).withPieceSize(4));

        List<AssistantStreamEvent> sdkEvents = stream(threadId, assistant);
        List<SseEvents.Event> events = sdkEvents.stream().map(SdkJson::event).toList();

        assertThat(StreamReplay.order(events)).containsExactlyElementsOf(StreamReplay.TOOL_TURN_THEN_ANSWER);
        List<CodeInterpreterToolCallDelta> deltas = sdkEvents.stream().flatMap(e -> e.threadRunStepDelta().stream())
                .flatMap(e -> e.data().delta().stepDetails().orElseThrow().asToolCalls().toolCalls().orElseThrow().stream())
                .map(ToolCallDelta::asCodeInterpreter).toList();
        assertThat(deltas).allSatisfy(d -> assertThat(d.index()).isZero());
        assertThat(deltas.getFirst().id()).isPresent();
        assertThat(deltas.subList(1, deltas.size())).allSatisfy(d -> assertThat(d.id()).isEmpty());
        List<String> inputs = deltas.stream().flatMap(d -> d.codeInterpreter().flatMap(CodeInterpreterToolCallDelta.CodeInterpreter::input)
                .stream()).filter(i -> !i.isEmpty()).toList();
        assertThat(inputs).hasSizeGreaterThan(10);
        assertThat(String.join("", inputs)).isEqualTo(python);

        // the outputs come last, in one delta, after the code ran
        List<CodeInterpreterToolCallDelta.CodeInterpreter.Output> outputs = deltas.getLast().codeInterpreter().orElseThrow()
                .outputs().orElseThrow();
        assertThat(deltas.subList(0, deltas.size() - 1)).allSatisfy(d -> assertThat(d.codeInterpreter().flatMap(
                CodeInterpreterToolCallDelta.CodeInterpreter::outputs).orElse(List.of())).isEmpty());
        assertThat(outputs).hasSize(2);
        assertThat(outputs.get(0).asLogs().index()).isZero();
        assertThat(outputs.get(0).asLogs().logs().orElseThrow()).startsWith("caf\u00e9 \u2615 42\n");
        assertThat(outputs.get(1).asImage().index()).isEqualTo(1);
        String imageId = outputs.get(1).asImage().image().orElseThrow().fileId().orElseThrow();
        assertThat(imageId).startsWith("file-");

        // what the helpers accumulate is what the step and the message say, as completed and as stored
        StreamReplay.Result replay = StreamReplay.replay(events);
        Run run = sdk().beta().threads().runs().retrieve(replay.run().path("id").asText(),
                RunRetrieveParams.builder().threadId(threadId).build());
        JsonNode call = onlyCall(threadId, run);
        assertThat(call.path("input").asText()).isEqualTo(python);
        assertThat(call.path("outputs").path(1).path("image").path("file_id").asText()).isEqualTo(imageId);
        String toolStepId = replay.steps().keySet().iterator().next();
        assertThat(replay.steps().get(toolStepId).path("step_details")).isEqualTo(
                api().get("/v1/threads/" + threadId + "/runs/" + run.id() + "/steps/" + toolStepId).ok().path("step_details"));
        String messageId = replay.onlyMessageId();
        JsonNode message = api().get("/v1/threads/" + threadId + "/messages/" + messageId).ok();
        assertThat(replay.text(messageId)).isEqualTo(StreamReplay.text(message)).isEqualTo(answer);
        // the figure leads the answer, as an image_file part streamed before the text (the replay compares all parts)
        JsonNode content = message.path("content");
        assertThat(content.path(0).path("image_file").path("file_id").asText()).isEqualTo(imageId);
        JsonNode link = content.path(1).path("text").path("annotations").path(0);
        assertThat(link.path("type").asText()).isEqualTo("file_path");
        assertThat(link.path("text").asText()).isEqualTo("sandbox:/mnt/data/line.csv");
        assertThat(answer.codePoints().skip(link.path("start_index").asInt()).limit(link.path("end_index").asInt()
                - link.path("start_index").asInt()).collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append)
                .toString()).isEqualTo("sandbox:/mnt/data/line.csv");
        JsonNode firstDelta = events.stream().filter(e -> e.name().equals("thread.message.delta")).findFirst().orElseThrow().json();
        assertThat(firstDelta.path("delta").path("content").path(0).path("type").asText()).isEqualTo("image_file");
        assertThat(sdkEvents.stream().flatMap(e -> e.threadMessageDelta().stream())
                .flatMap(e -> e.data().delta().content().orElseThrow().stream()).filter(c -> c.isImageFile()).count()).isEqualTo(1);
    }

    @Test
    void longLogsStreamInPiecesThatAddUpToTheCompletedStep() {
        Assistant assistant = assistant();
        String threadId = threadWith(sdk(), "Print a lot.");
        script(code("print('\u00e9' * 2500)"), Reply.text("Printed."));

        List<SseEvents.Event> events = stream(threadId, assistant).stream().map(SdkJson::event).toList();

        List<JsonNode> logPieces = events.stream().filter(e -> e.name().equals("thread.run.step.delta"))
                .flatMap(e -> e.json().path("delta").path("step_details").path("tool_calls").path(0)
                        .path("code_interpreter").path("outputs").valueStream()).toList();
        assertThat(logPieces).hasSizeGreaterThan(2).allSatisfy(o -> assertThat(o.path("index").asInt()).isZero());
        assertThat(logPieces.stream().map(o -> o.path("logs").asText()).reduce("", String::concat)).isEqualTo("\u00e9".repeat(2500) + "\n");
        // the replay checks that the merged outputs are the completed step's
        StreamReplay.replay(events);
    }

    private List<AssistantStreamEvent> stream(String threadId, Assistant assistant) {
        try (StreamResponse<AssistantStreamEvent> stream = sdk().beta().threads().runs().createStreaming(RunCreateParams.builder()
                .threadId(threadId).assistantId(assistant.id()).build())) {
            return stream.stream().toList();
        }
    }

    @Test
    void variablesSurviveFromOneRunToTheNextOnTheSameThread() {
        Assistant assistant = assistant();
        String threadId = threadWith(sdk(), "Remember x = 41.");
        script(code("x = 41"), Reply.text("Done."));
        pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.COMPLETED);
        forgetUpstreamRequests();

        SdkThreads.addMessage(sdk(), threadId, "And x + 1?");
        script(code("print(x + 1)"), Reply.text("42"));
        Run second = pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.COMPLETED);

        assertThat(logs(onlyCall(threadId, second))).isEqualTo("42\n");
    }

    @Test
    void filesOfTheThreadAndOfAttachmentsAreInMntData() {
        String csvId = api().uploadFile("assistants", "sales.csv",
                "region,amount\nnorth,10\nsouth,20\nnorth,12\n".getBytes(StandardCharsets.UTF_8));
        String jsonId = api().uploadFile("assistants", "goal.json", "{\"goal\": 30}".getBytes(StandardCharsets.UTF_8));
        Assistant assistant = assistant();
        String threadId = sdk().beta().threads().create(ThreadCreateParams.builder()
                .toolResources(ThreadCreateParams.ToolResources.builder().codeInterpreter(
                        ThreadCreateParams.ToolResources.CodeInterpreter.builder().addFileId(csvId).build()).build())
                .addMessage(ThreadCreateParams.Message.builder().role(ThreadCreateParams.Message.Role.USER)
                        .content("How much did north sell, against the goal?")
                        .addAttachment(ThreadCreateParams.Message.Attachment.builder().fileId(jsonId)
                                .addTool(CodeInterpreterTool.builder().build()).build())
                        .build())
                .build()).id();
        script(code("""
                import json, pandas as pd
                df = pd.read_csv('/mnt/data/sales.csv')
                north = df.groupby('region')['amount'].sum()['north']
                print(north, json.load(open('goal.json'))['goal'])"""), Reply.text("22 of 30."));

        Run run = pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.COMPLETED);

        assertThat(logs(onlyCall(threadId, run))).isEqualTo("22 30\n");
    }

    @Test
    void aFigureBecomesAnImageOutputWhoseFileIsAPng() throws IOException {
        Assistant assistant = assistant();
        String threadId = threadWith(sdk(), "Draw a line.");
        script(code("import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [1, 4, 9])\nplt.title('squares')"),
                Reply.text("Here it is."));

        Run run = pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.COMPLETED);

        JsonNode outputs = onlyCall(threadId, run).path("outputs");
        JsonNode image = outputs.valueStream().filter(o -> o.path("type").asText().equals("image")).findFirst().orElseThrow();
        String fileId = image.path("image").path("file_id").asText();
        assertThat(fileId).startsWith("file-");
        byte[] png = download(fileId);
        assertThat(Arrays.copyOf(png, PNG_SIGNATURE.length)).isEqualTo(PNG_SIGNATURE);
        assertThat(readBack()).contains("figure");

        // the answer shows the figure first, as at OpenAI: message.content[0].image_file, then the text
        var content = messagesOf(sdk(), run).getFirst().content();
        assertThat(content).hasSize(2);
        assertThat(content.get(0).asImageFile().imageFile().fileId()).isEqualTo(fileId);
        assertThat(content.get(1).asText().text().value()).isEqualTo("Here it is.");
    }

    @Test
    void figuresOfEveryCallSinceTheLastMessageLeadTheNextMessageOnly() {
        Assistant assistant = assistant();
        String threadId = threadWith(sdk(), "Two figures, then one.");
        String figure = "import matplotlib.pyplot as plt\nplt.figure(); plt.plot([1, 2])";
        script(code(figure), code(figure), Reply.text("Two."));
        Run first = pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.COMPLETED);
        SdkThreads.addMessage(sdk(), threadId, "No figure now.");
        script(Reply.text("None."));
        Run second = pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.COMPLETED);

        var content = messagesOf(sdk(), first).getFirst().content();
        assertThat(content).hasSize(3);
        assertThat(content.subList(0, 2)).allSatisfy(c -> assertThat(c.asImageFile().imageFile().fileId()).startsWith("file-"));
        assertThat(content.get(0).asImageFile().imageFile().fileId()).isNotEqualTo(content.get(1).asImageFile().imageFile().fileId());
        assertThat(messagesOf(sdk(), second).getFirst().content()).hasSize(1);
    }

    @Test
    void aWrittenFileIsListedForTheModelAndDownloadable() throws IOException {
        Assistant assistant = assistant();
        String threadId = threadWith(sdk(), "Make me a CSV of squares.");
        script(code("""
                with open('/mnt/data/squares.csv', 'w') as f:
                    f.write('n,square\\n' + ''.join(f'{n},{n*n}\\n' for n in range(1, 4)))"""),
                Reply.text("Here: [squares](sandbox:/mnt/data/squares.csv), not sandbox:/mnt/data/cubes.csv."));

        Run run = pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.COMPLETED);

        assertThat(readBack()).contains("sandbox:/mnt/data/squares.csv");
        JsonNode outputs = api().get("/v1/files?purpose=assistants_output").ok().path("data");
        JsonNode written = outputs.valueStream().filter(f -> f.path("filename").asText().equals("squares.csv")).findFirst().orElseThrow();
        assertThat(new String(download(written.path("id").asText()), StandardCharsets.UTF_8)).isEqualTo("n,square\n1,1\n2,4\n3,9\n");

        // the link in the answer points at that file; a link to a file the run did not write stays text
        var text = messagesOf(sdk(), run).getFirst().content().getFirst().asText().text();
        assertThat(text.annotations()).hasSize(1);
        var link = text.annotations().getFirst().asFilePath();
        assertThat(link.text()).isEqualTo("sandbox:/mnt/data/squares.csv");
        assertThat(link.filePath().fileId()).isEqualTo(written.path("id").asText());
        assertThat(text.value().substring((int) link.startIndex(), (int) link.endIndex())).isEqualTo(link.text());
        assertThat(link.startIndex()).isEqualTo(16);
    }

    @Test
    void theModelIsToldTheNamesOfTheFilesInMntData() {
        String csvId = api().uploadFile("assistants", "sales.csv", "region,amount\n".getBytes(StandardCharsets.UTF_8));
        Assistant assistant = sdk().beta().assistants().create(AssistantCreateParams.builder().model("gpt-4o")
                .addTool(CodeInterpreterTool.builder().build())
                .toolResources(AssistantCreateParams.ToolResources.builder().codeInterpreter(
                        AssistantCreateParams.ToolResources.CodeInterpreter.builder().addFileId(csvId).build()).build())
                .build());
        String threadId = threadWith(sdk(), "What files do I have?");
        script(Reply.text("sales.csv"));

        pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.COMPLETED);

        String system = upstreamRequests().getFirst().path("messages").path(0).path("content").asText();
        assertThat(system).contains("/mnt/data: sales.csv.");
    }

    @Test
    void anEndlessLoopIsStoppedAtTheTimeLimitAndTheRunGoesOn() {
        Assistant assistant = assistant();
        String threadId = threadWith(sdk(), "Loop forever.");
        script(code("n = 0\nwhile True:\n    n += 1"), Reply.text("It did not finish."));

        Run run = pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.COMPLETED);

        assertThat(logs(onlyCall(threadId, run))).contains("TimeoutError").contains("2 s");
        assertThat(readBack()).contains("TimeoutError");
        assertThat(text(messagesOf(sdk(), run).getFirst())).isEqualTo("It did not finish.");
    }

    @Test
    void readingTheHostsShadowFileFailsClearlyAndTheRunGoesOn() {
        Assistant assistant = assistant();
        String threadId = threadWith(sdk(), "Read /etc/shadow.");
        script(code("print(open('/etc/shadow').read())"), Reply.text("I cannot."));

        Run run = pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.COMPLETED);

        String logs = logs(onlyCall(threadId, run));
        assertThat(logs).containsPattern("(FileNotFoundError|PermissionError).*/etc/shadow");
        assertThat(logs).doesNotContain("root:");
    }
}
