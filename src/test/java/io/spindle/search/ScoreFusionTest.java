package io.spindle.search;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.spindle.search.ScoreFusion.Ranking;
import io.spindle.search.ScoreFusion.Scored;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ScoreFusionTest {

    private static <T> Ranking<T> ranking(double weight, List<Scored<T>> items) {
        return new Ranking<>(items, weight);
    }

    @Test
    void eachRankingIsRescaledBestToOneWorstToZeroThenWeighted() {
        List<Scored<String>> fused = ScoreFusion.fuse(List.of(
                ranking(0.25, List.of(new Scored<>("a", 12.0), new Scored<>("b", 7.0), new Scored<>("c", 2.0))),
                ranking(0.75, List.of(new Scored<>("b", 0.9), new Scored<>("a", 0.8), new Scored<>("d", 0.7)))));

        assertThat(fused).extracting(Scored::item).containsExactly("b", "a", "c", "d");
        assertThat(fused.get(0).score()).as("b: 0.25 * 0.5 + 0.75 * 1").isCloseTo(0.875, within(1e-12));
        assertThat(fused.get(1).score()).as("a: 0.25 * 1 + 0.75 * 0.5").isCloseTo(0.625, within(1e-12));
        assertThat(fused.get(2).score()).as("worst of its only ranking").isZero();
    }

    @Test
    void anItemFirstInEveryRankingScoresOne() {
        List<Scored<String>> fused = ScoreFusion.fuse(List.of(
                ranking(1, List.of(new Scored<>("x", 3.0), new Scored<>("y", 1.0))),
                ranking(4, List.of(new Scored<>("x", 0.6), new Scored<>("z", 0.5)))));

        assertThat(fused.getFirst()).isEqualTo(new Scored<>("x", 1.0));
    }

    @Test
    void aScoreGapMattersNotOnlyTheRank() {
        // The keyword ranking barely prefers k (5.0 against 4.9) and the vector ranking clearly prefers v: v wins.
        List<Scored<String>> fused = ScoreFusion.fuse(List.of(
                ranking(0.5, List.of(new Scored<>("k", 5.0), new Scored<>("v", 4.9), new Scored<>("o", 0.1))),
                ranking(0.5, List.of(new Scored<>("v", 0.9), new Scored<>("k", 0.3), new Scored<>("o", 0.2)))));

        assertThat(fused.getFirst().item()).isEqualTo("v");
    }

    @Test
    void aRankingOfEqualScoresGivesThemAllOneAndNothingFusesToNothing() {
        assertThat(ScoreFusion.fuse(List.of(ranking(1, List.of(new Scored<>("only", 0.42))))))
                .containsExactly(new Scored<>("only", 1.0));
        assertThat(ScoreFusion.fuse(List.of(ranking(1, List.of(new Scored<>("p", 2.0), new Scored<>("q", 2.0))))))
                .containsExactly(new Scored<>("p", 1.0), new Scored<>("q", 1.0));
        assertThat(ScoreFusion.fuse(List.<Ranking<String>>of(ranking(1, List.of())))).isEmpty();
        assertThat(ScoreFusion.fuse(List.<Ranking<String>>of())).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5})
    void scoresStayWithinZeroAndOneBestFirst(long seed) {
        Random random = new Random(seed);
        List<Ranking<Integer>> rankings = new ArrayList<>();
        for (int list = 0; list < 1 + random.nextInt(4); list++) {
            List<Scored<Integer>> items = new ArrayList<>();
            double score = random.nextDouble() * 30;
            for (int i = 0; i < random.nextInt(60); i++) {
                items.add(new Scored<>(random.nextInt(100), score));
                score -= random.nextDouble();
            }
            rankings.add(ranking(random.nextDouble(), items));
        }

        List<Scored<Integer>> fused = ScoreFusion.fuse(rankings);

        assertThat(fused).allSatisfy(s -> assertThat(s.score()).isBetween(0.0, 1.0));
        for (int i = 1; i < fused.size(); i++) {
            assertThat(fused.get(i).score()).isLessThanOrEqualTo(fused.get(i - 1).score());
        }
    }

    @Test
    void severalQueriesKeepEachItemsBestScore() {
        List<Scored<String>> merged = ScoreFusion.best(List.of(
                List.of(new Scored<>("a", 0.9), new Scored<>("b", 0.2)),
                List.of(new Scored<>("b", 0.95), new Scored<>("c", 0.2))));

        assertThat(merged).containsExactly(new Scored<>("b", 0.95), new Scored<>("a", 0.9), new Scored<>("c", 0.2));
    }
}
