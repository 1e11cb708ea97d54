package io.spindle.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A fake OpenAI-compatible embeddings endpoint ({@code POST /v1/embeddings}) on 127.0.0.1, for tests that need a file's
 * ingestion to stay in progress for exactly as long as they say: while {@link #hold held}, a request with a text
 * containing the held word waits (its file stays {@code in_progress}) until {@link #release}; others, such as the
 * queries of a search, are answered. Vectors are word counts hashed into {@value #DIMENSIONS}
 * dimensions, so a query shares direction with the passages that share its words. Point {@code SPINDLE_EMBEDDING_URL}
 * at {@link #baseUrl} with {@link #settings()}.
 */
public final class FakeEmbeddings implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final int DIMENSIONS = 64;
    /** Longer than any test holds a request; shorter than the embedder's own time-out (60 s). */
    private static final Duration LONGEST_HOLD = Duration.ofSeconds(45);

    private final HttpServer server;
    private final ExecutorService executor;
    private final Object gate = new Object();
    private String heldWord;

    private FakeEmbeddings(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /** Starts the fake on a free port; each request is answered on its own virtual thread. */
    public static FakeEmbeddings start() {
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
            FakeEmbeddings fake = new FakeEmbeddings(server, executor);
            server.createContext("/v1/embeddings", fake::answer);
            server.setExecutor(executor);
            server.start();
            return fake;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The settings that make Spindle embed with this fake. */
    public Map<String, String> settings() {
        Map<String, String> env = new HashMap<>();
        env.put("SPINDLE_EMBEDDING_URL", "http://127.0.0.1:" + server.getAddress().getPort() + "/v1");
        env.put("SPINDLE_EMBEDDING_MODEL", "fake-hashed-words");
        env.put("SPINDLE_EMBEDDING_DIMENSIONS", Integer.toString(DIMENSIONS));
        return env;
    }

    /** From now on requests with a text containing {@code word} wait (at most {@link #LONGEST_HOLD}) until {@link #release}. */
    public void hold(String word) {
        synchronized (gate) {
            heldWord = word;
        }
    }

    /** Requests waiting, and those to come, are answered at once. */
    public void release() {
        synchronized (gate) {
            heldWord = null;
            gate.notifyAll();
        }
    }

    private void answer(HttpExchange exchange) throws IOException {
        try (exchange) {
            JsonNode body = JSON.readTree(exchange.getRequestBody());
            awaitRelease(body.path("input").toString());
            ObjectNode answer = JSON.createObjectNode().put("object", "list").put("model", body.path("model").asText());
            ArrayNode data = answer.putArray("data");
            JsonNode input = body.path("input");
            for (int i = 0; i < input.size(); i++) {
                ArrayNode vector = data.addObject().put("object", "embedding").put("index", i).putArray("embedding");
                for (float x : vector(input.get(i).asText())) {
                    vector.add(x);
                }
            }
            byte[] bytes = JSON.writeValueAsBytes(answer);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, bytes.length);
            exchange.getResponseBody().write(bytes);
        } catch (IOException clientGone) {
            // a server killed while its request was held
        }
    }

    private void awaitRelease(String input) {
        long deadline = System.nanoTime() + LONGEST_HOLD.toNanos();
        synchronized (gate) {
            while (heldWord != null && input.contains(heldWord) && System.nanoTime() < deadline) {
                try {
                    gate.wait(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** Word counts hashed into the dimensions, normalized; never all zero. */
    static float[] vector(String text) {
        float[] v = new float[DIMENSIONS];
        for (String word : text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")) {
            if (!word.isEmpty()) {
                v[Math.floorMod(word.hashCode(), DIMENSIONS)] += 1;
            }
        }
        v[0] += 0.01f;
        double norm = 0;
        for (float x : v) {
            norm += x * x;
        }
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (v[i] / Math.sqrt(norm));
        }
        return v;
    }

    @Override
    public void close() {
        release();
        server.stop(0);
        executor.shutdownNow();
    }
}
