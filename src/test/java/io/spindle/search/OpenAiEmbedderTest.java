package io.spindle.search;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.spindle.api.Json;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link OpenAiEmbedder} against a small embeddings server in the test, over real HTTP. */
class OpenAiEmbedderTest {
    private static final int DIMS = 4;

    /** What the server answers next: a status and body, or {@code null} for a well-formed answer. */
    private final ConcurrentLinkedQueue<String[]> script = new ConcurrentLinkedQueue<>();
    private final List<JsonNode> bodies = Collections.synchronizedList(new ArrayList<>());
    private final List<String> authorizations = Collections.synchronizedList(new ArrayList<>());
    private final HttpServer server;

    OpenAiEmbedderTest() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/embeddings", this::answer);
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    /** Each text's vector is [its length, its index in the request, 0, 1]; the data are listed in reverse order. */
    private void answer(HttpExchange exchange) throws IOException {
        JsonNode body = Json.MAPPER.readTree(exchange.getRequestBody());
        bodies.add(body);
        authorizations.add(exchange.getRequestHeaders().getFirst("Authorization"));
        String[] scripted = script.poll();
        int status = 200;
        String out;
        if (scripted != null) {
            status = Integer.parseInt(scripted[0]);
            out = scripted[1];
        } else {
            ObjectNode answer = Json.object().put("object", "list");
            ArrayNode data = answer.putArray("data");
            for (int i = body.get("input").size() - 1; i >= 0; i--) {
                ArrayNode vector = data.addObject().put("object", "embedding").put("index", i).putArray("embedding");
                vector.add(body.get("input").get(i).asText().length()).add(i).add(0).add(1);
            }
            answer.put("model", body.get("model").asText());
            out = answer.toString();
        }
        byte[] bytes = out.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }

    private OpenAiEmbedder embedder(boolean requestDimensions) {
        URI base = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/v1");
        return new OpenAiEmbedder(new OpenAiEmbedder.Config(base, Optional.of("sk-test"), "text-embedding-3-small", DIMS,
                requestDimensions), Duration.ofMillis(10));
    }

    @Test
    void textsGoInBatchesAndVectorsComeBackInInputOrder() {
        List<String> texts = IntStream.range(0, OpenAiEmbedder.BATCH + 6).mapToObj("x"::repeat).toList();

        List<float[]> vectors = embedder(false).embedPassages(texts);

        assertThat(vectors).hasSize(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            assertThat(vectors.get(i)[0]).as("vector %d", i).isEqualTo(i);
        }
        assertThat(bodies).hasSize(2);
        assertThat(bodies.get(0).get("input")).hasSize(OpenAiEmbedder.BATCH);
        assertThat(bodies.get(1).get("input")).hasSize(6);
        assertThat(bodies.get(0).get("model").asText()).isEqualTo("text-embedding-3-small");
        assertThat(bodies.get(0).get("encoding_format").asText()).isEqualTo("float");
        assertThat(bodies.get(0).has("dimensions")).isFalse();
        assertThat(authorizations).containsOnly("Bearer sk-test");
    }

    @Test
    void dimensionsAreSentWhenAskedAndNameTheModel() {
        OpenAiEmbedder embedder = embedder(true);

        embedder.embedQueries(List.of("what is the refund policy"));

        assertThat(bodies.getFirst().get("dimensions").asInt()).isEqualTo(DIMS);
        assertThat(bodies.getFirst().get("input").get(0).asText()).as("no instruction for OpenAI models")
                .isEqualTo("what is the refund policy");
        assertThat(embedder.modelName()).isEqualTo("text-embedding-3-small@4");
        assertThat(embedder(false).modelName()).isEqualTo("text-embedding-3-small");
    }

    @Test
    void serverErrorsAndRateLimitsAreRetried() {
        script.add(new String[] {"500", "{\"error\":{\"message\":\"boom\"}}"});
        script.add(new String[] {"429", "{\"error\":{\"message\":\"slow down\"}}"});

        List<float[]> vectors = embedder(false).embedPassages(List.of("abc"));

        assertThat(vectors.getFirst()[0]).isEqualTo(3);
        assertThat(bodies).hasSize(3);
    }

    @Test
    void aRefusalIsNotRetriedAndCarriesTheServersMessage() {
        script.add(new String[] {"401", "{\"error\":{\"message\":\"Incorrect API key provided\"}}"});

        assertThatThrownBy(() -> embedder(false).embedPassages(List.of("abc")))
                .isInstanceOf(EmbeddingException.class)
                .hasMessage("the embeddings endpoint answered 401: Incorrect API key provided");
        assertThat(bodies).hasSize(1);
    }

    @Test
    void persistentFailureEndsAfterTheRetries() {
        for (int i = 0; i < 3; i++) {
            script.add(new String[] {"503", "overloaded"});
        }

        assertThatThrownBy(() -> embedder(false).embedPassages(List.of("abc")))
                .isInstanceOf(EmbeddingException.class)
                .hasMessage("the embeddings endpoint answered 503");
        assertThat(bodies).hasSize(3);
    }

    @Test
    void vectorsOfTheWrongSizeOrCountAreRefused() {
        script.add(new String[] {"200", "{\"data\":[{\"index\":0,\"embedding\":[1,2,3]}]}"});
        assertThatThrownBy(() -> embedder(false).embedPassages(List.of("abc")))
                .isInstanceOf(EmbeddingException.class)
                .hasMessageContaining("returned vectors of 3 dimensions, 4 were expected");

        script.add(new String[] {"200", "{\"data\":[]}"});
        assertThatThrownBy(() -> embedder(false).embedPassages(List.of("abc")))
                .isInstanceOf(EmbeddingException.class)
                .hasMessage("the embeddings endpoint returned 0 embeddings for 1 texts");

        script.add(new String[] {"200", "<html>proxy error</html>"});
        assertThatThrownBy(() -> embedder(false).embedPassages(List.of("abc")))
                .isInstanceOf(EmbeddingException.class)
                .hasMessage("the embeddings endpoint answered with something other than JSON");
    }

    @Test
    void anUnreachableEndpointFailsClearly() {
        server.stop(0);

        assertThatThrownBy(() -> embedder(false).embedPassages(List.of("abc")))
                .isInstanceOf(EmbeddingException.class)
                .hasMessageStartingWith("could not reach the embeddings endpoint");
    }
}
