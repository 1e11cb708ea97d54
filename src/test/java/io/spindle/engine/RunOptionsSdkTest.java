package io.spindle.engine;

import static io.spindle.testing.SdkJson.json;
import static io.spindle.testing.SdkJson.tree;
import static io.spindle.testing.SdkRuns.assistant;
import static io.spindle.testing.SdkRuns.createRun;
import static io.spindle.testing.SdkRuns.function;
import static io.spindle.testing.SdkRuns.functionTool;
import static io.spindle.testing.SdkRuns.pollFor;
import static io.spindle.testing.SdkRuns.runOf;
import static io.spindle.testing.SdkRuns.threadMessages;
import static io.spindle.testing.SdkThreads.texts;
import static io.spindle.testing.SdkThreads.threadWith;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.core.JsonValue;
import com.openai.models.ResponseFormatJsonObject;
import com.openai.models.ResponseFormatJsonSchema;
import com.openai.models.beta.assistants.Assistant;
import com.openai.models.beta.assistants.AssistantCreateParams;
import com.openai.models.beta.assistants.CodeInterpreterTool;
import com.openai.models.beta.assistants.FileSearchTool;
import com.openai.models.beta.threads.AssistantToolChoice;
import com.openai.models.beta.threads.AssistantToolChoiceFunction;
import com.openai.models.beta.threads.AssistantToolChoiceOption;
import com.openai.models.beta.threads.messages.Message;
import com.openai.models.beta.threads.runs.Run;
import com.openai.models.beta.threads.runs.RunCreateParams;
import com.openai.models.beta.threads.runs.RunStatus;
import io.spindle.testing.RunEndToEnd;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What a run sends to the model: run options over the assistant's, instructions and
 * additional_instructions, tools (functions only), tool_choice, response_format, additional_messages.
 */
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
class RunOptionsSdkTest extends RunEndToEnd {

    private Assistant tunedAssistant() {
        return sdk().beta().assistants().create(AssistantCreateParams.builder()
                .model("gpt-4o")
                .instructions("Assistant instructions.")
                .temperature(0.2)
                .topP(0.9)
                .addTool(functionTool("get_weather"))
                .responseFormat(ResponseFormatJsonObject.builder().build())
                .build());
    }

    private JsonNode requestFor(RunCreateParams.Builder params) {
        Run run = pollFor(sdk(), createRun(sdk(), threadWith(sdk(), "Question in JSON?"), params), RunStatus.COMPLETED);
        assertThat(run.status()).isEqualTo(RunStatus.COMPLETED);
        return onlyUpstreamRequest();
    }

    private static JsonNode system(JsonNode request) {
        JsonNode first = request.path("messages").get(0);
        assertThat(first.path("role").asText()).isEqualTo("system");
        return first.path("content");
    }

    @Test
    void theAssistantsSettingsApplyByDefault() {
        Assistant assistant = tunedAssistant();

        JsonNode request = requestFor(runOf(assistant.id()));

        assertThat(system(request).asText()).isEqualTo("Assistant instructions.");
        assertThat(request.path("model").asText()).isEqualTo("gpt-4o");
        assertThat(request.path("temperature").asDouble()).isEqualTo(0.2);
        assertThat(request.path("top_p").asDouble()).isEqualTo(0.9);
        assertThat(request.path("response_format")).isEqualTo(json("{\"type\": \"json_object\"}"));
        assertThat(request.path("tools")).extracting(t -> t.path("function").path("name").asText()).containsExactly("get_weather");
        assertThat(request.path("tool_choice").asText()).isEqualTo("auto");
        assertThat(request.path("parallel_tool_calls").asBoolean()).isTrue();
    }

