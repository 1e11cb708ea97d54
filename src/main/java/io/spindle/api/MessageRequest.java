package io.spindle.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A message as clients create it (create message, create thread's {@code messages}, a run's
 * {@code additional_messages}). String content becomes one text part; image parts get
 * {@code detail: "auto"} when none is given; attachments are echoed as sent.
 */
public final class MessageRequest {
    static final Set<String> KEYS = Set.of("role", "content", "attachments", "metadata");
    public static final int MAX_TEXT = 256_000;
    private static final List<String> DETAILS = List.of("auto", "low", "high");
    private static final List<String> ATTACHMENT_TOOLS = List.of("code_interpreter", "file_search");

    /** What the client asked for; ids, timestamps and run data are added by {@link #toMessage}. */
    public record Parsed(String role, ArrayNode content, ArrayNode attachments, Map<String, String> metadata) {

        public MessageObject toMessage(String id, String threadId, long now) {
            return new MessageObject(id, now, null, threadId, null, "completed", null, null, now, role, content,
                    attachments, metadata);
        }
    }

    private MessageRequest() {}

    /** Parses a top-level create-message body. */
    public static Parsed parse(JsonNode json) {
        return parse(Body.of(json, KEYS));
    }

    /** Parses a message nested in another body, e.g. {@code messages[2]}. */
    public static Parsed parseNested(JsonNode json, String param) {
        return parse(Body.nested(json, param, KEYS));
    }

    public static Map<String, String> modifyMetadata(JsonNode json, Map<String, String> current) {
        Body b = Body.of(json, Set.of("metadata"));
        return b.has("metadata") ? AssistantRequest.orDefault(b.metadata("metadata"), Map.of()) : current;
    }

    private static Parsed parse(Body b) {
        String role = b.choice("role", List.of("user", "assistant"));
        if (role == null) {
            throw Body.missing(b.param("role"));
        }
        if (b.raw("content") == null) {
            throw Body.missing(b.param("content"));
        }
        return new Parsed(role, content(b), attachments(b), AssistantRequest.orDefault(b.metadata("metadata"), Map.of()));
    }

    private static ArrayNode content(Body b) {
        JsonNode raw = b.raw("content");
        String param = b.param("content");
        ArrayNode out = Json.array();
        if (raw.isTextual()) {
            out.add(textPart(Body.checkLength(param, raw.textValue(), MAX_TEXT)));
            return out;
        }
        if (!raw.isArray()) {
            throw Body.wrongType(param, "one of a string or array of objects", raw);
        }
        List<JsonNode> parts = b.array("content", 1, 100);
        for (int i = 0; i < parts.size(); i++) {
            out.add(part(parts.get(i), param + "[" + i + "]"));
        }
        return out;
    }

    private static ObjectNode part(JsonNode json, String param) {
        Body part = Body.nested(json, param, Set.of("type", "text", "image_file", "image_url"));
        String type = part.choice("type", List.of("text", "image_file", "image_url"));
        if (type == null) {
            throw Body.missing(part.param("type"));
        }
        for (String other : List.of("text", "image_file", "image_url")) {
            if (!other.equals(type) && part.has(other)) {
                throw ApiException.invalid("Unknown parameter: '" + part.param(other) + "'.", part.param(other), "unknown_parameter");
            }
        }
        return switch (type) {
            case "text" -> textPart(part.requiredString("text", MAX_TEXT));
            case "image_file" -> {
                Body image = required(part, "image_file", Set.of("file_id", "detail"));
                String fileId = Ids.require(image.param("file_id"), image.requiredString("file_id", 256), Ids.FILE);
                ObjectNode out = Json.object().put("type", "image_file");
                out.putObject("image_file").put("file_id", fileId).put("detail", detail(image));
                yield out;
            }
            default -> {
                Body image = required(part, "image_url", Set.of("url", "detail"));
                String url = image.requiredString("url", 65_536);
                checkImageUrl(image.param("url"), url);
                ObjectNode out = Json.object().put("type", "image_url");
                out.putObject("image_url").put("url", url).put("detail", detail(image));
                yield out;
            }
        };
    }

    private static Body required(Body parent, String key, Set<String> keys) {
        Body body = parent.object(key, keys);
        if (body == null) {
            throw Body.missing(parent.param(key));
        }
        return body;
    }

    private static String detail(Body image) {
        String detail = image.choice("detail", DETAILS);
        return detail == null ? "auto" : detail;
    }

    private static void checkImageUrl(String param, String url) {
        try {
            URI uri = URI.create(url);
            if ("data".equals(uri.getScheme()) || ("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null) {
                return;
            }
        } catch (IllegalArgumentException ignored) {
            // reported below
        }
        throw ApiException.invalid("Invalid '" + param + "': expected an http(s) URL or a data URL.", param, "invalid_value");
    }

    public static ObjectNode textPart(String value) {
        ObjectNode part = Json.object().put("type", "text");
        part.putObject("text").put("value", value).putArray("annotations");
        return part;
    }

    private static ArrayNode attachments(Body b) {
        List<JsonNode> items = b.array("attachments", 0, 100);
        ArrayNode out = Json.array();
        if (items == null) {
            return out;
        }
        for (int i = 0; i < items.size(); i++) {
            Body a = Body.nested(items.get(i), b.param("attachments") + "[" + i + "]", Set.of("file_id", "tools"));
            String fileId = Ids.require(a.param("file_id"), a.requiredString("file_id", 256), Ids.FILE);
            List<JsonNode> tools = a.array("tools", 0, 2);
            ArrayNode toolsOut = Json.array();
            if (tools != null) {
                for (int t = 0; t < tools.size(); t++) {
                    Body tool = Body.nested(tools.get(t), a.param("tools") + "[" + t + "]", Set.of("type"));
                    String type = tool.choice("type", ATTACHMENT_TOOLS);
                    if (type == null) {
                        throw Body.missing(tool.param("type"));
                    }
                    toolsOut.add(Json.object().put("type", type));
                }
            }
            ObjectNode attachment = Json.object().put("file_id", fileId);
            attachment.set("tools", toolsOut);
            out.add(attachment);
        }
        return out;
    }
}
