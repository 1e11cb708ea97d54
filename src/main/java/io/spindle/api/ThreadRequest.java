package io.spindle.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Create and modify thread bodies. */
public final class ThreadRequest {
    private static final int MAX_MESSAGES = 1000;

    /** A new thread with its initial messages, in the order given, and the vector store its tool_resources create. */
    public record Parsed(Map<String, String> metadata, JsonNode toolResources, Optional<VectorStoreRequest.InlineStore> newStore,
                         List<MessageRequest.Parsed> messages) {

        public ThreadObject toThread(String id, long now) {
            return new ThreadObject(id, now, metadata, toolResources);
        }
    }

    private ThreadRequest() {}

    public static Parsed create(JsonNode json) {
        return parse(Body.of(json, Set.of("messages", "tool_resources", "metadata")));
    }

    /** The {@code thread} object nested in a create-thread-and-run body. */
    public static Parsed createNested(JsonNode json, String param) {
        return parse(Body.nested(json, param, Set.of("messages", "tool_resources", "metadata")));
    }

    private static Parsed parse(Body b) {
        List<MessageRequest.Parsed> messages = new ArrayList<>();
        List<JsonNode> items = b.array("messages", 0, MAX_MESSAGES);
        if (items != null) {
            for (int i = 0; i < items.size(); i++) {
                messages.add(MessageRequest.parseNested(items.get(i), b.param("messages") + "[" + i + "]"));
            }
        }
        Tools.Resources resources = Tools.resources(b, "tool_resources");
        return new Parsed(AssistantRequest.orDefault(b.metadata("metadata"), Map.of()), resources.json(), resources.newStore(), messages);
    }

    public static WithInlineStore<ThreadObject> modify(ThreadObject t, JsonNode json) {
        Body b = Body.of(json, Set.of("tool_resources", "metadata"));
        Map<String, String> metadata = b.has("metadata") ? AssistantRequest.orDefault(b.metadata("metadata"), Map.of()) : t.metadata();
        if (!b.has("tool_resources")) {
            return new WithInlineStore<>(new ThreadObject(t.id(), t.createdAt(), metadata, t.toolResources()), Optional.empty());
        }
        Tools.Resources resources = Tools.resources(b, "tool_resources");
        return new WithInlineStore<>(new ThreadObject(t.id(), t.createdAt(), metadata, resources.json()), resources.newStore());
    }
}
