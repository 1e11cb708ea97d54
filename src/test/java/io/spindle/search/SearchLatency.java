package io.spindle.search;

import io.spindle.api.AttributeFilter;
import io.spindle.search.ChunkQuery.Mode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/**
 * Not a test: search latency at a given number of synthetic chunks (random 384-dimensional unit vectors, text of
 * words drawn from a skewed vocabulary), run by hand:
 * {@code java -cp ... io.spindle.search.SearchLatency 100000}. Prints indexing time and p50/p99 of hybrid searches.
 */
public final class SearchLatency {
    private static final int DIMENSIONS = 384;
    private static final int CHUNKS_PER_FILE = 100;

    public static void main(String[] args) throws IOException {
        int chunks = Integer.parseInt(args.length > 0 ? args[0] : "10000");
        int searches = 300;
        Random random = new Random(42);
        String[] vocabulary = new String[20_000];
        for (int i = 0; i < vocabulary.length; i++) {
            vocabulary[i] = word(random);
        }
        Path dir = Files.createTempDirectory("search-latency");
        try (ChunkIndex index = ChunkIndex.open(dir, "synthetic")) {
            long start = System.nanoTime();
            for (int file = 0; file * CHUNKS_PER_FILE < chunks; file++) {
                List<Chunk> list = new ArrayList<>();
                for (int c = 0; c < CHUNKS_PER_FILE && file * CHUNKS_PER_FILE + c < chunks; c++) {
                    list.add(new Chunk(c, text(random, vocabulary, 150), vector(random)));
                }
                index.put(new FileChunks("vs_bench", "file-" + file, "file-" + file + ".txt", Map.of("group", (double) (file % 10)), list));
            }
            System.out.printf("indexed %d chunks in %.1f s%n", index.size(), (System.nanoTime() - start) / 1e9);
            for (boolean filtered : new boolean[] {false, true}) {
                Optional<AttributeFilter> filter = filtered
                        ? Optional.of(new AttributeFilter.Comparison(AttributeFilter.Comparator.EQ, "group", 3.0)) : Optional.empty();
                long[] nanos = new long[searches];
                for (int i = -50; i < searches; i++) {
                    ChunkQuery query = new ChunkQuery(List.of("vs_bench"), List.of(new ChunkQuery.Part(text(random, vocabulary, 8), vector(random))),
                            filter, 10, 0, Mode.HYBRID);
                    long t = System.nanoTime();
                    index.search(query);
                    if (i >= 0) {
                        nanos[i] = System.nanoTime() - t;
                    }
                }
                Arrays.sort(nanos);
                System.out.printf("hybrid search%s, %d chunks: p50 %.1f ms, p99 %.1f ms%n", filtered ? " with a filter (1 in 10 files)" : "",
                        chunks, nanos[searches / 2] / 1e6, nanos[searches * 99 / 100] / 1e6);
            }
        }
    }

    private static String word(Random random) {
        StringBuilder w = new StringBuilder();
        for (int i = 0; i < 3 + random.nextInt(7); i++) {
            w.append((char) ('a' + random.nextInt(26)));
        }
        return w.toString();
    }

    /** Words drawn so that a few are common and most are rare, like natural text. */
    private static String text(Random random, String[] vocabulary, int words) {
        StringBuilder t = new StringBuilder();
        for (int i = 0; i < words; i++) {
            double u = random.nextDouble();
            t.append(vocabulary[(int) (vocabulary.length * u * u * u)]).append(' ');
        }
        return t.toString();
    }

    private static float[] vector(Random random) {
        float[] v = new float[DIMENSIONS];
        double norm = 0;
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian();
            norm += v[i] * v[i];
        }
        for (int i = 0; i < v.length; i++) {
            v[i] /= (float) Math.sqrt(norm);
        }
        return v;
    }
}
