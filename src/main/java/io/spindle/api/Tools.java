package io.spindle.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Parses and normalises {@code tools}, {@code tool_resources} and {@code response_format} the way the
 * live API echoed them: functions gain {@code parameters} and {@code strict}, file_search gains its
 * ranking options, code_interpreter gets an empty {@code file_ids} resource.
 */
public final class Tools {
    private static final Pattern FUNCTION_NAME = Pattern.compile("^[a-zA-Z0-9_-]{1,64}$");
    private static final List<String> TOOL_TYPES = List.of("code_interpreter", "file_search", "function");
    private static final List<String> RANKERS = List.of("auto", "default_2024_08_21");
    private static final String DEFAULT_RANKER = "default_2024_08_21";

    private Tools() {}

    /** The normalised tools array at {@code key}, or null when absent. */
    public static ArrayNode tools(Body body, String key, int maxItems) {
        List<JsonNode> items = body.array(key, 0, maxItems);
        if (items == null) {
            return null;
        }
        ArrayNode out = Json.array();
        for (int i = 0; i < items.size(); i++) {
            out.add(tool(items.get(i), body.param(key) + "[" + i + "]"));
        }
        return out;
    }

    private static ObjectNode tool(JsonNode item, String param) {
        Body tool = Body.nested(item, param, Set.of("type", "function", "file_search"));
        String type = tool.choice("type", TOOL_TYPES);
        if (type == null) {
            throw Body.missing(tool.param("type"));
        }
        ObjectNode out = Json.object().put("type", type);
        switch (type) {
            case "function" -> out.set("function", function(tool));
            case "file_search" -> out.set("file_search", fileSearch(tool));
            default -> {
                if (tool.has("function") || tool.has("file_search")) {
                    String extra = tool.has("function") ? "function" : "file_search";
                    throw ApiException.invalid("Unknown parameter: '" + tool.param(extra) + "'.", tool.param(extra), "unknown_parameter");
                }
            }
        }
        return out;
    }

    private static ObjectNode function(Body tool) {
        Body fn = tool.object("function", Set.of("name", "description", "parameters", "strict"));
        if (fn == null) {
            throw Body.missing(tool.param("function"));
        }
        String name = fn.requiredString("name", Integer.MAX_VALUE);
        if (!FUNCTION_NAME.matcher(name).matches()) {
            throw ApiException.invalid("Invalid '" + fn.param("name") + "': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]{1,64}$'.",
                    fn.param("name"), "invalid_value");
        }
        ObjectNode out = Json.object().put("name", name);
        String description = fn.string("description", 1024);
        if (description != null) {
            out.put("description", description);
        }
        JsonNode parameters = fn.freeObject("parameters");
        out.set("parameters", parameters != null ? parameters : Json.object().put("type", "object").set("properties", Json.object()));
        Boolean strict = fn.bool("strict");
        out.put("strict", strict != null && strict);
        return out;
    }

    private static ObjectNode fileSearch(Body tool) {
        Body fs = tool.object("file_search", Set.of("max_num_results", "ranking_options"));
        ObjectNode out = Json.object();
        String ranker = DEFAULT_RANKER;
        double threshold = 0.0;
        if (fs != null) {
            Long max = fs.integer("max_num_results", 1, 50);
            if (max != null) {
                out.put("max_num_results", max);
            }
            Body ranking = fs.object("ranking_options", Set.of("ranker", "score_threshold"));
            if (ranking != null) {
                String r = ranking.choice("ranker", RANKERS);
                if (r != null && !r.equals("auto")) {
                    ranker = r;
                }
                Double t = ranking.number("score_threshold", 0, 1);
                if (t != null) {
                    threshold = t;
                }
            }
        }
        ObjectNode ranking = out.putObject("ranking_options");
        ranking.put("ranker", ranker).put("score_threshold", threshold).putNull("hybrid_search");
        return out;
    }

    /**
     * {@code tool_resources} of an assistant or thread at {@code key}, normalised: {@code code_interpreter.file_ids}
     * (at most 20) and {@code file_search.vector_store_ids} (at most 1), or {@code file_search.vector_stores} (at most
     * 1), a store to create whose id then stands in {@code vector_store_ids}. {@code {}} when absent or null.
     */
    public static Resources resources(Body body, String key) {
        return parse(body, key, true);
    }

    /** The {@code tool_resources} of a create-thread-and-run body, for its run: ids only, no store is created. */
    public static ObjectNode runResources(Body body, String key) {
        return parse(body, key, false).json();
    }

    /** Parsed {@code tool_resources}, and the vector store they ask to create. */
    public record Resources(ObjectNode json, Optional<VectorStoreRequest.InlineStore> newStore) {}

