package io.spindle.search;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.spindle.api.ApiException;
import io.spindle.api.AttributeFilter;
import io.spindle.api.AttributeFilter.Comparator;
import io.spindle.api.AttributeFilter.Comparison;
import io.spindle.api.AttributeFilter.Compound;
import io.spindle.search.ChunkQuery.Mode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.lucene.store.LockObtainFailedException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link ChunkIndex} with small hand-made vectors; the real embedder is in {@link RetrievalQualityTest}. */
class ChunkIndexTest {
    private static final String MODEL = "test-model";
    @TempDir
    Path dir;
    private final List<ChunkIndex> open = new ArrayList<>();

    @AfterEach
    void close() throws IOException {
        for (ChunkIndex index : open) {
            index.close();
        }
    }

    private ChunkIndex index() throws IOException {
        return index(MODEL);
    }

    private ChunkIndex index(String model) throws IOException {
        ChunkIndex index = ChunkIndex.open(dir, model);
        open.add(index);
        return index;
    }

    private static FileChunks file(String store, String file, Map<String, Object> attributes, String... texts) {
        List<Chunk> chunks = new ArrayList<>();
        for (int i = 0; i < texts.length; i++) {
            chunks.add(new Chunk(i, texts[i], vector(texts[i])));
        }
        return new FileChunks(store, file, file + ".txt", attributes, chunks);
    }

    /** A 3-dimensional "embedding": how much a text is about cats, money and weather. */
    private static float[] vector(String text) {
        String t = text.toLowerCase();
        return new float[] {
            t.contains("cat") || t.contains("kitten") || t.contains("feline") ? 1 : 0.01f,
            t.contains("money") || t.contains("bank") || t.contains("invoice") ? 1 : 0.01f,
            t.contains("rain") || t.contains("storm") || t.contains("weather") ? 1 : 0.01f};
    }

    private static ChunkQuery query(List<String> stores, String text, Mode mode) {
        return new ChunkQuery(stores, List.of(new ChunkQuery.Part(text, vector(text))), Optional.empty(), 10, 0, mode);
    }

    private static List<String> texts(List<ChunkHit> hits) {
        return hits.stream().map(ChunkHit::text).toList();
    }

    @Test
    void keywordVectorAndHybridSearchFindTheirChunks() throws IOException {
        ChunkIndex index = index();
        index.put(file("vs_1", "file-a", Map.of(), "The kitten sleeps all day.", "Invoices are due in thirty days."));
        index.put(file("vs_1", "file-b", Map.of(), "Heavy rain is expected tomorrow."));

        assertThat(texts(index.search(query(List.of("vs_1"), "invoices due", Mode.KEYWORD))))
                .containsExactly("Invoices are due in thirty days.");
        assertThat(texts(index.search(query(List.of("vs_1"), "feline", Mode.VECTOR))).getFirst())
                .isEqualTo("The kitten sleeps all day.");
        List<ChunkHit> hybrid = index.search(query(List.of("vs_1"), "storm tomorrow", Mode.HYBRID));
        assertThat(hybrid.getFirst().text()).isEqualTo("Heavy rain is expected tomorrow.");
        assertThat(hybrid.getFirst().score()).as("first in both rankings").isEqualTo(1.0);
        assertThat(hybrid.getFirst()).extracting(ChunkHit::vectorStoreId, ChunkHit::fileId, ChunkHit::fileName, ChunkHit::ordinal)
                .containsExactly("vs_1", "file-b", "file-b.txt", 0);
        assertThat(hybrid).extracting(ChunkHit::score).isSortedAccordingTo(java.util.Comparator.reverseOrder());
    }

    @Test
    void searchesStayInTheirVectorStores() throws IOException {
        ChunkIndex index = index();
        index.put(file("vs_1", "file-a", Map.of(), "cat one"));
        index.put(file("vs_2", "file-a", Map.of(), "cat two"));
        index.put(file("vs_3", "file-c", Map.of(), "cat three"));

        assertThat(texts(index.search(query(List.of("vs_2"), "cat", Mode.HYBRID)))).containsExactly("cat two");
        assertThat(texts(index.search(query(List.of("vs_1", "vs_3"), "cat", Mode.HYBRID))))
                .containsExactlyInAnyOrder("cat one", "cat three");
        assertThat(index.search(query(List.of("vs_9"), "cat", Mode.HYBRID))).isEmpty();
        assertThat(index.search(query(List.of(), "cat", Mode.HYBRID))).isEmpty();
    }

