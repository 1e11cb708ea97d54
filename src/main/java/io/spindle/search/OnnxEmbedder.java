package io.spindle.search;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.IntStream;

/**
 * bge-small-en-v1.5 (quantized, 384 dimensions) in this process, with ONNX Runtime and the model's Hugging Face
 * tokenizer; the weights come from the langchain4j artifact on the class path, so no download ever happens. Texts
 * are cut at the model's 512 tokens and embedded in small batches, shortest first so a batch pads little. The model
 * is loaded once per process, on the first embedding, and shared by all threads.
 */
public final class OnnxEmbedder implements Embedder {
    public static final String MODEL_NAME = "bge-small-en-v1.5-q";
    /** bge embeds a query with this instruction in front, a passage without. */
    static final String QUERY_INSTRUCTION = "Represent this sentence for searching relevant passages: ";
    private static final String WEIGHTS = "bge-small-en-v1.5-q.onnx";
    private static final String TOKENIZER = "bge-small-en-v1.5-q-tokenizer.json";
    private static final int DIMENSIONS = 384;
    private static final int MAX_TOKENS = 512;
    /**
     * Measured on 2 cores: 4 to 16 texts per batch embed equally fast (about 135 paragraphs or 15 chunks of 512
     * tokens a second), 32 slower; ONNX Runtime keeps memory for the largest batch it ran, and the process grew to
     * 0.55 GB at 4, 0.79 GB at 8, 1.3 GB at 16 and 2.3 GB at 32.
     */
    static final int BATCH = 4;

    /**
     * DJL looks for a GPU when it loads the tokenizer library and warns when it finds CUDA but no usable driver;
     * Spindle never uses a GPU. Held here because java.util.logging keeps loggers only weakly.
     */
    private static final Logger CUDA_PROBE = Logger.getLogger("ai.djl.util.cuda.CudaUtils");
    private static final Object LOADING = new Object();
    private static volatile Model shared;

    private final Path cacheDir;

    /** {@code cacheDir} receives the tokenizer's native library (DJL would otherwise write under the home directory). */
    public OnnxEmbedder(Path cacheDir) {
        this.cacheDir = cacheDir;
    }

    @Override
    public String modelName() {
        return MODEL_NAME;
    }

    @Override
    public int dimensions() {
        return DIMENSIONS;
    }

    @Override
    public List<float[]> embedPassages(List<String> texts) {
        return embed(texts);
    }

    @Override
    public List<float[]> embedQueries(List<String> queries) {
        return embed(queries.stream().map(q -> QUERY_INSTRUCTION + q).toList());
    }

    /** Loads the model now rather than on the first embedding; returns how long loading took, 0 when it was loaded. */
    public long load() {
        long start = System.nanoTime();
        boolean loaded = shared != null;
        model();
        return loaded ? 0 : (System.nanoTime() - start) / 1_000_000;
    }

    private List<float[]> embed(List<String> texts) {
        Model model = model();
        float[][] vectors = new float[texts.size()][];
        List<Integer> order = IntStream.range(0, texts.size()).boxed()
                .sorted(Comparator.comparingInt(i -> texts.get(i).length()))
                .toList();
        for (int from = 0; from < order.size(); from += BATCH) {
            List<Integer> batch = order.subList(from, Math.min(from + BATCH, order.size()));
            float[][] embedded = model.embed(batch.stream().map(texts::get).toList());
            for (int i = 0; i < batch.size(); i++) {
                vectors[batch.get(i)] = embedded[i];
            }
        }
        return List.of(vectors);
    }

    private Model model() {
        Model model = shared;
        if (model == null) {
            synchronized (LOADING) {
                model = shared;
                if (model == null) {
                    shared = model = Model.load(cacheDir);
                }
            }
        }
        return model;
    }

    /** The loaded network and tokenizer; both are safe to use from many threads at once. */
    private record Model(OrtEnvironment environment, OrtSession session, HuggingFaceTokenizer tokenizer, boolean typeIds) {

