package io.spindle.engine.tools;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindle.api.Annotation;
import java.util.List;
import org.junit.jupiter.api.Test;

class CitationMarkersTest {
    static final CitationSource FOODS = new CitationSource(0, 0, "file-foods", "favorite_foods.txt");
    static final CitationSource REPORT = new CitationSource(0, 1, "file-report", "report.pdf");
    static final CitationSource NOTES = new CitationSource(1, 0, "file-notes", "notes.md");
    static final List<CitationSource> SOURCES = List.of(FOODS, REPORT, NOTES);

    /** The annotations of a whole answer citing {@code sources}. */
    static List<Annotation> find(String text, List<CitationSource> sources) {
        return AnnotationStream.annotations(text, CitationMarkers.of(sources));
    }

    /** The text between code-point offsets, as a client counting like OpenAI cuts it. */
    static String codePoints(String value, int start, int end) {
        return value.substring(value.offsetByCodePoints(0, start), value.offsetByCodePoints(0, end));
    }

    @Test
    void theRecordedAnswerGetsTheRecordedAnnotation() {
        // run-file-search.json: the model wrote 4:0 for the only result; the file name identifies it
        String value = "Filip's favorite food is cake【4:0†favorite_foods.txt】.";

        assertThat(find(value, List.of(FOODS)))
                .containsExactly(new Annotation(Annotation.FILE_CITATION, "【4:0†favorite_foods.txt】", 29, 53, "file-foods"));
    }

    @Test
    void indicesCountCodePointsAfterEmojiAndAccentedText() {
        String value = "Café 🍰 déjà vu 👩‍👩‍👧: cake【0:0†favorite_foods.txt】 and a 🎂【0:1†report.pdf】.";

        List<Annotation> found = find(value, SOURCES);

        assertThat(found).hasSize(2);
        assertThat(found.get(0).startIndex()).as("UTF-16 would say 30").isEqualTo(26);
        for (Annotation citation : found) {
            assertThat(codePoints(value, citation.startIndex(), citation.endIndex())).isEqualTo(citation.text());
        }
        assertThat(found).extracting(Annotation::fileId).containsExactly("file-foods", "file-report");
    }

    @Test
    void numbersWinOverTheNameWhenTheyIdentifyOneSource() {
        assertThat(find("x【0:1†favorite_foods.txt】", SOURCES)).extracting(Annotation::fileId)
                .containsExactly("file-report");
        assertThat(find("x【1:0†source】", SOURCES)).extracting(Annotation::fileId).containsExactly("file-notes");
        assertThat(find("x【0:0†】", SOURCES)).as("empty name, numbers enough").extracting(Annotation::fileId)
                .containsExactly("file-foods");
    }

    @Test
    void theOlderOneNumberFormIsMatchedByResultNumberWhenThatIsUnique() {
        assertThat(find("a【1†source】", SOURCES)).extracting(Annotation::fileId).containsExactly("file-report");
        assertThat(find("a【0†source】", SOURCES)).as("result 0 of two searches, name unknown").isEmpty();
        assertThat(find("a【0†notes.md】", SOURCES)).extracting(Annotation::fileId).containsExactly("file-notes");
    }

    @Test
    void theNameDecidesWhenNumbersMatchNothingAndTheFirstSourceOfThatNameWins() {
        CitationSource otherReport = new CitationSource(1, 1, "file-report-2", "report.pdf");
        List<CitationSource> sources = List.of(FOODS, REPORT, otherReport);

        assertThat(find("【7:3†report.pdf】", sources)).extracting(Annotation::fileId).containsExactly("file-report");
        assertThat(find("【7:3†Report.pdf】", sources)).as("names match exactly").isEmpty();
    }

    @Test
    void unmatchedMarkersStayPlainTextAndLaterOnesAreStillFound() {
        String value = "A【9:9†secret.txt】 b【13†source】 c【0:0†favorite_foods.txt】";

        assertThat(find(value, SOURCES)).containsExactly(
                new Annotation(Annotation.FILE_CITATION, "【0:0†favorite_foods.txt】", 32, 56, "file-foods"));
        assertThat(find(value, List.of())).isEmpty();
    }

    @Test
    void adjacentMarkersAreEachAnnotated() {
        String value = "Both.【0:0†favorite_foods.txt】【0:1†report.pdf】【1:0†notes.md】";

        List<Annotation> found = find(value, SOURCES);

        assertThat(found).extracting(Annotation::fileId).containsExactly("file-foods", "file-report", "file-notes");
        assertThat(found.get(1).startIndex()).isEqualTo(found.get(0).endIndex());
        assertThat(found.get(2).startIndex()).isEqualTo(found.get(1).endIndex());
        assertThat(found.get(2).endIndex()).isEqualTo(value.codePointCount(0, value.length()));
    }

    @Test
    void strayBracketsAreTextAndAMarkerRightAfterOneIsStillFound() {
        assertThat(find("a 【 b 【note c【【0:1†report.pdf】", SOURCES))
                .containsExactly(new Annotation(Annotation.FILE_CITATION, "【0:1†report.pdf】", 14, 30, "file-report"));
        assertThat(find("unclosed 【0:0†favorite_foods.txt", SOURCES)).isEmpty();
        assertThat(find("【", SOURCES)).isEmpty();
        assertThat(find("】【0:0】【:0†report.pdf】【0:†report.pdf】【0:0:0†report.pdf】", SOURCES)).isEmpty();
    }

    @Test
    void aMarkerDoesNotSpanALineNorGrowPast256Characters() {
        assertThat(find("【0:0†favorite\n_foods.txt】", SOURCES)).isEmpty();
        String longName = "n".repeat(MarkerSyntax.MAX_LENGTH - "【0:0†】".length());
        List<CitationSource> named = List.of(new CitationSource(0, 0, "file-long", longName));

        assertThat(find("【0:0†" + longName + "】", named)).as("256 characters").hasSize(1);
        assertThat(find("【0:0†" + longName + "n】", named)).as("257 characters").isEmpty();
        assertThat(find("【0:1234567890†report.pdf】", SOURCES)).as("ten digits").isEmpty();
    }
}