    @Test
    void runOptionsOverrideTheAssistantAndAreForwarded() {
        Assistant assistant = tunedAssistant();
        ResponseFormatJsonSchema schema = ResponseFormatJsonSchema.builder()
                .jsonSchema(ResponseFormatJsonSchema.JsonSchema.builder()
                        .name("answer")
                        .schema(ResponseFormatJsonSchema.JsonSchema.Schema.builder()
                                .putAdditionalProperty("type", JsonValue.from("object"))
                                .putAdditionalProperty("properties", JsonValue.from(Map.of("text", Map.of("type", "string"))))
                                .build())
                        .strict(true)
                        .build())
                .build();

        Run created = createRun(sdk(), threadWith(sdk(), "Question in JSON?"), runOf(assistant.id())
                .model("gpt-4o-mini")
                .instructions("Run instructions.")
                .temperature(0.7)
                .topP(0.5)
                .addTool(functionTool("get_time"))
                .toolChoice(AssistantToolChoiceOption.Auto.REQUIRED)
                .parallelToolCalls(false)
                .responseFormat(schema));
        pollFor(sdk(), created, RunStatus.COMPLETED);
        JsonNode request = onlyUpstreamRequest();

        assertThat(created.model()).isEqualTo("gpt-4o-mini");
        assertThat(created.instructions()).isEqualTo("Run instructions.");
        assertThat(created.temperature()).contains(0.7);
        assertThat(created.parallelToolCalls()).isFalse();
        assertThat(request.path("model").asText()).isEqualTo("gpt-4o-mini");
        assertThat(system(request).asText()).isEqualTo("Run instructions.");
        assertThat(request.path("temperature").asDouble()).isEqualTo(0.7);
        assertThat(request.path("top_p").asDouble()).isEqualTo(0.5);
        assertThat(request.path("tools")).isEqualTo(json("""
                [{"type": "function", "function": {"name": "get_time", "description": "the get_time function",
                  "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]"""));
        assertThat(request.path("tool_choice").asText()).isEqualTo("required");
        assertThat(request.path("parallel_tool_calls").asBoolean(true)).isFalse();
        assertThat(request.path("response_format")).isEqualTo(json("""
                {"type": "json_schema", "json_schema": {"name": "answer", "strict": true,
                  "schema": {"type": "object", "properties": {"text": {"type": "string"}}}}}"""));
    }

    @Test
    void additionalInstructionsAreAppended() {
        Assistant assistant = tunedAssistant();

        Run created = createRun(sdk(), threadWith(sdk(), "Question in JSON?"),
                runOf(assistant.id()).additionalInstructions("Also be polite."));
        pollFor(sdk(), created, RunStatus.COMPLETED);

        assertThat(system(onlyUpstreamRequest()).asText()).isEqualTo("Assistant instructions.\n\nAlso be polite.");
        assertThat(created.instructions()).isEqualTo("Assistant instructions.\n\nAlso be polite.");
    }

    @Test
    void additionalInstructionsFollowRunInstructions() {
        Assistant assistant = tunedAssistant();

        JsonNode request = requestFor(runOf(assistant.id()).instructions("Run instructions.").additionalInstructions("Extra."));

        assertThat(system(request).asText()).isEqualTo("Run instructions.\n\nExtra.");
        assertThat(request.path("messages")).hasSize(2);
    }

    @Test
    void toolChoiceNoneIsForwarded() {
        Assistant assistant = tunedAssistant();

        JsonNode request = requestFor(runOf(assistant.id()).toolChoice(AssistantToolChoiceOption.Auto.NONE));

        assertThat(request.path("tool_choice").asText()).isEqualTo("none");
    }

    @Test
    void aNamedFunctionToolChoiceIsForwarded() {
        Assistant assistant = tunedAssistant();

        JsonNode request = requestFor(runOf(assistant.id())
                .addTool(functionTool("get_weather"))
                .addTool(functionTool("get_time"))
                .toolChoice(AssistantToolChoice.builder()
                        .type(AssistantToolChoice.Type.FUNCTION)
                        .function(AssistantToolChoiceFunction.builder().name("get_time").build())
                        .build()));

        assertThat(request.path("tool_choice")).isEqualTo(json("{\"type\": \"function\", \"function\": {\"name\": \"get_time\"}}"));
        assertThat(request.path("tools")).extracting(t -> t.path("function").path("name").asText())
                .containsExactly("get_weather", "get_time");
    }

