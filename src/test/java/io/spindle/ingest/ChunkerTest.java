package io.spindle.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import io.spindle.api.ChunkingStrategy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ChunkerTest {
    private static final Encoding CL100K = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.CL100K_BASE);
    private static final String[] WORDS = {"the", "file", "search", "tool", "reads", "documents", "and", "finds",
            "passages", "that", "answer", "questions", "about", "quarterly", "revenue", "growth", "in", "every", "region"};

    private final Chunker chunker = new Chunker();

    /** Seeded prose: words, commas, sentences, line breaks and paragraphs. */
    private static String prose(long seed, int words) {
        Random random = new Random(seed);
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < words; i++) {
            text.append(WORDS[random.nextInt(WORDS.length)]);
            int r = random.nextInt(40);
            text.append(r == 0 ? ".\n\n" : r == 1 ? ".\n" : r < 5 ? ". " : r < 8 ? ", " : " ");
        }
        return text.toString();
    }

    /** Every chunk is the document's substring, within the size, covering the document in order. */
    private static void assertWellFormed(String text, List<Chunk> chunks, int max) {
        assertThat(chunks).isNotEmpty();
        assertThat(chunks.getFirst().start()).isZero();
        assertThat(chunks.getLast().end()).isEqualTo(text.length());
        Chunk previous = null;
        for (Chunk chunk : chunks) {
            assertThat(chunk.text()).isEqualTo(text.substring(chunk.start(), chunk.end()));
            assertThat(chunk.tokens()).isBetween(1, max);
            if (previous != null) {
                assertThat(chunk.start()).isGreaterThan(previous.start()).isLessThanOrEqualTo(previous.end());
                assertThat(chunk.end()).isGreaterThan(previous.end());
            }
            previous = chunk;
        }
    }

    @Test
    void emptyTextHasNoChunks() {
        assertThat(chunker.chunk("", ChunkingStrategy.AUTO)).isEmpty();
    }

    @Test
    void textShorterThanOneChunkIsOneChunk() {
        String text = "A short note about chunking.\nIt fits in one chunk.";
        List<Chunk> chunks = chunker.chunk(text, ChunkingStrategy.AUTO);

        assertThat(chunks).containsExactly(new Chunk(text, CL100K.countTokensOrdinary(text), 0, text.length()));
    }

    @Test
    void exactMultiplesOfTheChunkSize() {
        String text = "a" + " a".repeat(999); // one token per word
        assertThat(CL100K.countTokensOrdinary(text)).isEqualTo(1000);

        List<Chunk> tiled = chunker.chunk(text, 100, 0);
        assertThat(tiled).hasSize(10).allSatisfy(c -> assertThat(c.tokens()).isEqualTo(100));
        assertThat(String.join("", tiled.stream().map(Chunk::text).toList())).isEqualTo(text);

        List<Chunk> overlapping = chunker.chunk(text, 100, 50);
        assertThat(overlapping).hasSize(19).allSatisfy(c -> assertThat(c.tokens()).isEqualTo(100));
        assertThat(overlapping.get(1).start()).isEqualTo(overlapping.get(0).text().length() / 2);

        assertThat(chunker.chunk(text.substring(0, 1 + 2 * 799), ChunkingStrategy.AUTO)).hasSize(1);
        String twelveHundred = "a" + " a".repeat(1199);
        List<Chunk> auto = chunker.chunk(twelveHundred, ChunkingStrategy.AUTO);
        assertThat(auto).extracting(Chunk::tokens).containsExactly(800, 800);
        assertThat(auto.get(1).start()).isEqualTo(auto.get(0).end() - 2 * 400);
        assertThat(auto.get(1).end()).isEqualTo(twelveHundred.length());
    }

    @ParameterizedTest(name = "max {0}, overlap {1}")
    @CsvSource({"100, 0", "100, 50", "256, 64", "800, 400", "1000, 100", "4096, 2048"})
    void proseChunksHaveTheSizeAndOverlapAsked(int max, int overlap) {
        String text = prose(max * 31L + overlap, 6_000);
        int[] ends = chunker.tokenEnds(text);
        assertThat(ends).hasSize(CL100K.countTokensOrdinary(text)); // encoding in pieces changed nothing
        List<Chunk> chunks = chunker.chunk(text, max, overlap);

        assertWellFormed(text, chunks, max);
        for (int i = 0; i < chunks.size(); i++) {
            Chunk chunk = chunks.get(i);
            int first = chunk.start() == 0 ? 0 : Arrays.binarySearch(ends, chunk.start()) + 1;
            int last = Arrays.binarySearch(ends, chunk.end()) + 1;
            assertThat(last - first).isEqualTo(chunk.tokens());
            if (i < chunks.size() - 1) {
                assertThat(chunk.tokens()).isGreaterThanOrEqualTo(max - max / 8);
                Chunk next = chunks.get(i + 1);
                int nextFirst = Arrays.binarySearch(ends, next.start()) + 1;
                assertThat(last - nextFirst).as("overlap in tokens").isEqualTo(overlap);
            }
        }
        if (overlap == 0) {
            assertThat(String.join("", chunks.stream().map(Chunk::text).toList())).isEqualTo(text);
        }
    }

    @Test
    void chunksEndAtTheBestBoundaryNearTheWindowEnd() {
        // 95 one-token words, a paragraph break, then more: a 100-token window ends after the break
        String paragraph = "a" + " a".repeat(94) + ".\n\n" + "b" + " b".repeat(200);
        List<Chunk> chunks = chunker.chunk(paragraph, 100, 0);
        assertThat(chunks.getFirst().text()).endsWith("a.\n\n");
        assertThat(chunks.get(1).text()).startsWith("b b");

        // a sentence end beats a plain word boundary
        String sentences = "a" + " a".repeat(93) + ". Then" + " b".repeat(200);
        assertThat(chunker.chunk(sentences, 100, 0).getFirst().text()).endsWith("a a.");

        // without a break nearby the window is used whole
        String words = "a" + " a".repeat(300);
        assertThat(chunker.chunk(words, 100, 0).getFirst().tokens()).isEqualTo(100);
    }

    @Test
    void ranksOfBoundaries() {
        assertThat(Chunker.rank("one\n\ntwo", 5)).isEqualTo(4);
        assertThat(Chunker.rank("one\r\n\r\ntwo", 7)).isEqualTo(4);
        assertThat(Chunker.rank("one\ntwo", 4)).isEqualTo(3);
        assertThat(Chunker.rank("one. two", 4)).isEqualTo(2);
        assertThat(Chunker.rank("一。二", 2)).isEqualTo(2);
        assertThat(Chunker.rank("3.14", 2)).isEqualTo(0);
        assertThat(Chunker.rank("one two", 3)).isEqualTo(1);
        assertThat(Chunker.rank("onetwo", 3)).isEqualTo(0);
    }

    @Test
    void unicodeAndEmojiAreNeverCutInsideACharacter() {
        StringBuilder text = new StringBuilder();
        Random random = new Random(7);
        String[] parts = {"🎉", "👩‍👩‍👧", "漢字", "かな", "Grüße", "ẞ", "𝔘𝔫𝔦", " ", "\n", "é", "🇫🇷"};
        for (int i = 0; i < 3_000; i++) {
            text.append(parts[random.nextInt(parts.length)]);
        }
        String document = text.toString();

        for (int[] size : new int[][] {{100, 0}, {100, 50}, {300, 100}}) {
            List<Chunk> chunks = chunker.chunk(document, size[0], size[1]);
            assertWellFormed(document, chunks, size[0]);
            for (Chunk chunk : chunks) {
                assertThat(Character.isLowSurrogate(chunk.text().charAt(0))).isFalse();
                assertThat(Character.isHighSurrogate(chunk.text().charAt(chunk.text().length() - 1))).isFalse();
                assertThat(chunk.text()).doesNotContain("\uFFFD");
            }
        }
    }

    @Test
    void aLoneSurrogateKeepsOffsetsAligned() {
        String text = ("before \uD800 after " + "word ".repeat(150) + "x\uDC00y ").repeat(3);
        List<Chunk> chunks = chunker.chunk(text, 100, 10);
        assertWellFormed(text, chunks, 100);
        assertThat(chunker.tokenEnds(text)).hasSize(CL100K.countTokensOrdinary(Texts.wellFormed(text)));
    }

    @Test
    void whitespaceFreeTextIsEncodedInBoundedPieces() {
        Random random = new Random(3);
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        StringBuilder base64 = new StringBuilder();
        for (int i = 0; i < 1_000_000; i++) {
            base64.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        String text = base64.toString();

        long start = System.nanoTime();
        List<Chunk> chunks = chunker.chunk(text, ChunkingStrategy.AUTO);
        double seconds = (System.nanoTime() - start) / 1e9;

        assertWellFormed(text, chunks, 800);
        System.out.printf("Chunking 1,000,000 characters without whitespace: %d chunks in %.2f s%n", chunks.size(), seconds);
    }

    @Test
    void piecesEndBeforeASpaceElseAnyWhitespaceElseAtTheLimitWithoutSplittingAPair() {
        int limit = Chunker.PIECE_CHARS;
        String spaced = "x".repeat(limit - 10) + " y\nz" + "w".repeat(100);
        assertThat(Chunker.pieceEnd(spaced, 0)).isEqualTo(limit - 10);

        String lines = "x".repeat(limit - 10) + "\n" + "w".repeat(100);
        assertThat(Chunker.pieceEnd(lines, 0)).isEqualTo(limit - 10);

        String solid = "x".repeat(limit + 100);
        assertThat(Chunker.pieceEnd(solid, 0)).isEqualTo(limit);
        assertThat(Chunker.pieceEnd(solid, limit)).isEqualTo(solid.length());

        String pairAtLimit = "x".repeat(limit - 1) + "🎉" + "x".repeat(10);
        assertThat(Chunker.pieceEnd(pairAtLimit, 0)).isEqualTo(limit - 1);

        assertThat(Chunker.pieceEnd("short text", 0)).isEqualTo(10);
    }

    @Test
    void theStrategyBoundsAreChecked() {
        assertThatThrownBy(() -> chunker.chunk("text", 100, 51)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> chunker.chunk("text", 0, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> chunker.chunk("text", 100, -1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void chunksOfAnExtractedDocument() throws Exception {
        List<String> paragraphs = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            paragraphs.add(prose(i, 120));
        }
        String text = String.join("\n\n", paragraphs);
        List<Chunk> chunks = chunker.chunk(text, ChunkingStrategy.AUTO);
        assertWellFormed(text, chunks, 800);
        assertThat(chunks.size()).isGreaterThan(1);
    }
}