    @Test
    void puttingAFileAgainReplacesItsChunksInThatStoreOnly() throws IOException {
        ChunkIndex index = index();
        index.put(file("vs_1", "file-a", Map.of(), "old cat", "old cat again"));
        index.put(file("vs_2", "file-a", Map.of(), "cat elsewhere"));

        index.put(file("vs_1", "file-a", Map.of(), "new cat"));

        assertThat(texts(index.search(query(List.of("vs_1", "vs_2"), "cat", Mode.KEYWORD))))
                .containsExactlyInAnyOrder("new cat", "cat elsewhere");
        assertThat(index.size()).isEqualTo(2);
    }

    @Test
    void deletionsRemoveWhatTheyName() throws IOException {
        ChunkIndex index = index();
        index.put(file("vs_1", "file-a", Map.of(), "cat a1", "cat a2"));
        index.put(file("vs_1", "file-b", Map.of(), "cat b1"));
        index.put(file("vs_2", "file-a", Map.of(), "cat a1 in two"));
        index.put(file("vs_2", "file-c", Map.of(), "cat c1"));
        index.put(file("vs_3", "file-d", Map.of(), "cat d1"));
        List<String> all = List.of("vs_1", "vs_2", "vs_3");

        index.deleteFile("vs_1", "file-b");
        assertThat(texts(index.search(query(all, "cat", Mode.KEYWORD)))).containsExactlyInAnyOrder("cat a1", "cat a2", "cat a1 in two", "cat c1", "cat d1");

        index.deleteFile("file-a");
        assertThat(texts(index.search(query(all, "cat", Mode.KEYWORD)))).containsExactlyInAnyOrder("cat c1", "cat d1");

        index.deleteVectorStore("vs_2");
        assertThat(texts(index.search(query(all, "cat", Mode.KEYWORD)))).containsExactly("cat d1");

        index.clear();
        assertThat(index.size()).isZero();
        assertThat(index.search(query(all, "cat", Mode.HYBRID))).isEmpty();
    }

    @Test
    void maxResultsAndScoreThresholdCutTheList() throws IOException {
        ChunkIndex index = index();
        for (int i = 0; i < 30; i++) {
            index.put(file("vs_1", "file-" + i, Map.of(), "cat number " + i + " " + "cat ".repeat(i % 5)));
        }
        ChunkQuery.Part part = new ChunkQuery.Part("cat", vector("cat"));

        assertThat(index.search(new ChunkQuery(List.of("vs_1"), List.of(part), Optional.empty(), 7, 0, Mode.HYBRID))).hasSize(7);
        List<ChunkHit> all = index.search(new ChunkQuery(List.of("vs_1"), List.of(part), Optional.empty(), 50, 0, Mode.HYBRID));
        assertThat(all).hasSize(30);
        double threshold = all.get(10).score();
        List<ChunkHit> above = index.search(new ChunkQuery(List.of("vs_1"), List.of(part), Optional.empty(), 50, threshold, Mode.HYBRID));
        assertThat(above).isNotEmpty().allSatisfy(h -> assertThat(h.score()).isGreaterThanOrEqualTo(threshold));
        assertThat(above.size()).isBetween(11, 29);
    }

    @Test
    void aChunkScoresWhatItsBestQueryGaveIt() throws IOException {
        ChunkIndex index = index();
        index.put(file("vs_1", "file-a", Map.of(), "The cat naps.", "The bank sends an invoice.", "Storm warning."));

        List<ChunkHit> hits = index.search(new ChunkQuery(List.of("vs_1"),
                List.of(new ChunkQuery.Part("cat", vector("cat")), new ChunkQuery.Part("invoice", vector("invoice"))),
                Optional.empty(), 10, 0.9, Mode.HYBRID));

        assertThat(texts(hits)).containsExactlyInAnyOrder("The cat naps.", "The bank sends an invoice.");
        assertThat(hits).allSatisfy(h -> assertThat(h.score()).isEqualTo(1.0));
    }