    @Test
    void fileSearchAndCodeInterpreterAreOfferedAsFunctions() {
        Assistant assistant = assistant(sdk(), null);

        JsonNode mixed = requestFor(runOf(assistant.id())
                .addTool(CodeInterpreterTool.builder().build())
                .addTool(FileSearchTool.builder().build())
                .addFunctionTool(function("get_weather")));
        assertThat(mixed.path("tools")).extracting(t -> t.path("type").asText() + ":" + t.path("function").path("name").asText())
                .containsExactly("function:get_weather", "function:code_interpreter", "function:file_search");
        assertThat(mixed.path("messages").path(0).path("role").asText()).isEqualTo("system");
        assertThat(mixed.path("messages").path(0).path("content").asText()).contains("【").contains("sandbox:/mnt/data/");

        forgetUpstreamRequests();
        JsonNode codeInterpreterOnly = requestFor(runOf(assistant.id()).addTool(CodeInterpreterTool.builder().build()));
        JsonNode offered = codeInterpreterOnly.path("tools").path(0).path("function");
        assertThat(offered.path("name").asText()).isEqualTo("code_interpreter");
        assertThat(offered.path("parameters").path("required")).extracting(JsonNode::asText).containsExactly("code");
        assertThat(offered.path("parameters").path("properties").path("code").path("type").asText()).isEqualTo("string");
    }

    @Test
    void aFunctionNamedLikeABuiltInToolShadowsIt() {
        Assistant assistant = assistant(sdk(), null);

        JsonNode request = requestFor(runOf(assistant.id())
                .addTool(FileSearchTool.builder().build())
                .addFunctionTool(function("file_search")));
        assertThat(request.path("tools")).hasSize(1);
        assertThat(request.path("tools").path(0).path("function").path("description").asText()).doesNotContain("uploaded");
    }

    @Test
    void additionalMessagesJoinTheThreadBeforeTheRun() {
        Assistant assistant = assistant(sdk(), null);
        String threadId = threadWith(sdk(), "first question");

        Run run = pollFor(sdk(), createRun(sdk(), threadId, runOf(assistant.id())
                .addAdditionalMessage(RunCreateParams.AdditionalMessage.builder()
                        .role(RunCreateParams.AdditionalMessage.Role.USER).content("added with the run").build())
                .addAdditionalMessage(RunCreateParams.AdditionalMessage.builder()
                        .role(RunCreateParams.AdditionalMessage.Role.ASSISTANT).content("an earlier answer").build())),
                RunStatus.COMPLETED);

        List<Message> messages = threadMessages(sdk(), threadId);
        assertThat(texts(messages)).containsExactly("first question", "added with the run", "an earlier answer", "ok");
        assertThat(messages.get(1).runId()).isEmpty();
        assertThat(messages.get(3).runId()).contains(run.id());
        assertThat(onlyUpstreamRequest().path("messages")).isEqualTo(json("""
                [{"role": "user", "content": "first question"}, {"role": "user", "content": "added with the run"},
                 {"role": "assistant", "content": "an earlier answer"}]"""));
    }

    @Test
    void theUpstreamGetsTheConfiguredKey() {
        Assistant assistant = assistant(sdk(), null);

        requestFor(runOf(assistant.id()));

        assertThat(upstreamReceived().getFirst().header("Authorization")).isEqualTo("Bearer " + UPSTREAM_KEY);
    }

    @Test
    void runToolsReplaceTheAssistantsTools() {
        Assistant assistant = tunedAssistant();

        Run run = createRun(sdk(), threadWith(sdk(), "Question in JSON?"), runOf(assistant.id()).addTool(functionTool("get_time")));
        pollFor(sdk(), run, RunStatus.COMPLETED);

        assertThat(tree(run.tools())).extracting(t -> t.path("function").path("name").asText()).containsExactly("get_time");
        assertThat(onlyUpstreamRequest().path("tools")).extracting(t -> t.path("function").path("name").asText())
                .containsExactly("get_time");
    }
}
