package io.spindle.api;

import java.util.List;
import java.util.function.Function;

/**
 * The paging parameters every list endpoint takes: {@code limit} 1–100 (default 20), {@code order}
 * asc|desc (default desc), and the cursors {@code after} / {@code before} (ids of items in the list).
 */
public record ListQuery(int limit, boolean ascending, String after, String before) {

    public static ListQuery parse(Function<String, String> queryParam) {
        return parse(queryParam, 20, 100);
    }

    /** For lists with other bounds, e.g. {@code GET /files}: 1–10,000, default 10,000. */
    public static ListQuery parse(Function<String, String> queryParam, int defaultLimit, int maxLimit) {
        int limit = defaultLimit;
        String rawLimit = queryParam.apply("limit");
        if (rawLimit != null) {
            try {
                limit = Integer.parseInt(rawLimit.trim());
            } catch (NumberFormatException e) {
                throw ApiException.invalid("Invalid 'limit': expected an integer, but got '" + rawLimit + "' instead.",
                        "limit", "invalid_type");
            }
            if (limit < 1) {
                throw ApiException.invalid("Invalid 'limit': integer below minimum value. Expected a value >= 1, but got "
                        + limit + " instead.", "limit", "integer_below_min_value");
            }
            if (limit > maxLimit) {
                throw ApiException.invalid("Invalid 'limit': integer above maximum value. Expected a value <= " + maxLimit + ", but got "
                        + limit + " instead.", "limit", "integer_above_max_value");
            }
        }
        String order = queryParam.apply("order");
        if (order != null && !order.equals("asc") && !order.equals("desc")) {
            throw Body.invalidValue("order", order, List.of("asc", "desc"));
        }
        return new ListQuery(limit, "asc".equals(order), cursor(queryParam, "after"), cursor(queryParam, "before"));
    }

    /** A cursor with a control character (a NUL, which PostgreSQL cannot compare) is no id of the list. */
    private static String cursor(Function<String, String> queryParam, String name) {
        String id = blankToNull(queryParam.apply(name));
        if (id != null && Ids.hasControlCharacter(id)) {
            throw ApiException.invalid("Invalid '" + name + "': '" + id + "' is not the id of an object in this list.",
                    name, "invalid_value");
        }
        return id;
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
