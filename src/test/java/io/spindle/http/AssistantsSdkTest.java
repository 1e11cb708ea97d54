package io.spindle.http;

import static io.spindle.testing.SdkJson.json;
import static io.spindle.testing.SdkJson.pairs;
import static io.spindle.testing.SdkJson.tree;
import static io.spindle.testing.SdkJson.treeWithout;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.openai.core.JsonValue;
import com.openai.errors.NotFoundException;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.ReasoningEffort;
import com.openai.models.ResponseFormatJsonObject;
import com.openai.models.ResponseFormatJsonSchema;
import com.openai.models.ResponseFormatText;
import com.openai.models.beta.assistants.Assistant;
import com.openai.models.beta.assistants.AssistantCreateParams;
import com.openai.models.beta.assistants.AssistantDeleted;
import com.openai.models.beta.assistants.AssistantListParams;
import com.openai.models.beta.assistants.AssistantUpdateParams;
import com.openai.models.beta.assistants.CodeInterpreterTool;
import com.openai.models.beta.assistants.FileSearchTool;
import com.openai.models.beta.threads.AssistantResponseFormatOption;
import com.openai.services.blocking.beta.AssistantService;
import io.spindle.testing.EndToEnd;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** /v1/assistants through the official SDK: create (every field), retrieve, modify, delete, list. */
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
class AssistantsSdkTest extends EndToEnd {

    /** What the live API echoed for {@code {"model": "gpt-4o"}} (recording assistant-crud.json). */
    private static final String DEFAULTS = """
            {"object": "assistant", "name": null, "description": null, "model": "gpt-4o", "instructions": null,
             "tools": [], "top_p": 1.0, "temperature": 1.0, "reasoning_effort": null, "tool_resources": {},
             "metadata": {}, "response_format": "auto"}""";

    private AssistantService assistants() {
        return sdk().beta().assistants();
    }

    private Assistant createMinimal() {
        return assistants().create(AssistantCreateParams.builder().model("gpt-4o").build());
    }

    /** An assistant with every field set, and every kind of tool with and without options. */
    private Assistant createFull() {
        FunctionParameters cityParameters = FunctionParameters.builder()
                .putAdditionalProperty("type", JsonValue.from("object"))
                .putAdditionalProperty("properties", JsonValue.from(Map.of("city", Map.of("type", "string"))))
                .putAdditionalProperty("required", JsonValue.from(List.of("city")))
                .putAdditionalProperty("additionalProperties", JsonValue.from(false))
                .build();
        return assistants().create(AssistantCreateParams.builder()
                .model("gpt-4o")
                .name("Math tutor")
                .description("Answers with numbers")
                .instructions("You are a personal math tutor.")
                .addFunctionTool(FunctionDefinition.builder()
                        .name("get_weather")
                        .description("Weather in a city")
                        .parameters(cityParameters)
                        .strict(true)
                        .build())
                .addFunctionTool(FunctionDefinition.builder().name("ping").build())
                .addTool(FileSearchTool.builder().build())
                .addTool(FileSearchTool.builder()
                        .fileSearch(FileSearchTool.FileSearch.builder()
                                .maxNumResults(5)
                                .rankingOptions(FileSearchTool.FileSearch.RankingOptions.builder()
                                        .ranker(FileSearchTool.FileSearch.RankingOptions.Ranker.DEFAULT_2024_08_21)
                                        .scoreThreshold(0.5)
                                        .build())
                                .build())
                        .build())
                .addTool(CodeInterpreterTool.builder().build())
                .toolResources(AssistantCreateParams.ToolResources.builder()
                        .codeInterpreter(AssistantCreateParams.ToolResources.CodeInterpreter.builder()
                                .addFileId("file-abc123")
                                .build())
                        .build())
                .metadata(AssistantCreateParams.Metadata.builder()
                        .putAllAdditionalProperties(pairs("team", "maths", "tier", "gold"))
                        .build())
                .temperature(0.7)
                .topP(0.9)
                .reasoningEffort(ReasoningEffort.LOW)
                .responseFormat(ResponseFormatJsonObject.builder().build())
                .build());
    }

