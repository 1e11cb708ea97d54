package io.spindle.search;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindle.api.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;

/**
 * Any OpenAI-compatible {@code POST /embeddings}: texts go in batches of 64, the vectors come back in input order
 * whatever order the server lists them in. Failures that retrying can cure (429, 5xx, a broken connection) are
 * retried twice with backoff. Queries and passages are embedded alike: OpenAI's models take no instruction.
 */
public final class OpenAiEmbedder implements Embedder {

    /**
     * Where and what to call. {@code dimensions} is what the vectors must have; {@code requestDimensions} sends it
     * as the {@code dimensions} parameter (text-embedding-3 models shorten their vectors; other models and servers
     * may refuse the parameter, so then the model's own size must be given).
     */
    public record Config(URI baseUrl, Optional<String> apiKey, String model, int dimensions, boolean requestDimensions) {}

    static final int BATCH = 64;
    private static final int MAX_RETRIES = 2;
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private final Config config;
    private final URI endpoint;
    private final Duration retryBase;
    private final HttpClient http;

    public OpenAiEmbedder(Config config) {
        this(config, Duration.ofMillis(500));
    }

    OpenAiEmbedder(Config config, Duration retryBase) {
        this.config = config;
        this.retryBase = retryBase;
        String base = config.baseUrl().toString();
        this.endpoint = URI.create((base.endsWith("/") ? base : base + "/") + "embeddings");
        this.http = HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(10))
                .executor(Executors.newVirtualThreadPerTaskExecutor())
                .build();
    }

    @Override
    public String modelName() {
        return config.model() + (config.requestDimensions() ? "@" + config.dimensions() : "");
    }

    @Override
    public int dimensions() {
        return config.dimensions();
    }

    @Override
    public List<float[]> embedPassages(List<String> texts) {
        List<float[]> vectors = new ArrayList<>(texts.size());
        for (int from = 0; from < texts.size(); from += BATCH) {
            vectors.addAll(call(texts.subList(from, Math.min(from + BATCH, texts.size()))));
        }
        return vectors;
    }

    @Override
    public List<float[]> embedQueries(List<String> queries) {
        return embedPassages(queries);
    }

    private List<float[]> call(List<String> texts) {
        ObjectNode body = Json.object().put("model", config.model()).put("encoding_format", "float");
        texts.forEach(body.putArray("input")::add);
        if (config.requestDimensions()) {
            body.put("dimensions", config.dimensions());
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(endpoint)
                .timeout(TIMEOUT)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(Json.writeBytes(body)));
        config.apiKey().ifPresent(key -> request.header("Authorization", "Bearer " + key));
        for (int attempt = 0; ; attempt++) {
            String failure;
            try {
                HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() < 300) {
                    return vectors(response.body(), texts.size());
                }
                failure = "the embeddings endpoint answered " + response.statusCode() + errorMessage(response.body());
                boolean retryable = response.statusCode() == 429 || response.statusCode() >= 500;
                if (!retryable) {
                    throw new EmbeddingException(failure);
                }
            } catch (IOException e) {
                failure = "could not reach the embeddings endpoint " + endpoint + ": " + e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new EmbeddingException("interrupted while embedding", e);
            }
            if (attempt == MAX_RETRIES) {
                throw new EmbeddingException(failure);
            }
            sleep(retryBase.multipliedBy(1L << attempt));
        }
    }

    private List<float[]> vectors(String json, int expected) {
        JsonNode data;
        try {
            data = Json.read(json, JsonNode.class).path("data");
        } catch (UncheckedIOException e) {
            throw new EmbeddingException("the embeddings endpoint answered with something other than JSON", e);
        }
        if (!data.isArray() || data.size() != expected) {
            throw new EmbeddingException("the embeddings endpoint returned " + data.size() + " embeddings for " + expected + " texts");
        }
        float[][] vectors = new float[expected][];
        for (JsonNode item : data) {
            int index = item.path("index").asInt(-1);
            JsonNode embedding = item.path("embedding");
            if (index < 0 || index >= expected || vectors[index] != null || !embedding.isArray()) {
                throw new EmbeddingException("the embeddings endpoint returned a malformed embedding (index " + item.path("index") + ")");
            }
            if (embedding.size() != config.dimensions()) {
                throw new EmbeddingException("the embedding model " + config.model() + " returned vectors of " + embedding.size()
                        + " dimensions, " + config.dimensions() + " were expected");
            }
            float[] vector = new float[embedding.size()];
            for (int i = 0; i < vector.length; i++) {
                vector[i] = embedding.get(i).floatValue();
            }
            vectors[index] = vector;
        }
        return List.of(vectors);
    }

    private static String errorMessage(String body) {
        try {
            String message = Json.read(body, JsonNode.class).path("error").path("message").asText("");
            return message.isEmpty() ? "" : ": " + message;
        } catch (RuntimeException notJson) {
            return "";
        }
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EmbeddingException("interrupted while embedding", e);
        }
    }
}
