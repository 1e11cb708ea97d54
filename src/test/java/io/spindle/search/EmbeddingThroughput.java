package io.spindle.search;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

/**
 * Not a test: how long the bge-small model takes to load and how many texts a second it embeds, for short
 * paragraphs and for chunks long enough to be cut at 512 tokens. Run by hand:
 * {@code java -cp ... io.spindle.search.EmbeddingThroughput}.
 */
public final class EmbeddingThroughput {

    public static void main(String[] args) throws IOException {
        OnnxEmbedder embedder = new OnnxEmbedder(OnnxEmbedderTest.CACHE);
        System.out.printf("model load: %d ms%n", embedder.load());
        List<String> paragraphs = new ArrayList<>();
        RetrievalQualityTest.corpus().get("documents").forEach(d -> paragraphs.add(d.get("text").asText()));
        List<String> longChunks = new ArrayList<>();
        for (int i = 0; i < paragraphs.size(); i++) {
            StringBuilder chunk = new StringBuilder();
            for (int j = 0; j < 6; j++) {
                chunk.append(paragraphs.get((i + j) % paragraphs.size())).append("\n\n");
            }
            longChunks.add(chunk.toString());
        }
        embedder.embedPassages(paragraphs.subList(0, 8));
        measure(embedder, "paragraphs (about 100 words)", paragraphs, 3);
        measure(embedder, "chunks cut at 512 tokens", longChunks, 1);
        Runtime runtime = Runtime.getRuntime();
        System.out.printf("heap in use after embedding: %d MB; resident set: %s%n",
                (runtime.totalMemory() - runtime.freeMemory()) >> 20, residentSet());
    }

    private static void measure(OnnxEmbedder embedder, String what, List<String> texts, int rounds) {
        long start = System.nanoTime();
        for (int round = 0; round < rounds; round++) {
            embedder.embedPassages(texts);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("%s: %.0f texts/s%n", what, rounds * texts.size() / seconds);
    }

    private static String residentSet() throws IOException {
        return Files.readAllLines(java.nio.file.Path.of("/proc/self/status")).stream()
                .filter(l -> l.startsWith("VmRSS")).findFirst().orElse("?").replaceAll("\\s+", " ");
    }
}