    @Test
    void createWithOnlyAModelEchoesTheLiveApiDefaults() {
        Assistant created = createMinimal();

        assertThat(created.id()).matches("asst_[A-Za-z0-9]{24}");
        assertThat(created.createdAt()).isPositive();
        assertThat(treeWithout(created, "id", "created_at")).isEqualTo(json(DEFAULTS));
    }

    @Test
    void createWithEveryFieldEchoesThemNormalised() {
        Assistant created = createFull();

        assertThat(created.name()).contains("Math tutor");
        assertThat(created.temperature()).contains(0.7);
        assertThat(created.topP()).contains(0.9);
        assertThat(created.responseFormat()).hasValueSatisfying(f -> assertThat(f.isResponseFormatJsonObject()).isTrue());
        assertThat(treeWithout(created, "id", "created_at")).isEqualTo(json("""
                {"object": "assistant", "name": "Math tutor", "description": "Answers with numbers", "model": "gpt-4o",
                 "instructions": "You are a personal math tutor.",
                 "tools": [
                   {"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
                     "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
                                    "additionalProperties": false},
                     "strict": true}},
                   {"type": "function", "function": {"name": "ping", "parameters": {"type": "object", "properties": {}},
                     "strict": false}},
                   {"type": "file_search", "file_search": {"ranking_options":
                     {"ranker": "default_2024_08_21", "score_threshold": 0.0, "hybrid_search": null}}},
                   {"type": "file_search", "file_search": {"max_num_results": 5, "ranking_options":
                     {"ranker": "default_2024_08_21", "score_threshold": 0.5, "hybrid_search": null}}},
                   {"type": "code_interpreter"}
                 ],
                 "top_p": 0.9, "temperature": 0.7, "reasoning_effort": "low",
                 "tool_resources": {"code_interpreter": {"file_ids": ["file-abc123"]}},
                 "metadata": {"team": "maths", "tier": "gold"},
                 "response_format": {"type": "json_object"}}"""));
    }

    @Test
    void codeInterpreterWithoutResourcesGetsAnEmptyFileList() {
        Assistant created = assistants().create(AssistantCreateParams.builder()
                .model("gpt-4o")
                .addTool(CodeInterpreterTool.builder().build())
                .build());

        assertThat(tree(created.toolResources().orElseThrow())).isEqualTo(json("""
                {"code_interpreter": {"file_ids": []}}"""));
    }

    static Stream<Arguments> responseFormats() {
        ResponseFormatJsonSchema jsonSchema = ResponseFormatJsonSchema.builder()
                .jsonSchema(ResponseFormatJsonSchema.JsonSchema.builder()
                        .name("answer")
                        .description("One number")
                        .schema(ResponseFormatJsonSchema.JsonSchema.Schema.builder()
                                .putAdditionalProperty("type", JsonValue.from("object"))
                                .putAdditionalProperty("properties", JsonValue.from(Map.of("value", Map.of("type", "number"))))
                                .build())
                        .strict(true)
                        .build())
                .build();
        return Stream.of(
                Arguments.of(AssistantResponseFormatOption.ofAuto(), "\"auto\""),
                Arguments.of(AssistantResponseFormatOption.ofResponseFormatText(ResponseFormatText.builder().build()),
                        "{\"type\": \"text\"}"),
                Arguments.of(AssistantResponseFormatOption.ofResponseFormatJsonObject(ResponseFormatJsonObject.builder().build()),
                        "{\"type\": \"json_object\"}"),
                Arguments.of(AssistantResponseFormatOption.ofResponseFormatJsonSchema(jsonSchema), """
                        {"type": "json_schema", "json_schema": {"name": "answer", "description": "One number",
                         "schema": {"type": "object", "properties": {"value": {"type": "number"}}}, "strict": true}}"""));
    }

