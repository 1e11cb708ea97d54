package io.spindle.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads one JSON object of a request with OpenAI's validation errors: every failure names the
 * parameter by its full path (e.g. {@code tools[0].function.name}) and uses the wording the real
 * service used. Absent and {@code null} values read as {@code null}; {@link #has} tells them apart.
 */
public final class Body {
    private static final int METADATA_PAIRS = 16;
    private static final int METADATA_KEY_LENGTH = 64;
    private static final int METADATA_VALUE_LENGTH = 512;
    /**
     * How many levels a free-form JSON value (a function's parameters, a response format's schema)
     * may nest. Every other part of a request is parsed member by member, so no stored object nests
     * much deeper than this, far below {@link Json#MAX_DEPTH}: lists, runs and events that carry it
     * can always be written.
     */
    public static final int MAX_DEPTH = 64;

    private final ObjectNode node;
    private final String path;

    private Body(ObjectNode node, String path) {
        this.node = node;
        this.path = path;
    }

    /** The top-level body; any key outside {@code allowed} is rejected as an unknown parameter. */
    public static Body of(JsonNode root, Set<String> allowed) {
        if (root == null || root.isMissingNode() || root.isNull()) {
            root = Json.object();
        }
        if (!root.isObject()) {
            throw ApiException.invalid("Invalid body: expected a JSON object, but got " + typeName(root) + " instead.",
                    null, "invalid_type");
        }
        Body body = new Body((ObjectNode) root, "");
        body.allowOnly(allowed);
        return body;
    }

    /** A nested object at {@code param}, checked for unknown keys. */
    public static Body nested(JsonNode value, String param, Set<String> allowed) {
        if (!value.isObject()) {
            throw wrongType(param, "an object", value);
        }
        Body body = new Body((ObjectNode) value, param);
        body.allowOnly(allowed);
        return body;
    }

    public String param(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    public boolean has(String key) {
        return node.has(key);
    }

    public JsonNode raw(String key) {
        JsonNode v = node.get(key);
        return v == null || v.isNull() ? null : v;
    }

    public String requiredString(String key, int maxLength) {
        String value = string(key, maxLength);
        if (value == null) {
            throw missing(param(key));
        }
        return value;
    }

    public String string(String key, int maxLength) {
        JsonNode v = raw(key);
        if (v == null) {
            return null;
        }
        if (!v.isTextual()) {
            throw wrongType(param(key), "a string", v);
        }
        return checkLength(param(key), v.textValue(), maxLength);
    }

    /** A string that must be one of {@code allowed}. */
    public String choice(String key, List<String> allowed) {
        String value = string(key, Integer.MAX_VALUE);
        if (value != null && !allowed.contains(value)) {
            throw invalidValue(param(key), value, allowed);
        }
        return value;
    }

    public Double number(String key, double min, double max) {
        JsonNode v = raw(key);
        if (v == null) {
            return null;
        }
        if (!v.isNumber()) {
            throw wrongType(param(key), "a decimal", v);
        }
        double d = v.doubleValue();
        if (d < min) {
            throw ApiException.invalid("Invalid '" + param(key) + "': decimal below minimum value. Expected a value >= "
                    + plain(min) + ", but got " + v.asText() + " instead.", param(key), "decimal_below_min_value");
        }
        if (d > max) {
            throw ApiException.invalid("Invalid '" + param(key) + "': decimal above maximum value. Expected a value <= "
                    + plain(max) + ", but got " + v.asText() + " instead.", param(key), "decimal_above_max_value");
        }
        return d;
    }

    public Long integer(String key, long min, long max) {
        JsonNode v = raw(key);
        if (v == null) {
            return null;
        }
        return integerValue(param(key), v, min, max);
    }

    public Boolean bool(String key) {
        JsonNode v = raw(key);
        if (v == null) {
            return null;
        }
        if (!v.isBoolean()) {
            throw wrongType(param(key), "a boolean", v);
        }
        return v.booleanValue();
    }

    /** A free-form JSON object (e.g. a JSON schema), at most {@link #MAX_DEPTH} levels deep; null when absent. */
    public JsonNode freeObject(String key) {
        JsonNode v = raw(key);
        if (v == null) {
            return null;
        }
        if (!v.isObject()) {
            throw wrongType(param(key), "an object", v);
        }
        if (!nestsWithin(v, MAX_DEPTH)) {
            throw ApiException.invalid("Invalid '" + param(key) + "': object nested too deeply. Expected at most " + MAX_DEPTH
                    + " levels of nesting.", param(key), "object_above_max_depth");
        }
        return v;
    }

    /** Whether a value nests at most {@code levels} deep ({@code {}} is one level); looks no deeper than that. */
    static boolean nestsWithin(JsonNode value, int levels) {
        if (!value.isContainerNode()) {
            return true;
        }
        if (levels == 0) {
            return false;
        }
        for (JsonNode child : value) {
            if (!nestsWithin(child, levels - 1)) {
                return false;
            }
        }
        return true;
    }

    public Body object(String key, Set<String> allowed) {
        JsonNode v = raw(key);
        return v == null ? null : nested(v, param(key), allowed);
    }

    /** The elements of an array, at most {@code maxItems}; {@code null} when absent. */
    public List<JsonNode> array(String key, int minItems, int maxItems) {
        JsonNode v = raw(key);
        if (v == null) {
            return null;
        }
        if (!v.isArray()) {
            throw wrongType(param(key), "an array", v);
        }
        ArrayNode array = (ArrayNode) v;
        if (array.size() > maxItems) {
            throw ApiException.invalid("Invalid '" + param(key) + "': array too long. Expected an array with maximum length "
                    + maxItems + ", but got an array with length " + array.size() + " instead.", param(key), "array_above_max_length");
        }
        if (array.size() < minItems) {
            throw ApiException.invalid("Invalid '" + param(key) + "': empty array. Expected an array with minimum length "
                    + minItems + ", but got an array with length " + array.size() + " instead.", param(key), "empty_array");
        }
        List<JsonNode> items = new ArrayList<>(array.size());
        array.forEach(items::add);
        return items;
    }

    /** Metadata: at most 16 string pairs, keys up to 64 characters, values up to 512. */
    public Map<String, String> metadata(String key) {
        JsonNode v = raw(key);
        if (v == null) {
            return null;
        }
        String p = param(key);
        if (!v.isObject()) {
            throw wrongType(p, "an object", v);
        }
        if (v.size() > METADATA_PAIRS) {
            throw ApiException.invalid("Invalid '" + p + "': too many properties. Expected an object with at most "
                    + METADATA_PAIRS + " properties, but got an object with " + v.size() + " properties instead.", p, "object_above_max_properties");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().length() > METADATA_KEY_LENGTH) {
                throw ApiException.invalid("Invalid '" + p + "': metadata key '" + e.getKey() + "' is too long. Expected a key with maximum length "
                        + METADATA_KEY_LENGTH + ", but got a key with length " + e.getKey().length() + " instead.", p, "string_above_max_length");
            }
            if (!e.getValue().isTextual()) {
                throw wrongType(p + "." + e.getKey(), "a string", e.getValue());
            }
            out.put(e.getKey(), checkLength(p + "." + e.getKey(), e.getValue().textValue(), METADATA_VALUE_LENGTH));
        }
        return out;
    }

    private void allowOnly(Set<String> allowed) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!allowed.contains(key)) {
                throw ApiException.invalid("Unknown parameter: '" + param(key) + "'.", param(key), "unknown_parameter");
            }
        }
    }

    public static long integerValue(String param, JsonNode v, long min, long max) {
        if (!v.isIntegralNumber() && !(v.isNumber() && v.doubleValue() == Math.rint(v.doubleValue()))) {
            throw wrongType(param, "an integer", v);
        }
        boolean fits = v.canConvertToLong();
        long n = fits ? v.longValue() : 0;
        String got = fits ? Long.toString(n) : v.asText();
        if (fits ? n < min : v.doubleValue() < 0) {
            throw ApiException.invalid("Invalid '" + param + "': integer below minimum value. Expected a value >= "
                    + min + ", but got " + got + " instead.", param, "integer_below_min_value");
        }
        if (!fits || n > max) {
            throw ApiException.invalid("Invalid '" + param + "': integer above maximum value. Expected a value <= "
                    + max + ", but got " + got + " instead.", param, "integer_above_max_value");
        }
        return n;
    }

    public static String checkLength(String param, String value, int maxLength) {
        if (value.length() > maxLength) {
            throw ApiException.invalid("Invalid '" + param + "': string too long. Expected a string with maximum length "
                    + maxLength + ", but got a string with length " + value.length() + " instead.", param, "string_above_max_length");
        }
        return value;
    }

    public static ApiException missing(String param) {
        return ApiException.invalid("Missing required parameter: '" + param + "'.", param, "missing_required_parameter");
    }

    public static ApiException wrongType(String param, String expected, JsonNode got) {
        return ApiException.invalid("Invalid type for '" + param + "': expected " + expected + ", but got "
                + typeName(got) + " instead.", param, "invalid_type");
    }

    public static ApiException invalidValue(String param, String value, List<String> allowed) {
        return ApiException.invalid("Invalid value: '" + value + "'. Supported values are: "
                + String.join(", ", allowed.stream().map(a -> "'" + a + "'").toList()) + ".", param, "invalid_value");
    }

    private static String typeName(JsonNode v) {
        if (v.isTextual()) return "a string";
        if (v.isIntegralNumber()) return "an integer";
        if (v.isNumber()) return "a decimal";
        if (v.isBoolean()) return "a boolean";
        if (v.isArray()) return "an array";
        if (v.isObject()) return "an object";
        return "null";
    }

    private static String plain(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }
}
