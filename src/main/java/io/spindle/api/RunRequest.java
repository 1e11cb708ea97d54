package io.spindle.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Create-run and create-thread-and-run bodies. A run copies what it needs from its assistant at
 * creation, so later changes to the assistant do not touch it; the run object echoes the values
 * in effect.
 */
public final class RunRequest {
    private static final Set<String> RUN_KEYS = Set.of("assistant_id", "model", "instructions", "additional_instructions",
            "additional_messages", "tools", "metadata", "temperature", "top_p", "stream", "max_prompt_tokens",
            "max_completion_tokens", "truncation_strategy", "tool_choice", "parallel_tool_calls", "response_format",
            "reasoning_effort");
    private static final Set<String> THREAD_AND_RUN_KEYS = Set.of("assistant_id", "thread", "model", "instructions",
            "tools", "tool_resources", "metadata", "temperature", "top_p", "stream", "max_prompt_tokens",
            "max_completion_tokens", "truncation_strategy", "tool_choice", "parallel_tool_calls", "response_format",
            "reasoning_effort");
    public static final String INCLUDE_FILE_SEARCH_CONTENT = "step_details.tool_calls[*].file_search.results[*].content";

    /** What the client asked for; {@link #toRun} merges it with the assistant. */
    public record Parsed(
            String assistantId,
            String model,
            String instructions,
            String additionalInstructions,
            List<MessageRequest.Parsed> additionalMessages,
            JsonNode tools,
            Map<String, String> metadata,
            Double temperature,
            Double topP,
            boolean stream,
            Long maxPromptTokens,
            Long maxCompletionTokens,
            JsonNode truncationStrategy,
            JsonNode toolChoice,
            Boolean parallelToolCalls,
            JsonNode responseFormat,
            String reasoningEffort,
            ThreadRequest.Parsed thread,
            JsonNode toolResources) {

        public RunObject toRun(String id, String threadId, AssistantObject assistant, long now, long expiresAt) {
            JsonNode effectiveTools = tools != null ? tools : assistant.tools();
            checkToolChoice(toolChoice, effectiveTools);
            String base = instructions != null ? instructions : assistant.instructions();
            String system = join(base, additionalInstructions);
            return new RunObject(id, now, assistant.id(), threadId, RunObject.QUEUED, null, expiresAt, null, null, null,
                    null, null,
                    model != null ? model : assistant.model(),
                    system,
                    effectiveTools,
                    toolResources != null ? toolResources : Json.object(),
                    metadata,
                    temperature != null ? temperature : assistant.temperature(),
                    topP != null ? topP : assistant.topP(),
                    reasoningEffort != null ? reasoningEffort : assistant.reasoningEffort(),
                    maxCompletionTokens,
                    maxPromptTokens,
                    truncationStrategy,
                    null, null,
                    responseFormat != null ? responseFormat : assistant.responseFormat(),
                    toolChoice,
                    parallelToolCalls == null || parallelToolCalls);
        }
    }

    private RunRequest() {}

    public static Parsed createRun(JsonNode json) {
        Body b = Body.of(json, RUN_KEYS);
        List<MessageRequest.Parsed> additional = new ArrayList<>();
        List<JsonNode> items = b.array("additional_messages", 0, 1000);
        if (items != null) {
            for (int i = 0; i < items.size(); i++) {
                additional.add(MessageRequest.parseNested(items.get(i), b.param("additional_messages") + "[" + i + "]"));
            }
        }
        return parse(b, b.string("additional_instructions", AssistantRequest.MAX_INSTRUCTIONS), additional, null, null);
    }

    public static Parsed createThreadAndRun(JsonNode json) {
        Body b = Body.of(json, THREAD_AND_RUN_KEYS);
        JsonNode threadJson = b.raw("thread");
        ThreadRequest.Parsed thread = threadJson == null
                ? ThreadRequest.createNested(Json.object(), "thread")
                : ThreadRequest.createNested(threadJson, b.param("thread"));
        return parse(b, null, List.of(), thread, Tools.runResources(b, "tool_resources"));
    }

    private static Parsed parse(Body b, String additionalInstructions, List<MessageRequest.Parsed> additionalMessages,
                                ThreadRequest.Parsed thread, JsonNode toolResources) {
        String assistantId = Ids.require(b.param("assistant_id"), b.requiredString("assistant_id", 256), Ids.ASSISTANT);
        Boolean stream = b.bool("stream");
        return new Parsed(
                assistantId,
                b.string("model", 256),
                b.string("instructions", AssistantRequest.MAX_INSTRUCTIONS),
                additionalInstructions,
                additionalMessages,
                Tools.tools(b, "tools", 20),
                AssistantRequest.orDefault(b.metadata("metadata"), Map.of()),
                b.number("temperature", 0, 2),
                b.number("top_p", 0, 1),
                stream != null && stream,
                b.integer("max_prompt_tokens", 256, Integer.MAX_VALUE),
                b.integer("max_completion_tokens", 256, Integer.MAX_VALUE),
                truncationStrategy(b),
                toolChoice(b),
                b.bool("parallel_tool_calls"),
                Tools.responseFormat(b, "response_format"),
                b.choice("reasoning_effort", AssistantRequest.REASONING_EFFORTS),
                thread,
                toolResources);
    }