    @Test
    void attributesComeBackWithTheirTypes() throws IOException {
        ChunkIndex index = index();
        Map<String, Object> attributes = new LinkedHashMap<>();
        attributes.put("author", "Ada");
        attributes.put("year", 2024);
        attributes.put("rating", 4.5);
        attributes.put("draft", false);
        index.put(file("vs_1", "file-a", attributes, "cat"));

        assertThat(index.search(query(List.of("vs_1"), "cat", Mode.HYBRID)).getFirst().attributes())
                .containsExactly(Map.entry("author", "Ada"), Map.entry("year", 2024), Map.entry("rating", 4.5), Map.entry("draft", false));
        assertThatThrownBy(() -> index.put(file("vs_1", "file-b", Map.of("bad", List.of()), "cat")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'bad'");
    }

    // ----- filters: the index against a plain evaluation of the same filter -------------------------------------

    private static final List<String> KEYS = List.of("a", "b", "c");
    private static final List<Object> VALUES = List.of("x", "y", "xy", "", -1.0, 0.0, 1.5, 2.0, 10.0, true, false);

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void filtersSelectExactlyTheChunksWhoseAttributesMatch(long seed) throws IOException {
        Random random = new Random(seed);
        ChunkIndex index = index();
        List<Map<String, Object>> files = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            Map<String, Object> attributes = new LinkedHashMap<>();
            for (String key : KEYS) {
                if (random.nextInt(4) > 0) {
                    Object v = VALUES.get(random.nextInt(VALUES.size()));
                    attributes.put(key, v instanceof Double d && d == Math.rint(d) && random.nextBoolean() ? (Object) (int) (double) d : v);
                }
            }
            files.add(attributes);
            index.put(file("vs_1", "file-" + i, attributes, "common words " + i));
        }
        for (int q = 0; q < 100; q++) {
            AttributeFilter filter = randomFilter(random, 3);
            Set<String> expected = IntStream.range(0, files.size()).filter(i -> matches(filter, files.get(i)))
                    .mapToObj(i -> "file-" + i).collect(Collectors.toSet());

            List<ChunkHit> hits = index.search(new ChunkQuery(List.of("vs_1"), List.of(new ChunkQuery.Part("common", vector("common"))),
                    Optional.of(filter), 50, 0, Mode.KEYWORD));

            assertThat(hits.stream().map(ChunkHit::fileId).collect(Collectors.toSet())).as("%s", filter).isEqualTo(expected);
            List<ChunkHit> nearest = index.search(new ChunkQuery(List.of("vs_1"), List.of(new ChunkQuery.Part("common", vector("common"))),
                    Optional.of(filter), 50, 0, Mode.VECTOR));
            assertThat(nearest.stream().map(ChunkHit::fileId).collect(Collectors.toSet())).as("vector, %s", filter).isEqualTo(expected);
        }
    }

    private static AttributeFilter randomFilter(Random random, int depth) {
        if (depth > 0 && random.nextInt(3) == 0) {
            List<AttributeFilter> filters = Stream.generate(() -> randomFilter(random, depth - 1)).limit(random.nextInt(4)).toList();
            return new Compound(random.nextBoolean(), filters);
        }
        Comparator comparator = Comparator.values()[random.nextInt(Comparator.values().length)];
        String key = KEYS.get(random.nextInt(KEYS.size()));
        Object value;
        if (comparator == Comparator.IN || comparator == Comparator.NIN) {
            List<Object> values = new ArrayList<>();
            for (int i = random.nextInt(4); i > 0; i--) {
                Object v = VALUES.get(random.nextInt(VALUES.size() - 2));
                values.add(v);
            }
            value = values;
        } else {
            int choices = comparator == Comparator.EQ || comparator == Comparator.NE ? VALUES.size() : VALUES.size() - 2;
            value = VALUES.get(random.nextInt(choices));
        }
        return new Comparison(comparator, key, value);
    }

    /** The meaning of a filter, plainly: values only compare with values of their own type. */
    static boolean matches(AttributeFilter filter, Map<String, Object> attributes) {
        return switch (filter) {
            case Compound c -> c.all() ? c.filters().stream().allMatch(f -> matches(f, attributes))
                    : c.filters().stream().anyMatch(f -> matches(f, attributes));
            case Comparison c -> {
                Object actual = attributes.get(c.key());
                if (actual instanceof Integer i) {
                    actual = i.doubleValue();
                }
                Object a = actual;
                yield switch (c.comparator()) {
                    case EQ -> c.value().equals(a);
                    case NE -> !c.value().equals(a);
                    case IN -> ((List<?>) c.value()).contains(a);
                    case NIN -> !((List<?>) c.value()).contains(a);
                    default -> {
                        Integer order = compare(a, c.value());
                        yield order != null && switch (c.comparator()) {
                            case GT -> order > 0;
                            case GTE -> order >= 0;
                            case LT -> order < 0;
                            default -> order <= 0;
                        };
                    }
                };
            }
        };
    }

    private static Integer compare(Object actual, Object value) {
        if (actual instanceof String a && value instanceof String v) {
            return a.compareTo(v);
        }
        if (actual instanceof Double a && value instanceof Double v) {
            return Double.compare(a, v);
        }
        return null;
    }

    @Test
    void negativeZeroIsZero() throws IOException {
        ChunkIndex index = index();
        index.put(file("vs_1", "file-a", Map.of("n", -0.0), "cat"));

        List<ChunkHit> hits = index.search(new ChunkQuery(List.of("vs_1"), List.of(new ChunkQuery.Part("cat", vector("cat"))),
                Optional.of(new Comparison(Comparator.EQ, "n", 0.0)), 10, 0, Mode.HYBRID));

        assertThat(hits).hasSize(1);
    }

    @Test
    void aFilterTooLargeToRunIsABadRequestNamingFilters() throws IOException {
        ChunkIndex index = index();
        index.put(file("vs_1", "file-a", Map.of("n", 1), "cat"));
        List<AttributeFilter> many = IntStream.range(0, 3000).mapToObj(i -> (AttributeFilter) new Comparison(Comparator.EQ, "n", (double) i)).toList();

        ApiException e = catchThrowableOfType(ApiException.class, () -> index.search(new ChunkQuery(List.of("vs_1"),
                List.of(new ChunkQuery.Part("cat", vector("cat"))), Optional.of(new Compound(false, many)), 10, 0, Mode.HYBRID)));

        assertThat(e).isNotNull();
        assertThat(e.param()).isEqualTo("filters");
        assertThat(e.kind()).isEqualTo(ApiException.Kind.INVALID_REQUEST);
    }

    // ----- opening: kept, or started empty with a reason to rebuild ---------------------------------------------

    @Test
    void aReopenedIndexKeepsItsChunks() throws IOException {
        ChunkIndex first = index();
        assertThat(first.needsRebuild()).as("there was no index").isTrue();
        first.put(file("vs_1", "file-a", Map.of(), "cat"));
        first.close();
        open.remove(first);

        ChunkIndex again = index();

        assertThat(again.needsRebuild()).isFalse();
        assertThat(texts(again.search(query(List.of("vs_1"), "cat", Mode.HYBRID)))).containsExactly("cat");
    }

    @Test
    void anotherEmbeddingModelStartsTheIndexEmpty() throws IOException {
        ChunkIndex first = index("model-one");
        first.put(file("vs_1", "file-a", Map.of(), "cat"));
        first.close();
        open.remove(first);

        ChunkIndex other = index("model-two");

        assertThat(other.needsRebuild()).isTrue();
        assertThat(other.size()).isZero();
    }

    @Test
    void aCorruptIndexStartsEmptyAndWorks() throws IOException {
        ChunkIndex first = index();
        first.put(file("vs_1", "file-a", Map.of(), "cat"));
        first.close();
        open.remove(first);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.filter(p -> p.getFileName().toString().startsWith("segments_")).toList()) {
                byte[] bytes = Files.readAllBytes(p);
                bytes[bytes.length / 2] ^= 0x5a;
                Files.write(p, bytes);
            }
        }

