package io.spindle.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * A run's Chat Completions request as one route's endpoint takes it. The engine builds one request shape for every
 * model; what differs between endpoints is decided here, from the route alone.
 */
public final class RequestShape {

    /** What a route that takes no images but is configured to go on anyway sends instead of each image. */
    static final String IMAGE_PLACEHOLDER = "[image omitted: this model does not take images]";

    private RequestShape() {}

    /**
     * {@code body} for {@code route}: a copy, the caller's body untouched.
     *
     * @throws UpstreamException {@link UpstreamException.Kind#INVALID_PROMPT} when the prompt holds images and the
     *                           route refuses them
     */
    public static ObjectNode adapt(ObjectNode body, ModelRoute route) throws UpstreamException {
        ObjectNode out = body.deepCopy();
        String model = body.path("model").asText();
        // For Azure the deployment is in the URL and the body's model is ignored; it still gets the deployment name,
        // which is what Azure's OpenAI-style v1 endpoint and gateways in front of Azure expect there.
        route.upstreamModel().ifPresent(name -> out.put("model", name));
        route.reasoning().ifPresent(reasoning -> tokenLimit(out, reasoning));
        if (!route.sampling()) {
            out.remove(List.of("temperature", "top_p"));
        }
        JsonNode messages = out.path("messages");
        if (messages.isArray()) {
            if (route.developerRole()) {
                developerRole((ArrayNode) messages);
            }
            images((ArrayNode) messages, route, model);
        }
        return out;
    }

    /**
     * Reasoning models take {@code max_completion_tokens} and {@code reasoning_effort}; other models on servers that
     * predate them (vLLM, Ollama, older Azure API versions) know only {@code max_tokens}.
     */
    private static void tokenLimit(ObjectNode body, boolean reasoning) {
        String wanted = reasoning ? "max_completion_tokens" : "max_tokens";
        String other = reasoning ? "max_tokens" : "max_completion_tokens";
        JsonNode limit = body.remove(other);
        if (limit != null && !body.has(wanted)) {
            body.set(wanted, limit);
        }
        if (!reasoning) {
            body.remove("reasoning_effort");
        }
    }

    private static void developerRole(ArrayNode messages) {
        for (JsonNode message : messages) {
            if (message.isObject() && message.path("role").asText().equals("system")) {
                ((ObjectNode) message).put("role", "developer");
            }
        }
    }

    /** Only user messages carry images in Chat Completions; every message is looked at all the same. */
    private static void images(ArrayNode messages, ModelRoute route, String model) throws UpstreamException {
        if (route.images() == ModelRoute.Images.ACCEPT) {
            return;
        }
        for (JsonNode message : messages) {
            JsonNode content = message.path("content");
            if (!content.isArray()) {
                continue;
            }
            for (int i = 0; i < content.size(); i++) {
                if (!content.get(i).path("type").asText().equals("image_url")) {
                    continue;
                }
                if (route.images() == ModelRoute.Images.REFUSE) {
                    throw new UpstreamException(UpstreamException.Kind.INVALID_PROMPT, "The model '" + model + "' (route '"
                            + route.name() + "') does not accept images; remove them from the thread, or run a model that does.");
                }
                ObjectNode placeholder = ((ArrayNode) content).objectNode().put("type", "text").put("text", IMAGE_PLACEHOLDER);
                ((ArrayNode) content).set(i, placeholder);
            }
        }
    }
}
