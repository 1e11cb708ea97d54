package io.spindle.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;

/**
 * {@code object: "vector_store.file_content.page"}: a vector store file's parsed text. Spindle keeps
 * no text but its chunks, whose windows overlap and whose offsets are not stored, so the text is
 * given as the chunks' texts in order, one {@code text} part each, all on one page (overlaps repeat).
 */
@JsonPropertyOrder({"object", "data", "has_more", "next_page"})
public record VectorStoreFileContent(List<Part> data, boolean hasMore, String nextPage) {

    @JsonPropertyOrder({"type", "text"})
    public record Part(String type, String text) {}

    public static VectorStoreFileContent of(List<String> texts) {
        return new VectorStoreFileContent(texts.stream().map(t -> new Part("text", t)).toList(), false, null);
    }

    @JsonProperty("object")
    public String object() {
        return "vector_store.file_content.page";
    }
}
