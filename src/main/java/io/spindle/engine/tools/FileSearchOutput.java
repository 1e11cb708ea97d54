package io.spindle.engine.tools;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/** STUB until helper C lands. */
public record FileSearchOutput(List<Hit> hits, List<CitationSource> sources, String text) {
    public record Hit(String fileId, String fileName, double score, JsonNode attributes, String text) {}

    public static int maxResults(String model, Integer max) {
        return max != null ? max : 20;
    }

    public static FileSearchOutput of(String model, Integer max, int search, List<Hit> hits) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < hits.size(); i++) {
            sb.append("【").append(search).append(':').append(i).append('†').append(hits.get(i).fileName()).append("】\n")
                    .append(hits.get(i).text()).append("\n\n");
        }
        return new FileSearchOutput(hits, List.of(), sb.isEmpty() ? "No results." : sb.toString());
    }

    public static String instructions() {
        return "Cite with markers.";
    }
}
