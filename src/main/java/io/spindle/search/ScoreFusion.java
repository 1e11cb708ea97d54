package io.spindle.search;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Relative score fusion of several rankings of the same items. Each ranking's scores are rescaled to 0–1 within that
 * ranking (its best item 1, its worst 0; a ranking whose items all score alike gives them all 1), so BM25's
 * unbounded scores and cosine similarities become comparable; an item then scores the weighted mean of its
 * rescaled scores, counting 0 in a ranking that did not find it. The result lies in 0–1.
 *
 * <p>Chosen over reciprocal rank fusion, which keeps only the ranks: measured on the retrieval test corpus
 * ({@code RetrievalQualityTest}), every RRF setting tried put hybrid search below vector search alone in MRR, because
 * a keyword ranking's first place counts as much as the vector ranking's first place however weak its match.
 */
final class ScoreFusion {

    /** An item and its score. */
    record Scored<T>(T item, double score) {}

    /** One ranking (any score scale, higher is better) and how much it counts. */
    record Ranking<T>(List<Scored<T>> items, double weight) {}

    private ScoreFusion() {}

    /** The items of all rankings, best fused score first; ties keep the order in which the items were first met. */
    static <T> List<Scored<T>> fuse(List<Ranking<T>> rankings) {
        double totalWeight = rankings.stream().mapToDouble(Ranking::weight).sum();
        Map<T, Double> sums = new LinkedHashMap<>();
        for (Ranking<T> ranking : rankings) {
            double max = ranking.items().stream().mapToDouble(Scored::score).max().orElse(0);
            double min = ranking.items().stream().mapToDouble(Scored::score).min().orElse(0);
            for (Scored<T> scored : ranking.items()) {
                double rescaled = max == min ? 1 : (scored.score() - min) / (max - min);
                sums.merge(scored.item(), ranking.weight() * rescaled, Double::sum);
            }
        }
        List<Scored<T>> fused = new ArrayList<>(sums.size());
        sums.forEach((item, sum) -> fused.add(new Scored<>(item, totalWeight == 0 ? 0 : Math.min(1, sum / totalWeight))));
        return sortedBest(fused);
    }

    /**
     * Several queries searched at once: an item scores what its best query gave it (one good match is enough), best
     * first, ties in the order met.
     */
    static <T> List<Scored<T>> best(List<List<Scored<T>>> results) {
        Map<T, Double> scores = new LinkedHashMap<>();
        results.forEach(list -> list.forEach(s -> scores.merge(s.item(), s.score(), Math::max)));
        List<Scored<T>> merged = new ArrayList<>(scores.size());
        scores.forEach((item, score) -> merged.add(new Scored<>(item, score)));
        return sortedBest(merged);
    }

    private static <T> List<Scored<T>> sortedBest(List<Scored<T>> scored) {
        scored.sort(Comparator.comparingDouble((Scored<T> s) -> s.score()).reversed());
        return scored;
    }
}
