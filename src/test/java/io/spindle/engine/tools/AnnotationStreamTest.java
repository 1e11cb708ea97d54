package io.spindle.engine.tools;

import static io.spindle.engine.tools.CitationMarkersTest.FOODS;
import static io.spindle.engine.tools.CitationMarkersTest.SOURCES;
import static org.assertj.core.api.Assertions.assertThat;

import io.spindle.api.Annotation;
import io.spindle.engine.tools.AnnotationStream.Piece;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AnnotationStreamTest {

    private static Piece plain(String text, int nextIndex) {
        return new Piece(text, List.of(), nextIndex);
    }

    @Test
    void theRecordedDeltasComeOutAsTheRecordedMessageDeltas() {
        // run-file-search-streaming.json: one message delta per model delta, the marker alone with its annotation
        AnnotationStream stream = new AnnotationStream(CitationMarkers.of(List.of(FOODS)));
        List<Piece> pieces = new ArrayList<>();
        for (String delta : List.of("Fil", "ip", "'s", " favorite", " food", " is", " cake", "【4:0†favorite_foods.txt】", ".")) {
            pieces.addAll(stream.feed(delta));
        }
        pieces.addAll(stream.finish());

        assertThat(pieces).containsExactly(plain("Fil", 0), plain("ip", 0), plain("'s", 0), plain(" favorite", 0),
                plain(" food", 0), plain(" is", 0), plain(" cake", 0),
                new Piece("【4:0†favorite_foods.txt】", List.of(new Annotation(Annotation.FILE_CITATION, "【4:0†favorite_foods.txt】", 29, 53, "file-foods")), 0),
                plain(".", 1));
    }

    @Test
    void aMarkerSplitOverDeltasIsHeldUntilItClosesThenSentWhole() {
        AnnotationStream stream = new AnnotationStream(CitationMarkers.of(SOURCES));

        assertThat(stream.feed("cake【4:")).containsExactly(plain("cake", 0));
        assertThat(stream.feed("0†favorite")).isEmpty();
        assertThat(stream.feed("_foods.txt】. Also【0:1†report.pdf】【")).containsExactly(
                new Piece("【4:0†favorite_foods.txt】", List.of(new Annotation(Annotation.FILE_CITATION, "【4:0†favorite_foods.txt】", 4, 28, "file-foods")), 0),
                plain(". Also", 1),
                new Piece("【0:1†report.pdf】", List.of(new Annotation(Annotation.FILE_CITATION, "【0:1†report.pdf】", 34, 50, "file-report")), 1));
        assertThat(stream.feed("1")).isEmpty();
        assertThat(stream.finish()).containsExactly(plain("【1", 2));
    }

    @Test
    void textThatCanNoLongerBeAMarkerIsSentAtOnce() {
        AnnotationStream stream = new AnnotationStream(CitationMarkers.of(SOURCES));

        assertThat(stream.feed("a【b")).containsExactly(plain("a【b", 0));
        assertThat(stream.feed("【12")).isEmpty();
        assertThat(stream.feed(":3\nnext")).containsExactly(plain("【12:3\nnext", 0));
        assertThat(stream.feed("【2†" + "x".repeat(MarkerSyntax.MAX_LENGTH - 4))).isEmpty();
        assertThat(stream.feed("x")).as("over 256 characters").hasSize(1);
        assertThat(stream.feed("【9:9†secret.txt】 ok")).as("closed but cites nothing").containsExactly(plain("【9:9†secret.txt】 ok", 0));
        assertThat(stream.finish()).isEmpty();
    }

    @Test
    void withoutSourcesNothingIsHeldBack() {
        AnnotationStream stream = new AnnotationStream(Annotator.NOTHING);

        assertThat(stream.feed("see 【0:0†favorite_")).containsExactly(plain("see 【0:0†favorite_", 0));
        assertThat(stream.feed("foods.txt】")).containsExactly(plain("foods.txt】", 0));
    }

    @Test
    void aHighSurrogateAtTheEndOfADeltaWaitsForItsPair() {
        AnnotationStream stream = new AnnotationStream(CitationMarkers.of(SOURCES));
        String cake = "🍰";

        assertThat(stream.feed("x" + cake.charAt(0))).containsExactly(plain("x", 0));
        assertThat(stream.feed(String.valueOf(cake.charAt(1)))).containsExactly(plain(cake, 0));
        assertThat(stream.feed("" + cake.charAt(0))).isEmpty();
        assertThat(stream.feed(cake.charAt(1) + "【0:0†favorite_foods.txt】")).containsExactly(plain(cake, 0),
                new Piece("【0:0†favorite_foods.txt】", List.of(new Annotation(Annotation.FILE_CITATION, "【0:0†favorite_foods.txt】", 3, 27, "file-foods")), 0));
        assertThat(stream.feed("" + cake.charAt(0))).isEmpty();
        assertThat(stream.finish()).as("a lone surrogate still comes out at the end").containsExactly(plain("" + cake.charAt(0), 1));
    }

    private static final List<String> SAMPLES = List.of(
            "Filip's favorite food is cake【4:0†favorite_foods.txt】.",
            "Café 🍰 déjà vu 👩‍👩‍👧: cake【0:0†favorite_foods.txt】 and a 🎂【0:1†report.pdf】.",
            "Both.【0:0†favorite_foods.txt】【0:1†report.pdf】【1:0†notes.md】",
            "A【9:9†secret.txt】 b【13†source】 c【0:0†favorite_foods.txt】 【1†source】",
            "a 【 b 【note c【【0:1†report.pdf】 unclosed 【0:0†favorite_foods.txt\nnew line 【1:0†notes.md】",
            "😀【1:0†notes.md】😀【0:0†】😀 ends open 【0:1†repo",
            "【2†" + "x".repeat(300) + "】 then 【0:1†report.pdf】 and 🎂🎂🎂");

    @Test
    void overRandomSplitsThePiecesRebuildTheTextAndItsAnnotationsExactly() {
        Random random = new Random(12);
        for (String sample : SAMPLES) {
            List<Annotation> expected = CitationMarkersTest.find(sample, SOURCES);
            for (int round = 0; round < 300; round++) {
                AnnotationStream stream = new AnnotationStream(CitationMarkers.of(SOURCES));
                List<Piece> pieces = new ArrayList<>();
                StringBuilder fed = new StringBuilder();
                int at = 0;
                while (at < sample.length()) {
                    int next = Math.min(sample.length(), at + 1 + random.nextInt(round % 3 == 0 ? 3 : 40));
                    fed.append(sample, at, next);
                    pieces.addAll(stream.feed(sample.substring(at, next)));
                    assertOnlyAPossibleMarkerOrAHighSurrogateIsHeld(fed.toString(), sent(pieces));
                    at = next;
                }
                pieces.addAll(stream.finish());

                assertThat(sent(pieces)).isEqualTo(sample);
                assertThat(pieces.stream().flatMap(p -> p.annotations().stream()).toList()).as(sample).isEqualTo(expected);
                int index = 0;
                for (Piece piece : pieces) {
                    assertThat(piece.text()).isNotEmpty();
                    assertThat(Character.isLowSurrogate(piece.text().charAt(0))).isFalse();
                    assertThat(Character.isHighSurrogate(piece.text().charAt(piece.text().length() - 1))).isFalse();
                    assertThat(piece.firstIndex()).isEqualTo(index);
                    if (!piece.annotations().isEmpty()) {
                        assertThat(piece.annotations()).singleElement().extracting(Annotation::text).isEqualTo(piece.text());
                    }
                    index += piece.annotations().size();
                }
            }
        }
    }

    private static String sent(List<Piece> pieces) {
        return String.join("", pieces.stream().map(Piece::text).toList());
    }

    private static void assertOnlyAPossibleMarkerOrAHighSurrogateIsHeld(String fed, String sent) {
        assertThat(fed).startsWith(sent);
        String held = fed.substring(sent.length());
        if (held.isEmpty() || held.length() == 1 && Character.isHighSurrogate(held.charAt(0))) {
            return;
        }
        assertThat(held).as("held back").matches("【(\\d{1,9}(:(\\d{1,9}(†[^【】\\n\\r]*)?)?|†[^【】\\n\\r]*)?)?");
        assertThat(held.length()).isLessThan(MarkerSyntax.MAX_LENGTH);
    }
}
