package io.spindle.search;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.spindle.api.Json;
import io.spindle.search.ChunkQuery.Mode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How well search finds the one document that answers a question, with the real bge-small embedder, on a labelled
 * corpus ({@code search/retrieval-corpus.json}): 50 short documents on distinct topics, 30 more each close to one of
 * them (Linear B beside the Rosetta Stone, credit-card APR beside compound interest, plasma beside red-cell
 * donation, ...), 50 questions paraphrasing their answer and 20 that name something specific in it (a person, a
 * number, a chess move), as users of file search do. Prints recall@5 and MRR@10 of keyword-only, vector-only and
 * hybrid search, for all questions and for each kind.
 */
class RetrievalQualityTest {
    private static final String STORE = "vs_eval";
    private static final int RANKS = 10;

    record Scores(double recallAt5, double mrr) {}

    @Test
    void hybridSearchFindsTheAnswerMoreOftenThanEitherSearchAlone(@TempDir Path dir) throws IOException {
        JsonNode corpus = corpus();
        OnnxEmbedder embedder = new OnnxEmbedder(OnnxEmbedderTest.CACHE);
        Map<Mode, Scores> scores;
        Map<String, Map<Mode, Scores>> byKind = new java.util.LinkedHashMap<>();
        try (ChunkIndex index = ChunkIndex.open(dir, embedder.modelName())) {
            fill(index, embedder, corpus);
            JsonNode questions = corpus.get("questions");
            byKind.put("all " + questions.size() + " questions", scores = evaluate(index, embedder, questions, List.of("paraphrase", "specific", "identifier")));
            byKind.put("50 paraphrased", evaluate(index, embedder, questions, List.of("paraphrase")));
            byKind.put("20 naming a detail", evaluate(index, embedder, questions, List.of("specific")));
            byKind.put("10 by code or version", evaluate(index, embedder, questions, List.of("identifier")));
        }

        System.out.println(table(byKind));
        Scores keyword = scores.get(Mode.KEYWORD);
        Scores vector = scores.get(Mode.VECTOR);
        Scores hybrid = scores.get(Mode.HYBRID);
        assertThat(hybrid.recallAt5()).isGreaterThanOrEqualTo(0.9);
        assertThat(hybrid.recallAt5()).isGreaterThanOrEqualTo(Math.max(keyword.recallAt5(), vector.recallAt5()));
        assertThat(hybrid.mrr()).isGreaterThanOrEqualTo(Math.max(keyword.mrr(), vector.mrr()));
        assertThat(hybrid.recallAt5() > Math.max(keyword.recallAt5(), vector.recallAt5())
                || hybrid.mrr() > Math.max(keyword.mrr(), vector.mrr())).as("strictly better on one measure").isTrue();
    }

    /** Scores per search mode, over the questions whose kind is in {@code kinds}. */
    static Map<Mode, Scores> evaluate(ChunkIndex index, Embedder embedder, JsonNode questions, List<String> kinds) {
        List<JsonNode> asked = new ArrayList<>();
        questions.forEach(q -> {
            if (kinds.contains(q.get("kind").asText())) {
                asked.add(q);
            }
        });
        List<float[]> vectors = embedder.embedQueries(asked.stream().map(q -> q.get("question").asText()).toList());
        Map<Mode, Scores> scores = new EnumMap<>(Mode.class);
        for (Mode mode : Mode.values()) {
            double found = 0;
            double reciprocalRanks = 0;
            for (int i = 0; i < asked.size(); i++) {
                String answer = asked.get(i).get("document").asText();
                ChunkQuery.Part part = new ChunkQuery.Part(asked.get(i).get("question").asText(), vectors.get(i));
                List<ChunkHit> hits = index.search(new ChunkQuery(List.of(STORE), List.of(part), Optional.empty(), RANKS, 0, mode));
                int rank = hits.stream().map(ChunkHit::fileId).toList().indexOf(answer) + 1;
                if (rank >= 1 && rank <= 5) {
                    found++;
                }
                if (rank >= 1) {
                    reciprocalRanks += 1.0 / rank;
                }
            }
            scores.put(mode, new Scores(found / asked.size(), reciprocalRanks / asked.size()));
        }
        return scores;
    }

    static String table(Map<String, Map<Mode, Scores>> byKind) {
        StringBuilder out = new StringBuilder("| Search |");
        byKind.keySet().forEach(kind -> out.append(" ").append(kind).append(": recall@5 | MRR@10 |"));
        out.append("\n|---|").append("---|---|".repeat(byKind.size())).append("\n");
        for (Mode mode : Mode.values()) {
            out.append("| ").append(mode.name().toLowerCase(java.util.Locale.ROOT)).append(" |");
            byKind.values().forEach(scores -> out.append(String.format(java.util.Locale.ROOT, " %.2f | %.3f |",
                    scores.get(mode).recallAt5(), scores.get(mode).mrr())));
            out.append("\n");
        }
        return out.toString();
    }

    /** Not a test: prints the measures for a range of keyword weights, to choose {@link ChunkIndex#FUSION}. */
    public static void main(String[] args) throws IOException {
        JsonNode corpus = corpus();
        OnnxEmbedder embedder = new OnnxEmbedder(OnnxEmbedderTest.CACHE);
        Path dir = java.nio.file.Files.createTempDirectory("fusion-grid");
        try (ChunkIndex index = ChunkIndex.open(dir, embedder.modelName())) {
            fill(index, embedder, corpus);
        }
        System.out.println("| keyword weight | recall@5 | MRR@10 |\n|---|---|---|");
        for (double keywordWeight : new double[] {0.5, 0.4, 0.3, 0.25, 0.2, 0.17, 0.13, 0.09, 0.05}) {
            try (ChunkIndex index = ChunkIndex.open(dir, embedder.modelName(), new ChunkIndex.Fusion(keywordWeight, 1 - keywordWeight))) {
                Scores s = evaluate(index, embedder, corpus.get("questions"), List.of("paraphrase", "specific", "identifier")).get(Mode.HYBRID);
                System.out.printf(java.util.Locale.ROOT, "| %.2f | %.3f | %.3f |%n", keywordWeight, s.recallAt5(), s.mrr());
            }
        }
    }

    static void fill(ChunkIndex index, Embedder embedder, JsonNode corpus) {
        List<String> texts = new ArrayList<>();
        corpus.get("documents").forEach(d -> texts.add(d.get("text").asText()));
        List<float[]> vectors = embedder.embedPassages(texts);
        for (int i = 0; i < texts.size(); i++) {
            String id = corpus.get("documents").get(i).get("id").asText();
            index.put(new FileChunks(STORE, id, id + ".txt", Map.of(), List.of(new Chunk(0, texts.get(i), vectors.get(i)))));
        }
    }

    static JsonNode corpus() throws IOException {
        try (InputStream in = RetrievalQualityTest.class.getResourceAsStream("/search/retrieval-corpus.json")) {
            return Json.MAPPER.readTree(in);
        }
    }
}
