package io.spindle.api;

import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.util.RawValue;

/**
 * An object as stored: its id and its JSON exactly as the API returns it. It is written out as it
 * is, for answers that need nothing of the object but its JSON (no parsing, no writing again).
 */
public record StoredJson(String id, String json) {
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    @JsonValue
    RawValue raw() {
        return new RawValue(escapeSurrogates(json));
    }

    /**
     * Jackson writes a character outside the BMP as two {@code \\uXXXX} escapes (one per UTF-16
     * surrogate) when it writes bytes, as answers are written, but as it is when it writes a String,
     * as bodies are stored. Escaping them here keeps answers byte for byte what writing the object
     * gives. Surrogates occur only inside JSON strings, where an escape means the same character.
     */
    static String escapeSurrogates(String json) {
        int first = 0;
        while (first < json.length() && !Character.isSurrogate(json.charAt(first))) {
            first++;
        }
        if (first == json.length()) {
            return json;
        }
        StringBuilder out = new StringBuilder(json.length() + 32).append(json, 0, first);
        for (int i = first; i < json.length(); i++) {
            char c = json.charAt(i);
            if (Character.isSurrogate(c)) {
                out.append("\\u").append(HEX[c >> 12]).append(HEX[(c >> 8) & 0xF]).append(HEX[(c >> 4) & 0xF]).append(HEX[c & 0xF]);
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
