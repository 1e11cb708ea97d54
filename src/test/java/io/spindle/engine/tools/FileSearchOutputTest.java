package io.spindle.engine.tools;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindle.api.Annotation;
import io.spindle.api.Json;
import io.spindle.engine.tools.FileSearchOutput.Hit;
import io.spindle.upstream.Tokenizer;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class FileSearchOutputTest {

    private static List<Hit> hits(int count, String text) {
        return IntStream.range(0, count)
                .mapToObj(i -> new Hit("file-" + i, "doc" + i + ".txt", 1.0 - i / 100.0, Json.object(), text))
                .toList();
    }

    @Test
    void eachResultIsHeadedByItsMarkerAndSeparatedByABlankLine() {
        List<Hit> hits = List.of(
                new Hit("file-foods", "favorite_foods.txt", 0.75, Json.object(), "Filip Carola: cake\nTekakwitha Effie: pizza"),
                new Hit("file-report", "report.pdf", 0.5, Json.object().put("year", 2024), "Revenue grew."));

        FileSearchOutput output = FileSearchOutput.of("gpt-4o", null, 3, hits);

        assertThat(output.text()).isEqualTo("【3:0†favorite_foods.txt】\nFilip Carola: cake\nTekakwitha Effie: pizza\n\n"
                + "【3:1†report.pdf】\nRevenue grew.");
        assertThat(output.results()).isEqualTo(hits);
        assertThat(output.sources()).containsExactly(new CitationSource(3, 0, "file-foods", "favorite_foods.txt"),
                new CitationSource(3, 1, "file-report", "report.pdf"));
    }

    @Test
    void aMarkerCopiedFromTheOutputCitesItsResult() {
        FileSearchOutput output = FileSearchOutput.of("gpt-4o", null, 1, hits(3, "text"));
        String answer = "As stated." + output.sources().get(2).marker();

        assertThat(CitationMarkersTest.find(answer, output.sources()))
                .containsExactly(new Annotation(Annotation.FILE_CITATION, "【1:2†doc2.txt】", 10, 24, "file-2"));
    }

    @Test
    void atMostMaxNumResultsAreKeptDefaulting20Or5ForGpt35() {
        List<Hit> many = hits(30, "A short chunk.");

        assertThat(FileSearchOutput.of("gpt-4o", null, 0, many).results()).hasSize(20);
        assertThat(FileSearchOutput.of("gpt-3.5-turbo", null, 0, many).results()).hasSize(5);
        assertThat(FileSearchOutput.of("openai/GPT-3.5-turbo-0125", null, 0, many).results()).hasSize(5);
        assertThat(FileSearchOutput.of("gpt-4o", 2, 0, many).results()).isEqualTo(many.subList(0, 2));
        assertThat(FileSearchOutput.of("gpt-3.5-turbo", 12, 0, many).sources()).hasSize(12);
    }

    @Test
    void resultsAreKeptInRankOrderWithinTheTokenBudget() {
        String chunk = "The quick brown fox jumps over the lazy dog. ".repeat(300);
        int tokens = Tokenizer.count("gpt-4o", chunk);
        assertThat(tokens).as("about 3,000 tokens a chunk").isBetween(2_800, 3_200);

        FileSearchOutput gpt4o = FileSearchOutput.of("gpt-4o", null, 0, hits(10, chunk));
        FileSearchOutput gpt35 = FileSearchOutput.of("gpt-3.5-turbo", 10, 0, hits(10, chunk));

        assertThat(gpt4o.results()).as("16,000 tokens").hasSize(5);
        assertThat(Tokenizer.count("gpt-4o", gpt4o.text())).isLessThanOrEqualTo(16_000);
        assertThat(gpt35.results()).as("4,000 tokens").hasSize(1);
        assertThat(gpt35.results().getFirst().fileId()).isEqualTo("file-0");
    }

    @Test
    void nothingKeptIsSaidInAShortNote() {
        FileSearchOutput none = FileSearchOutput.of("gpt-4o", null, 0, List.of());
        assertThat(none.text()).isEqualTo(FileSearchOutput.NOTHING_FOUND);
        assertThat(none.results()).isEmpty();
        assertThat(none.sources()).isEmpty();

        String huge = "The quick brown fox jumps over the lazy dog. ".repeat(500);
        assertThat(FileSearchOutput.of("gpt-3.5-turbo", null, 0, hits(2, huge)).text()).isEqualTo(FileSearchOutput.TOO_LONG);
    }

    @Test
    void theInstructionsShowAMarkerTheCitationsRecognise() {
        String instructions = FileSearchOutput.instructions();

        assertThat(instructions).contains("file_search").contains("【0:2†report.pdf】");
        assertThat(CitationMarkersTest.find(instructions, List.of(new CitationSource(0, 2, "file-r", "report.pdf")))).hasSize(1);
    }
}
