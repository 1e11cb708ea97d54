package io.spindle.search;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.spindle.search.RankFusion.Ranking;
import io.spindle.search.RankFusion.Scored;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RankFusionTest {
    private final RankFusion fusion = new RankFusion(60);

    @Test
    void firstInEveryListScoresOneAndFirstInOneOfTwoScoresHalf() {
        List<Scored<String>> fused = fusion.fuse(List.of(
                new Ranking<>(List.of("a", "b"), 1),
                new Ranking<>(List.of("a", "c"), 1)));

        assertThat(fused).extracting(Scored::item).containsExactly("a", "b", "c");
        assertThat(fused.get(0).score()).isEqualTo(1.0);
        assertThat(fused.get(1).score()).isCloseTo((1.0 / 62) / (2.0 / 61), within(1e-12));
    }

    @Test
    void agreementBeatsOneListsFavourite() {
        List<Scored<String>> fused = fusion.fuse(List.of(
                new Ranking<>(List.of("keyword-only", "both"), 1),
                new Ranking<>(List.of("vector-only", "both"), 1)));

        assertThat(fused.getFirst().item()).isEqualTo("both");
        assertThat(fused.get(1).score()).as("found by one list only, at its top").isCloseTo(0.5, within(1e-12));
    }

    @Test
    void aHeavierListDecidesBetweenTwoFavourites() {
        List<Scored<String>> fused = fusion.fuse(List.of(
                new Ranking<>(List.of("k"), 1),
                new Ranking<>(List.of("v"), 2)));

        assertThat(fused).extracting(Scored::item).containsExactly("v", "k");
        assertThat(fused.get(0).score()).isCloseTo(2.0 / 3, within(1e-12));
    }

    @Test
    void tiesKeepTheOrderFirstMetAndNothingFusesToNothing() {
        List<Scored<String>> fused = fusion.fuse(List.of(
                new Ranking<>(List.of("x"), 1),
                new Ranking<>(List.of("y"), 1)));

        assertThat(fused).extracting(Scored::item).containsExactly("x", "y");
        assertThat(fusion.fuse(List.<Ranking<String>>of(new Ranking<>(List.of(), 1)))).isEmpty();
        assertThat(fusion.fuse(List.<Ranking<String>>of())).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5})
    void scoresStayWithinZeroAndOneAndFallWithRank(long seed) {
        Random random = new Random(seed);
        List<Ranking<Integer>> rankings = new ArrayList<>();
        for (int list = 0; list < 1 + random.nextInt(4); list++) {
            List<Integer> items = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                items.add(i);
            }
            Collections.shuffle(items, random);
            rankings.add(new Ranking<>(items.subList(0, random.nextInt(100)), 0.5 + random.nextDouble()));
        }

        List<Scored<Integer>> fused = new RankFusion(random.nextInt(100)).fuse(rankings);

        assertThat(fused).allSatisfy(s -> assertThat(s.score()).isBetween(0.0, 1.0));
        for (int i = 1; i < fused.size(); i++) {
            assertThat(fused.get(i).score()).isLessThanOrEqualTo(fused.get(i - 1).score());
        }
        if (rankings.stream().allMatch(r -> !r.items().isEmpty() && r.items().getFirst().equals(rankings.getFirst().items().getFirst()))) {
            assertThat(fused.getFirst().score()).isCloseTo(1.0, within(1e-12));
        }
    }

    @Test
    void severalQueriesKeepEachItemsBestScore() {
        List<Scored<String>> merged = RankFusion.best(List.of(
                List.of(new Scored<>("a", 0.9), new Scored<>("b", 0.2)),
                List.of(new Scored<>("b", 0.95), new Scored<>("c", 0.2))));

        assertThat(merged).containsExactly(new Scored<>("b", 0.95), new Scored<>("a", 0.9), new Scored<>("c", 0.2));
    }
}
