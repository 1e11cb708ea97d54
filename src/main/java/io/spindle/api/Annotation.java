package io.spindle.api;

import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * An annotation of a message's text part: a {@code file_citation} (a citation marker of a file_search result) or a
 * {@code file_path} (a {@code sandbox:/mnt/data/NAME} link to a file code_interpreter wrote). {@code text} is what the
 * model wrote, its span in the part's {@code value} is counted in Unicode code points as OpenAI counted them (end
 * exclusive), and {@code fileId} is the file it refers to.
 */
public record Annotation(String type, String text, int startIndex, int endIndex, String fileId) {
    public static final String FILE_CITATION = "file_citation";
    public static final String FILE_PATH = "file_path";

    /**
     * The annotation in a stored message (GET, list, {@code thread.message.completed}), keys in the live API's order;
     * also how Jackson writes this record. No {@code quote}: OpenAI removed it from completed messages.
     */
    @JsonValue
    public ObjectNode json() {
        ObjectNode json = Json.object().put("type", type);
        fields(json).putObject(type).put("file_id", fileId);
        return json;
    }

    /**
     * The annotation in a {@code thread.message.delta}, at position {@code index} of the part's annotations; the live
     * API still sent an empty {@code quote} in a citation there.
     */
    public ObjectNode delta(int index) {
        ObjectNode json = Json.object().put("index", index).put("type", type);
        ObjectNode file = fields(json).putObject(type).put("file_id", fileId);
        if (type.equals(FILE_CITATION)) {
            file.put("quote", "");
        }
        return json;
    }

    private ObjectNode fields(ObjectNode json) {
        return json.put("text", text).put("start_index", startIndex).put("end_index", endIndex);
    }
}
