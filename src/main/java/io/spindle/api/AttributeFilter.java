package io.spindle.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The {@code filters} of a vector store search (and of the file_search tool): comparisons of a file attribute with
 * a value, combined with {@code and} / {@code or} to any depth. Values are {@code String}, {@code Double} or
 * {@code Boolean}; {@code in} and {@code nin} take a list of strings and numbers.
 */
public sealed interface AttributeFilter {

    enum Comparator {
        EQ, NE, GT, GTE, LT, LTE, IN, NIN;

        public String wireName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        boolean takesList() {
            return this == IN || this == NIN;
        }

        boolean orders() {
            return this == GT || this == GTE || this == LT || this == LTE;
        }
    }

    /** {@code key} compared with {@code value} (a list for {@code in} / {@code nin}). */
    record Comparison(Comparator comparator, String key, Object value) implements AttributeFilter {}

    /** Every filter must match ({@code and}), or at least one ({@code or}). */
    record Compound(boolean all, List<AttributeFilter> filters) implements AttributeFilter {}

    List<String> TYPES = List.of("eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "and", "or");

    /** Parses the filter at {@code param} (e.g. {@code filters}), naming the exact parameter on bad input. */
    static AttributeFilter parse(JsonNode json, String param) {
        if (!json.isObject()) {
            throw Body.wrongType(param, "an object", json);
        }
        JsonNode type = json.get("type");
        boolean compound = type != null && (type.asText().equals("and") || type.asText().equals("or"));
        Body body = Body.nested(json, param, compound ? Set.of("type", "filters") : Set.of("type", "key", "value"));
        String name = body.choice("type", TYPES);
        if (name == null) {
            throw Body.missing(body.param("type"));
        }
        if (compound) {
            List<JsonNode> items = body.array("filters", 0, Integer.MAX_VALUE);
            if (items == null) {
                throw Body.missing(body.param("filters"));
            }
            List<AttributeFilter> filters = new ArrayList<>(items.size());
            for (int i = 0; i < items.size(); i++) {
                filters.add(parse(items.get(i), body.param("filters") + "[" + i + "]"));
            }
            return new Compound(name.equals("and"), List.copyOf(filters));
        }
        Comparator comparator = Comparator.valueOf(name.toUpperCase(java.util.Locale.ROOT));
        String key = body.requiredString("key", Integer.MAX_VALUE);
        JsonNode value = body.raw("value");
        if (value == null) {
            throw Body.missing(body.param("value"));
        }
        return new Comparison(comparator, key, value(comparator, value, body.param("value")));
    }

    private static Object value(Comparator comparator, JsonNode value, String param) {
        if (comparator.takesList()) {
            if (!value.isArray()) {
                throw Body.wrongType(param, "an array", value);
            }
            List<Object> items = new ArrayList<>(value.size());
            for (int i = 0; i < value.size(); i++) {
                JsonNode item = value.get(i);
                if (!item.isTextual() && !item.isNumber()) {
                    throw Body.wrongType(param + "[" + i + "]", "a string or a number", item);
                }
                items.add(scalar(item));
            }
            return List.copyOf(items);
        }
        if (comparator.orders() ? !value.isTextual() && !value.isNumber() : !value.isValueNode()) {
            throw Body.wrongType(param, comparator.orders() ? "a string or a number" : "a string, a number or a boolean", value);
        }
        return scalar(value);
    }

    private static Object scalar(JsonNode value) {
        if (value.isTextual()) return value.textValue();
        if (value.isNumber()) return value.doubleValue();
        return value.booleanValue();
    }
}
