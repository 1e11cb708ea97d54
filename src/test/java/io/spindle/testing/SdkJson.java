package io.spindle.testing;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.openai.core.JsonValue;
import com.openai.core.ObjectMappers;
import com.openai.models.beta.assistants.AssistantStreamEvent;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Compares what the SDK parsed with expected JSON: an SDK object is written back with the SDK's
 * own mapper (so fields the SDK does not model, like {@code reasoning_effort}, are kept) and read
 * again as a plain tree, in which {@code 5} and {@code 5L} or {@code 1.0} and {@code 1.0d} compare equal.
 */
public final class SdkJson {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private SdkJson() {}

    /** An SDK model, list of models or JsonValue as a plain JSON tree. */
    public static JsonNode tree(Object sdkValue) {
        try {
            return MAPPER.readTree(ObjectMappers.jsonMapper().writeValueAsString(sdkValue));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** An SDK model as a JSON object without the given keys (e.g. the generated id and created_at). */
    public static JsonNode treeWithout(Object sdkValue, String... keys) {
        ObjectNode object = (ObjectNode) tree(sdkValue);
        object.remove(java.util.List.of(keys));
        return object;
    }

    /**
     * An event of an SDK stream written back as name and data (the SDK keeps fields it does not model), validated
     * against the spec's schema for its name; an event the SDK does not know fails.
     */
    public static SseEvents.Event event(AssistantStreamEvent sdkEvent) {
        JsonNode tree = tree(sdkEvent);
        if (!tree.path("event").isTextual()) {
            throw new AssertionError("an event the SDK does not know: " + tree);
        }
        SseEvents.Event event = new SseEvents.Event(tree.path("event").asText(), tree.path("data").toString());
        SseEvents.validate(event);
        return event;
    }

    /** JSON text (text blocks welcome) as a tree. */
    public static JsonNode json(String text) {
        try {
            return MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("bad JSON in test: " + text, e);
        }
    }

    /** Metadata pairs for any SDK Metadata builder: {@code Metadata.builder().putAllAdditionalProperties(pairs("k", "v"))}. */
    public static Map<String, JsonValue> pairs(String... keysAndValues) {
        if (keysAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("keys and values must come in pairs");
        }
        Map<String, JsonValue> out = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            out.put(keysAndValues[i], JsonValue.from(keysAndValues[i + 1]));
        }
        return out;
    }
}
