package io.spindle.engine.tools;

import com.fasterxml.jackson.databind.JsonNode;
import io.spindle.upstream.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * What the model reads back from one file_search call: the best hits that fit OpenAI's limits (dossier §10), each
 * headed by the citation marker the model is asked to copy.
 *
 * @param results the hits kept, in rank order
 * @param sources for each kept hit (same position), the source its marker cites
 * @param text    the tool message for the model
 */
public record FileSearchOutput(List<Hit> results, List<CitationSource> sources, String text) {

    /** One search hit, in rank order: a chunk of a file and its score. */
    public record Hit(String fileId, String fileName, double score, JsonNode attributes, String text) {}

    static final int MAX_NUM_RESULTS = 20;
    static final int GPT_35_MAX_NUM_RESULTS = 5;
    static final int TOKEN_BUDGET = 16_000;
    static final int GPT_35_TOKEN_BUDGET = 4_000;
    static final String NOTHING_FOUND = "No results: nothing in the files matches this search.";
    static final String TOO_LONG = "The results were too long to show; search for something narrower.";

    /**
     * The output of search number {@code search} (0-based, among this run's file_search calls) for {@code model}:
     * {@code hits} in rank order, kept from the first while there are at most {@code maxNumResults} of them (null:
     * 20, or 5 for gpt-3.5 models) and their text for the model stays within the token budget (16,000 tokens, 4,000
     * for gpt-3.5 models). The text shows each kept hit as its marker {@code 【search:i†fileName】} on a line, then its
     * text, results separated by a blank line; or a short note when nothing was kept.
     */
    public static FileSearchOutput of(String model, Integer maxNumResults, int search, List<Hit> hits) {
        int limit = maxResults(model, maxNumResults);
        int budget = gpt35(model) ? GPT_35_TOKEN_BUDGET : TOKEN_BUDGET;
        List<Hit> kept = new ArrayList<>();
        List<CitationSource> sources = new ArrayList<>();
        List<String> shown = new ArrayList<>();
        int tokens = 0;
        for (Hit hit : hits) {
            if (kept.size() == limit) {
                break;
            }
            CitationSource source = new CitationSource(search, kept.size(), hit.fileId(), hit.fileName());
            String result = source.marker() + "\n" + hit.text();
            tokens += Tokenizer.count(model, result);
            if (tokens > budget) {
                break;
            }
            kept.add(hit);
            sources.add(source);
            shown.add(result);
        }
        String text = !shown.isEmpty() ? String.join("\n\n", shown) : hits.isEmpty() ? NOTHING_FOUND : TOO_LONG;
        return new FileSearchOutput(List.copyOf(kept), List.copyOf(sources), text);
    }

    /** How many results a search keeps at most: {@code maxNumResults}, or by default 20 (5 for gpt-3.5 models). */
    public static int maxResults(String model, Integer maxNumResults) {
        return Objects.requireNonNullElseGet(maxNumResults, () -> gpt35(model) ? GPT_35_MAX_NUM_RESULTS : MAX_NUM_RESULTS);
    }

    /** What the run's system prompt says when file_search is offered: when to search, and how to cite. */
    public static String instructions() {
        return "Use the file_search tool to answer questions about the user's files. Each search result starts with "
                + "a marker such as 【0:2†report.pdf】. Cite each fact you take from a result by copying that result's "
                + "marker exactly, right after the sentence it supports. Never make up a marker.";
    }

    private static boolean gpt35(String model) {
        String name = model.toLowerCase(Locale.ROOT);
        return name.substring(name.lastIndexOf('/') + 1).startsWith("gpt-3.5");
    }
}
