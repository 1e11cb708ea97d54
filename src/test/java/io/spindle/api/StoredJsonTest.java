package io.spindle.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

class StoredJsonTest {

    /** What a stored body sends must be what writing the object sends, for every character. */
    @Test
    void writesTheStoredTextAsWritingTheObjectWould() {
        StringBuilder every = new StringBuilder();
        for (int c = 0; c <= Character.MAX_VALUE; c++) {
            every.append((char) c);
        }
        for (String text : new String[] {every.toString(), "a \uD83D\uDE00 pair", "lone \uDE00 low", "lone \uD83D", "plain"}) {
            ObjectNode object = Json.object().put("value", text);
            object.putObject("metadata").put(text, text);

            assertThat(Json.writeBytes(new StoredJson("id", Json.write(object)))).isEqualTo(Json.writeBytes(object));
        }
    }
}
