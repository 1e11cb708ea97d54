package io.spindle.engine.tools;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindle.api.Annotation;
import io.spindle.engine.tools.AnnotationStream.Piece;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SandboxLinksTest {
    private static final Map<String, String> WRITTEN = new LinkedHashMap<>();

    static {
        WRITTEN.put("a.csv", "file-a");
        WRITTEN.put("a.csv.bak", "file-bak");
        WRITTEN.put("my chart.png", "file-chart");
        WRITTEN.put("résumé.txt", "file-cv");
    }

    private static List<Annotation> find(String text) {
        return AnnotationStream.annotations(text, SandboxLinks.of(WRITTEN));
    }

    private static Annotation path(String text, int start, int end, String fileId) {
        return new Annotation(Annotation.FILE_PATH, text, start, end, fileId);
    }

    @Test
    void theDocumentedMarkdownLinkGetsAFilePathAnnotationOverTheLinkAlone() {
        String answer = "Here it is: [Download](sandbox:/mnt/data/a.csv).";

        assertThat(find(answer)).containsExactly(path("sandbox:/mnt/data/a.csv", 23, 46, "file-a"));
    }

    @Test
    void theLongestWrittenNameWinsAndPunctuationEndsAName() {
        assertThat(find("see sandbox:/mnt/data/a.csv.bak now")).extracting(Annotation::fileId).containsExactly("file-bak");
        assertThat(find("see sandbox:/mnt/data/a.csv.")).extracting(Annotation::text).containsExactly("sandbox:/mnt/data/a.csv");
        assertThat(find("sandbox:/mnt/data/a.csv")).as("at the very end").hasSize(1);
        assertThat(find("sandbox:/mnt/data/a.csvx")).as("another name").isEmpty();
        assertThat(find("sandbox:/mnt/data/b.csv and sandbox:/mnt/data/")).as("not written").isEmpty();
    }

    @Test
    void aNameWithASpaceMatchesAsWrittenOrPercentEncodedAndIndicesCountCodePoints() {
        assertThat(find("🎂 [chart](sandbox:/mnt/data/my%20chart.png)"))
                .containsExactly(path("sandbox:/mnt/data/my%20chart.png", 10, 42, "file-chart"));
        assertThat(find("sandbox:/mnt/data/my chart.png")).extracting(Annotation::fileId).containsExactly("file-chart");
        assertThat(find("sandbox:/mnt/data/r%C3%A9sum%C3%A9.txt, sandbox:/mnt/data/résumé.txt"))
                .extracting(Annotation::fileId).containsExactly("file-cv", "file-cv");
    }

    @Test
    void withoutWrittenFilesNothingIsHeldBack() {
        AnnotationStream stream = new AnnotationStream(SandboxLinks.of(Map.of()));

        assertThat(stream.feed("sandbox:/mnt/da")).containsExactly(new Piece("sandbox:/mnt/da", List.of(), 0));
    }

    @Test
    void aLinkIsHeldWhileItMayStillGrowIntoALongerName() {
        AnnotationStream stream = new AnnotationStream(SandboxLinks.of(WRITTEN));

        assertThat(stream.feed("x sand")).containsExactly(new Piece("x ", List.of(), 0));
        assertThat(stream.feed("box:/mnt/data/a.csv")).isEmpty();
        assertThat(stream.feed(".b")).as("a.csv.bak may follow").isEmpty();
        assertThat(stream.feed("z")).containsExactly(new Piece("sandbox:/mnt/data/a.csv", List.of(path("sandbox:/mnt/data/a.csv",
                2, 25, "file-a")), 0), new Piece(".bz", List.of(), 1));
        assertThat(stream.feed("sandbox:/mnt/x")).containsExactly(new Piece("sandbox:/mnt/x", List.of(), 1));
    }

    private static final List<String> SAMPLES = List.of(
            "Files: [a](sandbox:/mnt/data/a.csv), [bak](sandbox:/mnt/data/a.csv.bak) and 【0:0†favorite_foods.txt】.",
            "🍰 sandbox:/mnt/data/my chart.png【0:1†report.pdf】sandbox:/mnt/data/a.csv",
            "sandbox:/mnt/data/a.cs sandbox:/mnt/datum sandbox:/mnt/data/résumé.txt! sandbox:/mnt/data/a.csv.ba",
            "sandboxsandbox:/mnt/data/a.csv【1:0†notes.md】sandbox:/mnt/data/my%20chart.pngsandbox:");

    @Test
    void withCitationsTooRandomSplitsRebuildTheTextAndItsAnnotationsExactly() {
        Annotator both = Annotator.all(List.of(CitationMarkers.of(CitationMarkersTest.SOURCES), SandboxLinks.of(WRITTEN)));
        Random random = new Random(7);
        for (String sample : SAMPLES) {
            List<Annotation> expected = AnnotationStream.annotations(sample, both);
            assertThat(expected).as(sample).hasSizeGreaterThanOrEqualTo(2);
            for (int round = 0; round < 300; round++) {
                AnnotationStream stream = new AnnotationStream(both);
                List<Piece> pieces = new ArrayList<>();
                int at = 0;
                while (at < sample.length()) {
                    int next = Math.min(sample.length(), at + 1 + random.nextInt(round % 2 == 0 ? 3 : 30));
                    pieces.addAll(stream.feed(sample.substring(at, next)));
                    at = next;
                }
                pieces.addAll(stream.finish());

                assertThat(String.join("", pieces.stream().map(Piece::text).toList())).isEqualTo(sample);
                assertThat(pieces.stream().flatMap(p -> p.annotations().stream()).toList()).as(sample).isEqualTo(expected);
                for (Annotation a : expected) {
                    assertThat(CitationMarkersTest.codePoints(sample, a.startIndex(), a.endIndex())).isEqualTo(a.text());
                }
            }
        }
    }
}
