package io.spindle.search;

import io.spindle.Settings;
import java.nio.file.Path;

/** Picks this node's {@link Embedder} from the settings, once, at start-up. */
public final class Embedders {
    /** What an endpoint's vectors are taken to have when SPINDLE_EMBEDDING_DIMENSIONS is unset (text-embedding-3-small, ada-002). */
    static final int DEFAULT_DIMENSIONS = 1536;

    private Embedders() {}

    /**
     * The OpenAI-compatible endpoint when SPINDLE_EMBEDDING_URL is set, else bge-small in this process, whose native
     * tokenizer library is unpacked under {@code dataDir}.
     */
    public static Embedder from(Settings.Embedding settings, Path dataDir) {
        if (settings.url().isEmpty()) {
            return new OnnxEmbedder(dataDir.resolve("embedder"));
        }
        // Settings checked that a model comes with the URL.
        String model = settings.model().orElseThrow();
        return new OpenAiEmbedder(new OpenAiEmbedder.Config(settings.url().get(), settings.apiKey(), model,
                settings.dimensions().orElse(DEFAULT_DIMENSIONS), settings.dimensions().isPresent()));
    }
}