    private static Resources parse(Body body, String key, boolean inlineStores) {
        Body res = body.object(key, Set.of("code_interpreter", "file_search"));
        ObjectNode out = Json.object();
        if (res == null) {
            return new Resources(out, Optional.empty());
        }
        Body ci = res.object("code_interpreter", Set.of("file_ids"));
        if (ci != null) {
            out.putObject("code_interpreter").set("file_ids", ids(ci, "file_ids", 20, Ids.FILE));
        }
        Optional<VectorStoreRequest.InlineStore> newStore = Optional.empty();
        Body fs = res.object("file_search", inlineStores ? Set.of("vector_store_ids", "vector_stores") : Set.of("vector_store_ids"));
        if (fs != null) {
            ArrayNode ids = ids(fs, "vector_store_ids", 1, Ids.VECTOR_STORE);
            newStore = inlineStore(fs);
            if (newStore.isPresent()) {
                if (!ids.isEmpty()) {
                    throw ApiException.invalid("Invalid '" + fs.param("vector_stores") + "': 'vector_store_ids' and 'vector_stores' "
                            + "cannot both be given; there can be a maximum of 1 vector store.", fs.param("vector_stores"), "invalid_value");
                }
                ids.add(newStore.get().id());
            }
            out.putObject("file_search").set("vector_store_ids", ids);
        }
        return new Resources(out, newStore);
    }

    private static Optional<VectorStoreRequest.InlineStore> inlineStore(Body fileSearch) {
        List<JsonNode> items = fileSearch.array("vector_stores", 0, 1);
        if (items == null || items.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(VectorStoreRequest.inline(items.getFirst(), fileSearch.param("vector_stores") + "[0]"));
    }

    private static ArrayNode ids(Body body, String key, int max, String prefix) {
        List<JsonNode> items = body.array(key, 0, max);
        ArrayNode out = Json.array();
        if (items == null) {
            return out;
        }
        for (int i = 0; i < items.size(); i++) {
            String param = body.param(key) + "[" + i + "]";
            JsonNode v = items.get(i);
            if (!v.isTextual()) {
                throw Body.wrongType(param, "a string", v);
            }
            out.add(Ids.require(param, v.textValue(), prefix));
        }
        return out;
    }

    /** The vector store of {@code tool_resources} for file_search ({@code file_search.vector_store_ids[0]}), if any. */
    public static Optional<String> vectorStoreId(JsonNode toolResources) {
        JsonNode ids = toolResources == null ? null : toolResources.path("file_search").path("vector_store_ids");
        return ids == null || ids.isEmpty() ? Optional.empty() : Optional.of(ids.get(0).asText());
    }

    /**
     * Removes a deleted file from {@code tool_resources.code_interpreter.file_ids} of an assistant or
     * thread (its stored JSON, changed in place); true when the file was there.
     */
    public static boolean detachFile(JsonNode object, String fileId) {
        if (!(object.path("tool_resources").path("code_interpreter").path("file_ids") instanceof ArrayNode ids)) {
            return false;
        }
        boolean removed = false;
        for (int i = ids.size() - 1; i >= 0; i--) {
            if (fileId.equals(ids.get(i).asText())) {
                ids.remove(i);
                removed = true;
            }
        }
        return removed;
    }

    /** Adds the empty {@code code_interpreter.file_ids} resource the live API showed once the tool is enabled. */
    public static ObjectNode withToolDefaults(JsonNode resources, JsonNode tools) {
        ObjectNode out = resources == null ? Json.object() : (ObjectNode) resources.deepCopy();
        boolean codeInterpreter = false;
        for (JsonNode t : tools) {
            codeInterpreter |= "code_interpreter".equals(t.path("type").asText());
        }
        if (codeInterpreter && !out.has("code_interpreter")) {
            out.putObject("code_interpreter").putArray("file_ids");
        }
        return out;
    }

    /**
     * {@code response_format}: {@code "auto"}, or {@code {"type": text | json_object | json_schema}}; echoed as sent,
     * less null members of {@code json_schema}.
     */
    public static JsonNode responseFormat(Body body, String key) {
        JsonNode v = body.raw(key);
        if (v == null) {
            return null;
        }
        String param = body.param(key);
        if (v.isTextual()) {
            if (!v.textValue().equals("auto")) {
                throw Body.invalidValue(param, v.textValue(), List.of("auto"));
            }
            return v;
        }
        Body format = Body.nested(v, param, Set.of("type", "json_schema"));
        String type = format.choice("type", List.of("text", "json_object", "json_schema"));
        if (type == null) {
            throw Body.missing(format.param("type"));
        }
        if (type.equals("json_schema")) {
            Body schema = format.object("json_schema", Set.of("name", "description", "schema", "strict"));
            if (schema == null) {
                throw Body.missing(format.param("json_schema"));
            }
            String name = schema.requiredString("name", 64);
            if (!FUNCTION_NAME.matcher(name).matches()) {
                throw ApiException.invalid("Invalid '" + schema.param("name") + "': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]{1,64}$'.",
                        schema.param("name"), "invalid_value");
            }
            schema.string("description", Integer.MAX_VALUE);
            schema.freeObject("schema");
            schema.bool("strict");
            // a null member means "not given": echo the object without it (the schema has no nullable description or schema)
            ObjectNode out = (ObjectNode) v.deepCopy();
            ObjectNode echoed = (ObjectNode) out.get("json_schema");
            for (String member : List.of("description", "schema", "strict")) {
                if (echoed.has(member) && echoed.get(member).isNull()) {
                    echoed.remove(member);
                }
            }
            return out;
        } else if (format.has("json_schema")) {
            throw ApiException.invalid("Unknown parameter: '" + format.param("json_schema") + "'.", format.param("json_schema"), "unknown_parameter");
        }
        return v;
    }
}