        ChunkIndex reopened = index();

        assertThat(reopened.needsRebuild()).isTrue();
        assertThat(reopened.size()).isZero();
        reopened.put(file("vs_1", "file-a", Map.of(), "cat"));
        assertThat(texts(reopened.search(query(List.of("vs_1"), "cat", Mode.HYBRID)))).containsExactly("cat");
    }

    @Test
    void aMissingSegmentFileStartsEmpty() throws IOException {
        ChunkIndex first = index();
        first.put(file("vs_1", "file-a", Map.of(), "cat"));
        first.close();
        open.remove(first);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.filter(p -> p.getFileName().toString().endsWith(".si")).toList()) {
                Files.delete(p);
            }
        }

        ChunkIndex reopened = index();

        assertThat(reopened.needsRebuild()).isTrue();
        assertThat(reopened.size()).isZero();
    }

    @Test
    void aSecondOpenOfTheSameDirectoryFailsInsteadOfWipingIt() throws IOException {
        ChunkIndex first = index();
        first.put(file("vs_1", "file-a", Map.of(), "cat"));

        assertThatThrownBy(() -> ChunkIndex.open(dir, MODEL)).isInstanceOf(LockObtainFailedException.class);
        assertThat(first.size()).isEqualTo(1);
        first.put(file("vs_1", "file-b", Map.of(), "cat"));
        assertThat(first.size()).isEqualTo(2);
    }
}
