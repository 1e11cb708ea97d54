package io.spindle.api;

import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A {@code file_citation} annotation of a message's text part: the citation marker the model wrote ({@code text}),
 * its span in the part's {@code value} counted in Unicode code points as OpenAI counted them (end exclusive), and the
 * cited file.
 */
public record FileCitation(String text, int startIndex, int endIndex, String fileId) {

    /**
     * The annotation in a stored message (GET, list, {@code thread.message.completed}), keys in the live API's order;
     * also how Jackson writes this record. No {@code quote}: OpenAI removed it from completed messages.
     */
    @JsonValue
    public ObjectNode json() {
        ObjectNode json = Json.object().put("type", "file_citation");
        fields(json).putObject("file_citation").put("file_id", fileId);
        return json;
    }

    /**
     * The annotation in a {@code thread.message.delta}, at position {@code index} of the part's annotations; the live
     * API still sent an empty {@code quote} there.
     */
    public ObjectNode delta(int index) {
        ObjectNode json = Json.object().put("index", index).put("type", "file_citation");
        fields(json).putObject("file_citation").put("file_id", fileId).put("quote", "");
        return json;
    }

    private ObjectNode fields(ObjectNode json) {
        return json.put("text", text).put("start_index", startIndex).put("end_index", endIndex);
    }
}
