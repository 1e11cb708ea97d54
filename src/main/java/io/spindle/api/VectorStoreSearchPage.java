package io.spindle.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;
import java.util.Map;

/** {@code object: "vector_store.search_results.page"}: every hit on one page, best first. */
@JsonPropertyOrder({"object", "search_query", "data", "has_more", "next_page"})
public record VectorStoreSearchPage(List<String> searchQuery, List<Item> data) {

    /** One chunk found: its file, its score (0 to 1), the file's attributes and the chunk's text. */
    @JsonPropertyOrder({"file_id", "filename", "score", "attributes", "content"})
    public record Item(String fileId, String filename, double score, Map<String, Object> attributes, List<Content> content) {}

    public record Content(String type, String text) {
        public static Content text(String text) {
            return new Content("text", text);
        }
    }

    @JsonProperty("object")
    public String object() {
        return "vector_store.search_results.page";
    }

    @JsonProperty("has_more")
    public boolean hasMore() {
        return false;
    }

    @JsonProperty("next_page")
    public String nextPage() {
        return null;
    }
}
