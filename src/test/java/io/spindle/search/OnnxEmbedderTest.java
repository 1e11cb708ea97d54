package io.spindle.search;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** The real bge-small model, in this JVM. */
class OnnxEmbedderTest {
    static final Path CACHE = Path.of("target", "embedder-cache");
    private final OnnxEmbedder embedder = new OnnxEmbedder(CACHE);

    @Test
    void vectorsHaveTheModelsSizeAndUnitLength() {
        List<float[]> vectors = embedder.embedPassages(List.of("The cat sat on the mat.", "", "Quarterly revenue grew 12%."));

        assertThat(vectors).hasSize(3).allSatisfy(v -> {
            assertThat(v).hasSize(384);
            assertThat(dot(v, v)).isCloseTo(1.0, within(1e-4));
        });
        assertThat(embedder.modelName()).isEqualTo("bge-small-en-v1.5-q");
        assertThat(embedder.dimensions()).isEqualTo(384);
    }

    @Test
    void meaningDecidesClosenessNotWords() {
        List<float[]> v = embedder.embedPassages(List.of(
                "A kitten is sleeping on the sofa.",
                "A young cat naps on the couch.",
                "The central bank raised interest rates again."));

        assertThat(dot(v.get(0), v.get(1))).isGreaterThan(dot(v.get(0), v.get(2)) + 0.2);
    }

    @Test
    void queriesGetTheInstructionAndFindTheirPassage() {
        float[] query = embedder.embedQueries(List.of("how do I reset my password")).getFirst();
        float[] sameTextAsPassage = embedder.embedPassages(List.of("how do I reset my password")).getFirst();
        List<float[]> passages = embedder.embedPassages(List.of(
                "To change a forgotten password, open Settings, choose Security and follow the recovery link sent by e-mail.",
                "Our offices are closed on public holidays and reopen the next working day."));

        assertThat(dot(query, sameTextAsPassage)).isLessThan(0.99);
        assertThat(dot(query, passages.get(0))).isGreaterThan(dot(query, passages.get(1)) + 0.1);
    }

    /**
     * Not bit-identical: the model is quantized dynamically, so the scale of each layer's activations is computed over
     * the whole batch and a text's neighbours shift its vector slightly (measured: cosine 0.993 at worst).
     */
    @Test
    void aBatchGivesWhatEachTextGivesAloneInTheOrderGiven() {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < OnnxEmbedder.BATCH + 7; i++) {
            texts.add("Sentence number " + i + " " + "about rivers and mountains ".repeat(i % 9));
        }
        List<float[]> batched = embedder.embedPassages(texts);

        List<float[]> others = embedder.embedPassages(List.of("Lorem ipsum dolor sit amet", "Stock markets fell sharply"));
        for (int i : new int[] {0, 5, OnnxEmbedder.BATCH, texts.size() - 1}) {
            float[] alone = embedder.embedPassages(List.of(texts.get(i))).getFirst();
            assertThat(dot(batched.get(i), alone)).as("text %d", i).isGreaterThan(0.98);
            assertThat(dot(batched.get(i), others.get(i % 2))).as("text %d", i).isLessThan(0.9);
        }
    }

    @Test
    void textBeyond512TokensIsCutNotRefused() {
        String start = "Photosynthesis turns light into chemical energy in plants. ";
        String longText = start + "Unrelated filler about railway timetables and ticket prices. ".repeat(400);

        float[] cut = embedder.embedPassages(List.of(longText)).getFirst();
        float[] longer = embedder.embedPassages(List.of(longText + "More filler. ".repeat(400))).getFirst();

        assertThat(cut).hasSize(384);
        assertThat(dot(cut, longer)).as("only the first 512 tokens count").isCloseTo(1.0, within(1e-4));
    }

    @Test
    void manyThreadsShareOneModel() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Callable<float[]>> tasks = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                tasks.add(() -> new OnnxEmbedder(CACHE).embedPassages(List.of("the same sentence every time")).getFirst());
            }
            float[] reference = embedder.embedPassages(List.of("the same sentence every time")).getFirst();
            for (Future<float[]> f : pool.invokeAll(tasks)) {
                assertThat(dot(f.get(), reference)).isCloseTo(1.0, within(1e-5));
            }
        } finally {
            pool.shutdown();
        }
    }

    static double dot(float[] a, float[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += a[i] * b[i];
        }
        return sum;
    }
}
