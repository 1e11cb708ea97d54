package io.spindle.search;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reciprocal rank fusion: an item at rank {@code r} (from 1) of a list with weight {@code w} earns {@code w / (k + r)},
 * summed over the lists. Ranks, not scores, are fused, so BM25's unbounded scores and cosine similarities need no
 * common scale. The sum is divided by what an item first in every list would earn, which puts it in 0–1: 1 for an
 * item every list ranked first, about {@code w / Σw} for one only a single list found, at its top.
 */
final class RankFusion {

    /** An item and its fused score. */
    record Scored<T>(T item, double score) {}

    /** One ranked list (best first) and how much it counts. */
    record Ranking<T>(List<T> items, double weight) {}

    private final int k;

    RankFusion(int k) {
        if (k < 0) {
            throw new IllegalArgumentException("k must be at least 0");
        }
        this.k = k;
    }

    /** The items of all lists, best fused score first; ties keep the order in which the items were first met. */
    <T> List<Scored<T>> fuse(List<Ranking<T>> rankings) {
        double best = 0;
        Map<T, Double> sums = new LinkedHashMap<>();
        for (Ranking<T> ranking : rankings) {
            best += ranking.weight() / (k + 1);
            for (int rank = 1; rank <= ranking.items().size(); rank++) {
                sums.merge(ranking.items().get(rank - 1), ranking.weight() / (k + rank), Double::sum);
            }
        }
        List<Scored<T>> fused = new ArrayList<>(sums.size());
        for (Map.Entry<T, Double> e : sums.entrySet()) {
            fused.add(new Scored<>(e.getKey(), best == 0 ? 0 : Math.min(1, e.getValue() / best)));
        }
        fused.sort(Comparator.comparingDouble((Scored<T> s) -> s.score()).reversed());
        return fused;
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
        merged.sort(Comparator.comparingDouble((Scored<T> s) -> s.score()).reversed());
        return merged;
    }
}
