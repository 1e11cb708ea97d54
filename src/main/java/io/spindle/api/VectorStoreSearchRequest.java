package io.spindle.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The body of {@code POST /vector_stores/{id}/search}. {@code rewriteQuery} is accepted and changes nothing: Spindle
 * searches with the query as given (no model is asked to rewrite it). Every {@code ranker} ranks the same way, by the
 * fused keyword and vector scores.
 */
public record VectorStoreSearchRequest(List<String> queries, Optional<AttributeFilter> filter, int maxNumResults, String ranker,
                                       double scoreThreshold, boolean rewriteQuery) {
    public static final int DEFAULT_MAX_NUM_RESULTS = 10;
    public static final int MAX_NUM_RESULTS = 50;
    /** Most queries one search takes (each is embedded and searched). */
    public static final int MAX_QUERIES = 10;
    /** Longest query, in characters. */
    public static final int MAX_QUERY_LENGTH = 4_096;
    public static final List<String> RANKERS = List.of("none", "auto", "default-2024-11-15");

    private static final Set<String> FIELDS = Set.of("query", "filters", "max_num_results", "ranking_options", "rewrite_query");

    public static VectorStoreSearchRequest parse(JsonNode json) {
        Body body = Body.of(json, FIELDS);
        Optional<AttributeFilter> filter = Optional.ofNullable(body.raw("filters")).map(f -> AttributeFilter.parse(f, "filters"));
        Long max = body.integer("max_num_results", 1, MAX_NUM_RESULTS);
        String ranker = "auto";
        double threshold = 0;
        Body ranking = body.object("ranking_options", Set.of("ranker", "score_threshold"));
        if (ranking != null) {
            ranker = Optional.ofNullable(ranking.choice("ranker", RANKERS)).orElse(ranker);
            threshold = Optional.ofNullable(ranking.number("score_threshold", 0, 1)).orElse(threshold);
        }
        Boolean rewrite = body.bool("rewrite_query");
        return new VectorStoreSearchRequest(queries(body), filter, max == null ? DEFAULT_MAX_NUM_RESULTS : max.intValue(), ranker,
                threshold, rewrite != null && rewrite);
    }

    private static List<String> queries(Body body) {
        JsonNode query = body.raw("query");
        if (query == null) {
            throw Body.missing("query");
        }
        if (query.isTextual()) {
            return List.of(nonEmpty("query", query.textValue()));
        }
        if (!query.isArray()) {
            throw Body.wrongType("query", "a string or an array of strings", query);
        }
        List<JsonNode> items = body.array("query", 1, MAX_QUERIES);
        List<String> queries = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            String param = "query[" + i + "]";
            if (!items.get(i).isTextual()) {
                throw Body.wrongType(param, "a string", items.get(i));
            }
            queries.add(nonEmpty(param, items.get(i).textValue()));
        }
        return List.copyOf(queries);
    }

    private static String nonEmpty(String param, String query) {
        if (query.isBlank()) {
            throw ApiException.invalid("Invalid '" + param + "': empty string. Expected a query with at least one character "
                    + "that is not whitespace.", param, "empty_string");
        }
        return Body.checkLength(param, query, MAX_QUERY_LENGTH);
    }
}