    /** {@code {"type":"auto"}} (the default) or {@code {"type":"last_messages","last_messages":n}}. */
    private static JsonNode truncationStrategy(Body b) {
        Body t = b.object("truncation_strategy", Set.of("type", "last_messages"));
        ObjectNode out = Json.object();
        if (t == null) {
            return out.put("type", "auto").putNull("last_messages");
        }
        String type = t.choice("type", List.of("auto", "last_messages"));
        if (type == null) {
            throw Body.missing(t.param("type"));
        }
        Long last = t.integer("last_messages", 1, Integer.MAX_VALUE);
        if (type.equals("last_messages") && last == null) {
            throw Body.missing(t.param("last_messages"));
        }
        out.put("type", type);
        return last == null ? out.putNull("last_messages") : out.put("last_messages", last);
    }

    /** {@code none | auto | required}, or a named tool; default {@code auto}. */
    private static JsonNode toolChoice(Body b) {
        JsonNode v = b.raw("tool_choice");
        if (v == null) {
            return TextNode.valueOf("auto");
        }
        String param = b.param("tool_choice");
        if (v.isTextual()) {
            if (!List.of("none", "auto", "required").contains(v.textValue())) {
                throw Body.invalidValue(param, v.textValue(), List.of("none", "auto", "required"));
            }
            return v;
        }
        Body named = Body.nested(v, param, Set.of("type", "function"));
        String type = named.choice("type", List.of("function", "code_interpreter", "file_search"));
        if (type == null) {
            throw Body.missing(named.param("type"));
        }
        ObjectNode out = Json.object().put("type", type);
        if (type.equals("function")) {
            Body fn = named.object("function", Set.of("name"));
            if (fn == null) {
                throw Body.missing(named.param("function"));
            }
            out.putObject("function").put("name", fn.requiredString("name", 64));
        }
        return out;
    }

    private static void checkToolChoice(JsonNode toolChoice, JsonNode tools) {
        if (toolChoice == null || !toolChoice.isObject()) {
            return;
        }
        String type = toolChoice.path("type").asText();
        String name = toolChoice.path("function").path("name").asText(null);
        for (JsonNode tool : tools) {
            if (tool.path("type").asText().equals(type)
                    && (name == null || name.equals(tool.path("function").path("name").asText()))) {
                return;
            }
        }
        String what = name != null ? "function '" + name + "'" : "tool '" + type + "'";
        throw ApiException.invalid("Invalid 'tool_choice': " + what + " is not one of the tools of this run.",
                "tool_choice", "invalid_value");
    }

    private static String join(String instructions, String additional) {
        String base = instructions == null ? "" : instructions;
        if (additional == null || additional.isEmpty()) {
            return base;
        }
        return base.isEmpty() ? additional : base + "\n\n" + additional;
    }

    /** The {@code include[]} query values of create run and the step endpoints. */
    public static List<String> include(List<String> values) {
        for (String v : values) {
            if (!v.equals(INCLUDE_FILE_SEARCH_CONTENT)) {
                throw Body.invalidValue("include", v, List.of(INCLUDE_FILE_SEARCH_CONTENT));
            }
        }
        return values;
    }

    /** A submit_tool_outputs body: every output of the pending calls, in one request. */
    public record ToolOutputs(Map<String, String> outputs, boolean stream) {}

    public static ToolOutputs toolOutputs(JsonNode json) {
        Body b = Body.of(json, Set.of("tool_outputs", "stream"));
        List<JsonNode> items = b.array("tool_outputs", 0, 128);
        if (items == null) {
            throw Body.missing("tool_outputs");
        }
        Map<String, String> outputs = new java.util.LinkedHashMap<>();
        for (int i = 0; i < items.size(); i++) {
            Body item = Body.nested(items.get(i), "tool_outputs[" + i + "]", Set.of("tool_call_id", "output"));
            String callId = item.requiredString("tool_call_id", 256);
            String output = item.string("output", 1_048_576);
            outputs.put(callId, output == null ? "" : output);
        }
        Boolean stream = b.bool("stream");
        return new ToolOutputs(outputs, stream != null && stream);
    }
}
