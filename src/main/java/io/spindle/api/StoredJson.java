package io.spindle.api;

import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.util.RawValue;

/**
 * An object as stored: its id and its JSON exactly as the API returns it. It is written out as it
 * is, for answers that need nothing of the object but its JSON (no parsing, no writing again).
 */
public record StoredJson(String id, String json) {

    @JsonValue
    RawValue raw() {
        return new RawValue(json);
    }
}
