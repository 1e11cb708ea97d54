package io.spindle.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Create and modify assistant bodies, with the spec's limits and the live API's defaults. */
public final class AssistantRequest {
    static final Set<String> KEYS = Set.of("model", "name", "description", "instructions", "tools", "tool_resources",
            "metadata", "temperature", "top_p", "reasoning_effort", "response_format");
    public static final List<String> REASONING_EFFORTS = List.of("none", "minimal", "low", "medium", "high", "xhigh", "max");
    public static final int MAX_INSTRUCTIONS = 256_000;
    private static final TextNode AUTO = TextNode.valueOf("auto");

    private AssistantRequest() {}

    public static WithInlineStore<AssistantObject> create(JsonNode json, String id, long now) {
        Body b = Body.of(json, KEYS);
        String model = b.requiredString("model", 256);
        JsonNode tools = orDefault(Tools.tools(b, "tools", 128), Json.array());
        Tools.Resources resources = Tools.resources(b, "tool_resources");
        return new WithInlineStore<>(new AssistantObject(id, now,
                b.string("name", 256),
                b.string("description", 512),
                model,
                b.string("instructions", MAX_INSTRUCTIONS),
                tools,
                orDefault(b.number("top_p", 0, 1), 1.0),
                orDefault(b.number("temperature", 0, 2), 1.0),
                b.choice("reasoning_effort", REASONING_EFFORTS),
                Tools.withToolDefaults(resources.json(), tools),
                orDefault(b.metadata("metadata"), Map.of()),
                orDefault(Tools.responseFormat(b, "response_format"), AUTO)), resources.newStore());
    }

    /** Applies a modify body: a key that is present replaces the value (null restores the default). */
    public static WithInlineStore<AssistantObject> modify(AssistantObject a, JsonNode json) {
        Body b = Body.of(json, KEYS);
        String model = b.has("model") ? b.requiredString("model", 256) : a.model();
        String name = b.has("name") ? b.string("name", 256) : a.name();
        String description = b.has("description") ? b.string("description", 512) : a.description();
        String instructions = b.has("instructions") ? b.string("instructions", MAX_INSTRUCTIONS) : a.instructions();
        JsonNode tools = b.has("tools") ? orDefault(Tools.tools(b, "tools", 128), Json.array()) : a.tools();
        Double topP = b.has("top_p") ? orDefault(b.number("top_p", 0, 1), 1.0) : a.topP();
        Double temperature = b.has("temperature") ? orDefault(b.number("temperature", 0, 2), 1.0) : a.temperature();
        String effort = b.has("reasoning_effort") ? b.choice("reasoning_effort", REASONING_EFFORTS) : a.reasoningEffort();
        Optional<Tools.Resources> changed = b.has("tool_resources") ? Optional.of(Tools.resources(b, "tool_resources")) : Optional.empty();
        JsonNode resources = changed.<JsonNode>map(Tools.Resources::json).orElse(a.toolResources());
        Map<String, String> metadata = b.has("metadata") ? orDefault(b.metadata("metadata"), Map.of()) : a.metadata();
        JsonNode format = b.has("response_format") ? orDefault(Tools.responseFormat(b, "response_format"), AUTO) : a.responseFormat();
        return new WithInlineStore<>(new AssistantObject(a.id(), a.createdAt(), name, description, model, instructions, tools, topP,
                temperature, effort, Tools.withToolDefaults(resources, tools), metadata, format),
                changed.flatMap(Tools.Resources::newStore));
    }

    static <T> T orDefault(T value, T fallback) {
        return value != null ? value : fallback;
    }
}
