package io.spindle.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.spindle.search.Embedder;
import io.spindle.search.OnnxEmbedder;
import io.spindle.testing.Api;
import io.spindle.testing.TestServer;
import io.spindle.testing.VectorStoreRows;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code POST /v1/vector_stores/{id}/search} through raw HTTP (answers validated against the spec's schemas), on rows
 * written straight into the database as ingestion writes them.
 */
class VectorStoreSearchTest {
    private static final Embedder EMBEDDER = new OnnxEmbedder(Path.of("target", "embedder-cache"));
    private static final String PROJECT = "default";

    private static String search(String store) {
        return "/v1/vector_stores/" + store + "/search";
    }

    @ParameterizedTest
    @EnumSource(TestServer.Storage.class)
    void everyNodeFindsWhatWasJustCompletedAndForgetsWhatWasRemoved(TestServer.Storage storage) {
        try (TestServer server = TestServer.start(storage)) {
            VectorStoreRows rows = new VectorStoreRows(server.spindle().database(), EMBEDDER);
            String store = rows.store(PROJECT);
            String bread = rows.file(PROJECT, "bread.txt");
            String rockets = rows.file(PROJECT, "rockets.txt");
            rows.complete(PROJECT, store, bread, Map.of("kind", "food", "year", 2024), "Knead the dough, let it rise for an hour, then bake.");
            rows.complete(PROJECT, store, rockets, Map.of("kind", "space"), "The rocket engine burns liquid oxygen and kerosene.");

            for (Api node : server.nodeApis()) {
                JsonNode page = node.post(search(store), Map.of("query", "how long does bread dough rise")).ok();
                assertThat(page.get("object").asText()).isEqualTo("vector_store.search_results.page");
                assertThat(page.get("search_query")).hasSize(1);
                assertThat(page.get("search_query").get(0).asText()).isEqualTo("how long does bread dough rise");
                assertThat(page.get("has_more").asBoolean()).isFalse();
                assertThat(page.get("next_page").isNull()).isTrue();
                JsonNode best = page.get("data").get(0);
                assertThat(best.get("file_id").asText()).isEqualTo(bread);
                assertThat(best.get("filename").asText()).isEqualTo("bread.txt");
                assertThat(best.get("attributes").get("kind").asText()).isEqualTo("food");
                assertThat(best.get("attributes").get("year").asInt()).isEqualTo(2024);
                assertThat(best.get("content").get(0).get("text").asText()).startsWith("Knead the dough");
                assertThat(best.get("score").asDouble()).isBetween(0.0, 1.0);
            }

            JsonNode filtered = server.api().post(search(store), Map.of("query", List.of("bread dough", "baking"),
                    "filters", Map.of("type", "eq", "key", "kind", "value", "space"), "max_num_results", 5)).ok();
            assertThat(filtered.get("data")).isNotEmpty().allSatisfy(item -> assertThat(item.get("file_id").asText()).isEqualTo(rockets));
            assertThat(filtered.get("search_query")).hasSize(2);

            JsonNode strict = server.api().post(search(store), Map.of("query", "bread",
                    "ranking_options", Map.of("ranker", "auto", "score_threshold", 1.0))).ok();
            assertThat(strict.get("data")).isEmpty();

            rows.remove(store, bread);
            for (Api node : server.nodeApis()) {
                JsonNode page = node.post(search(store), Map.of("query", "bread dough", "rewrite_query", true)).ok();
                assertThat(page.get("data")).isNotEmpty().allSatisfy(item -> assertThat(item.get("file_id").asText()).isEqualTo(rockets));
            }
        }
    }

    @Test
    void storesThatCannotBeSearchedHereAreRefused() {
        try (TestServer server = TestServer.start(TestServer.Storage.SQLITE)) {
            VectorStoreRows rows = new VectorStoreRows(server.spindle().database(), EMBEDDER);
            Api api = server.api();
            JsonNode missing = api.post(search("vs_nothere"), Map.of("query", "x")).error(404);
            assertThat(missing.get("message").asText()).isEqualTo("No vector store found with id 'vs_nothere'.");

            String expired = rows.store(PROJECT);
            rows.expire(expired);
            assertThat(api.post(search(expired), Map.of("query", "x")).error(400).get("message").asText())
                    .isEqualTo("Vector store '" + expired + "' has expired");

            String foreign = rows.store(PROJECT, "text-embedding-3-small");
            JsonNode mismatch = api.post(search(foreign), Map.of("query", "x")).error(400);
            assertThat(mismatch.get("message").asText()).contains("text-embedding-3-small").contains(EMBEDDER.modelName());

            String otherProjects = rows.store("elsewhere");
            api.post(search(otherProjects), Map.of("query", "x")).error(404);
        }
    }

    @Test
    void badInputIsRefusedNamingTheParameter() {
        try (TestServer server = TestServer.start(TestServer.Storage.SQLITE)) {
            String store = new VectorStoreRows(server.spindle().database(), EMBEDDER).store(PROJECT);
            Api api = server.api();
            assertParam(api.post(search(store), "{}"), "query");
            assertParam(api.post(search(store), "{\"query\":\"\"}"), "query");
            assertParam(api.post(search(store), "{\"query\":[]}"), "query");
            assertParam(api.post(search(store), "{\"query\":42}"), "query");
            assertParam(api.post(search(store), "{\"query\":[\"a\",7]}"), "query[1]");
            assertParam(api.post(search(store), "{\"query\":\"a\",\"max_num_results\":0}"), "max_num_results");
            assertParam(api.post(search(store), "{\"query\":\"a\",\"max_num_results\":51}"), "max_num_results");
            assertParam(api.post(search(store), "{\"query\":\"a\",\"ranking_options\":{\"ranker\":\"best\"}}"), "ranking_options.ranker");
            assertParam(api.post(search(store), "{\"query\":\"a\",\"ranking_options\":{\"score_threshold\":1.5}}"),
                    "ranking_options.score_threshold");
            assertParam(api.post(search(store), "{\"query\":\"a\",\"rewrite_query\":\"yes\"}"), "rewrite_query");
            assertParam(api.post(search(store), "{\"query\":\"a\",\"filters\":{\"type\":\"eq\",\"key\":\"k\"}}"), "filters.value");
            assertParam(api.post(search(store), "{\"query\":\"a\",\"top_k\":3}"), "top_k");
            assertParam(api.post(search("abc"), "{\"query\":\"a\"}"), "vector_store_id");
        }
    }

    private static void assertParam(Api.Response response, String param) {
        assertThat(response.error(400).get("param").asText()).as(response.body()).isEqualTo(param);
    }
}