    @ParameterizedTest
    @MethodSource("responseFormats")
    void responseFormatIsEchoedOnCreateRetrieveAndModify(AssistantResponseFormatOption format, String expected) {
        Assistant created = assistants().create(AssistantCreateParams.builder().model("gpt-4o").responseFormat(format).build());
        assertThat(tree(created.responseFormat().orElseThrow())).isEqualTo(json(expected));
        assertThat(tree(assistants().retrieve(created.id()).responseFormat().orElseThrow())).isEqualTo(json(expected));

        Assistant modified = assistants().update(createMinimal().id(),
                AssistantUpdateParams.builder().responseFormat(format).build());
        assertThat(tree(modified.responseFormat().orElseThrow())).isEqualTo(json(expected));
    }

    @Test
    void retrieveReturnsWhatCreateReturned() {
        Assistant created = createFull();

        assertThat(assistants().retrieve(created.id())).isEqualTo(created);
    }

    @Test
    void modifyChangesOnlyTheFieldsSent() {
        Assistant created = createFull();

        Assistant renamed = assistants().update(created.id(), AssistantUpdateParams.builder().name("Physics tutor").build());

        assertThat(renamed.name()).contains("Physics tutor");
        assertThat(treeWithout(renamed, "name")).isEqualTo(treeWithout(created, "name"));
        assertThat(assistants().retrieve(created.id())).isEqualTo(renamed);
    }

    @Test
    void modifyReplacesMetadataAndNullClearsAField() {
        Assistant created = createFull();

        Assistant modified = assistants().update(created.id(), AssistantUpdateParams.builder()
                .metadata(AssistantUpdateParams.Metadata.builder().putAllAdditionalProperties(pairs("team", "physics")).build())
                .description(Optional.empty())
                .temperature(0.2)
                .build());

        assertThat(tree(modified.metadata().orElseThrow())).isEqualTo(json("{\"team\": \"physics\"}"));
        assertThat(modified.description()).isEmpty();
        assertThat(modified.temperature()).contains(0.2);
        assertThat(modified.topP()).contains(0.9);
        assertThat(modified.instructions()).contains("You are a personal math tutor.");
        assertThat(modified.createdAt()).isEqualTo(created.createdAt());
        assertThat(assistants().retrieve(created.id())).isEqualTo(modified);
    }

    @Test
    void modifyingToolsNormalisesThemLikeCreate() {
        Assistant created = createMinimal();

        Assistant modified = assistants().update(created.id(), AssistantUpdateParams.builder()
                .addFunctionTool(FunctionDefinition.builder().name("ping").build())
                .addTool(CodeInterpreterTool.builder().build())
                .build());

        assertThat(tree(modified.tools())).isEqualTo(json("""
                [{"type": "function", "function": {"name": "ping", "parameters": {"type": "object", "properties": {}},
                  "strict": false}},
                 {"type": "code_interpreter"}]"""));
        assertThat(tree(modified.toolResources().orElseThrow())).isEqualTo(json("{\"code_interpreter\": {\"file_ids\": []}}"));
    }

    @Test
    void deleteRemovesTheAssistant() {
        Assistant created = createMinimal();

        AssistantDeleted deleted = assistants().delete(created.id());

        assertThat(deleted.id()).isEqualTo(created.id());
        assertThat(deleted.deleted()).isTrue();
        assertThat(tree(deleted._object_())).isEqualTo(json("\"assistant.deleted\""));
        assertNotFound(() -> assistants().retrieve(created.id()), created.id());
        assertNotFound(() -> assistants().update(created.id(), AssistantUpdateParams.builder().name("x").build()), created.id());
        assertNotFound(() -> assistants().delete(created.id()), created.id());
        assertThat(assistants().list(AssistantListParams.builder().limit(100).build()).autoPager().stream().map(Assistant::id))
                .doesNotContain(created.id());
    }

    @Test
    void unknownAssistantIsNotFound() {
        String unknown = "asst_" + "0".repeat(24);

        assertNotFound(() -> assistants().retrieve(unknown), unknown);
    }

    @Test
    void listShowsNewestFirstWithFullObjects() {
        Assistant first = createMinimal();
        Assistant second = createFull();

        List<Assistant> listed = assistants().list().data();

        assertThat(listed).startsWith(second, first);
    }

    private static void assertNotFound(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String id) {
        assertThatThrownBy(call)
                .isInstanceOf(NotFoundException.class)
                .hasMessageContaining("No assistant found with id '" + id + "'.");
    }
}