        static Model load(Path cacheDir) {
            if (System.getProperty("DJL_CACHE_DIR") == null && System.getenv("DJL_CACHE_DIR") == null) {
                System.setProperty("DJL_CACHE_DIR", cacheDir.toAbsolutePath().toString());
            }
            System.setProperty("ai.djl.offline", "true");
            CUDA_PROBE.setLevel(Level.SEVERE);
            try (InputStream weights = resource(WEIGHTS); InputStream tokenizerJson = resource(TOKENIZER)) {
                HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.newInstance(tokenizerJson, Map.of(
                        "truncation", "true", "maxLength", Integer.toString(MAX_TOKENS), "padding", "true"));
                OrtEnvironment environment = OrtEnvironment.getEnvironment();
                OrtSession session = environment.createSession(weights.readAllBytes(), sessionOptions());
                return new Model(environment, session, tokenizer, session.getInputNames().contains("token_type_ids"));
            } catch (IOException | OrtException | RuntimeException e) {
                throw new EmbeddingException("could not load the embedding model " + MODEL_NAME + ": " + e.getMessage(), e);
            }
        }

        /**
         * ONNX Runtime's worker threads spin between the model's operators by default, waiting for the next one; on
         * 2 cores that doubled the CPU an embedding took (70 instead of 36-39 ms of CPU per 100-token chunk), CPU that
         * HTTP, the database and the search index needed. They sleep instead.
         */
        private static OrtSession.SessionOptions sessionOptions() throws OrtException {
            OrtSession.SessionOptions options = new OrtSession.SessionOptions();
            options.addConfigEntry("session.intra_op.allow_spinning", "0");
            return options;
        }

        private static InputStream resource(String name) throws IOException {
            InputStream in = OnnxEmbedder.class.getClassLoader().getResourceAsStream(name);
            if (in == null) {
                throw new IOException(name + " is not on the class path");
            }
            return in;
        }

        /** One batch through the network: the [CLS] token's last hidden state, scaled to length 1. */
        float[][] embed(List<String> texts) {
            Encoding[] encodings = tokenizer.batchEncode(texts);
            int rows = encodings.length;
            int columns = encodings[0].getIds().length;
            long[] shape = {rows, columns};
            Map<String, OnnxTensor> inputs = new HashMap<>();
            try {
                inputs.put("input_ids", tensor(encodings, Encoding::getIds, shape));
                inputs.put("attention_mask", tensor(encodings, Encoding::getAttentionMask, shape));
                if (typeIds) {
                    inputs.put("token_type_ids", tensor(encodings, Encoding::getTypeIds, shape));
                }
                try (OrtSession.Result result = session.run(inputs)) {
                    FloatBuffer hidden = ((OnnxTensor) result.get(0)).getFloatBuffer();
                    float[][] vectors = new float[rows][DIMENSIONS];
                    for (int row = 0; row < rows; row++) {
                        hidden.get(row * columns * DIMENSIONS, vectors[row]);
                        normalize(vectors[row]);
                    }
                    return vectors;
                }
            } catch (OrtException e) {
                throw new EmbeddingException("the embedding model failed: " + e.getMessage(), e);
            } finally {
                inputs.values().forEach(OnnxTensor::close);
            }
        }

        private OnnxTensor tensor(Encoding[] encodings, java.util.function.Function<Encoding, long[]> part, long[] shape)
                throws OrtException {
            LongBuffer buffer = LongBuffer.allocate((int) (shape[0] * shape[1]));
            for (Encoding encoding : encodings) {
                buffer.put(part.apply(encoding));
            }
            return OnnxTensor.createTensor(environment, buffer.flip(), shape);
        }

        private static void normalize(float[] vector) {
            double sum = 0;
            for (float v : vector) {
                sum += v * v;
            }
            float norm = (float) Math.sqrt(sum);
            if (norm > 0) {
                for (int i = 0; i < vector.length; i++) {
                    vector[i] /= norm;
                }
            }
        }
    }
}
