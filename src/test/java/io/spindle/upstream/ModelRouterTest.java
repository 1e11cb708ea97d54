package io.spindle.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindle.api.ApiException;
import io.spindle.api.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which client a call goes to, what it is sent, and what a reload keeps, closes and refuses. */
class ModelRouterTest {
    @TempDir
    Path dir;

    /** The clients the router made, by route name (the latest); each records the models it was sent and whether it was closed. */
    private final Map<String, FakeClient> made = new ConcurrentHashMap<>();
    /** Every client made. */
    private final List<FakeClient> all = new CopyOnWriteArrayList<>();
    /** The client of each call, in call order. */
    private final List<FakeClient> calls = new CopyOnWriteArrayList<>();

    @Test
    void aCallGoesToItsRoutesClientWithTheUpstreamModel() throws Exception {
        Path file = write("""
                {"routes": [
                  {"name": "a", "models": ["gpt-4o"], "base_url": "http://a.example/v1"},
                  {"name": "b", "models": ["llama*", "big"], "base_url": "http://b.example/v1", "upstream_model": "llama3.1:70b"}
                ]}
                """);
        try (ModelRouter router = router(file)) {
            router.complete(body("gpt-4o"), null, new Cancellation());
            router.complete(body("big"), null, new Cancellation());

            assertThat(made.get("a").models).containsExactly("gpt-4o");
            assertThat(made.get("b").models).as("the alias is what the endpoint sees").containsExactly("llama3.1:70b");
            assertThat(router.route("llama3")).map(ModelRoute::name).contains("b");
        }
    }

    @Test
    void aModelWithoutARouteIsRefusedAtCreationAndFailsACallAsInvalidPrompt() throws Exception {
        Path file = write("""
                {"routes": [{"name": "a", "models": ["gpt-4o"], "base_url": "http://a.example/v1"}]}
                """);
        try (ModelRouter router = router(file)) {
            assertThatThrownBy(() -> router.require("mistral")).isInstanceOfSatisfying(ApiException.class, e -> {
                assertThat(e.getMessage()).isEqualTo("The requested model 'mistral' does not exist.");
                assertThat(e.param()).isEqualTo("model");
                assertThat(e.kind()).isEqualTo(ApiException.Kind.INVALID_REQUEST);
            });
            assertThatThrownBy(() -> router.complete(body("mistral"), null, new Cancellation()))
                    .isInstanceOfSatisfying(UpstreamException.class, e -> {
                        assertThat(e.kind()).isEqualTo(UpstreamException.Kind.INVALID_PROMPT);
                        assertThat(e.getMessage()).contains("no route for model 'mistral'");
                    });
        }
    }

    @Test
    void aReloadKeepsUnchangedClientsAndClosesAChangedOneOnlyAfterItsCallEnds() throws Exception {
        Path file = write("""
                {"routes": [
                  {"name": "a", "models": ["gpt-4o"], "base_url": "http://a.example/v1"},
                  {"name": "b", "models": ["llama3"], "base_url": "http://b.example/v1"}
                ]}
                """);
        try (ModelRouter router = router(file)) {
            FakeClient a = client(router, "gpt-4o");
            FakeClient b = client(router, "llama3");
            b.entered = new CountDownLatch(1);
            b.hold = new CountDownLatch(1);
            CompletableFuture<ChatResult> inFlight = CompletableFuture.supplyAsync(() -> {
                try {
                    return router.complete(body("llama3"), null, new Cancellation());
                } catch (UpstreamException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(b.entered.await(5, TimeUnit.SECONDS)).isTrue();

            write("""
                    {"routes": [
                      {"name": "a", "models": ["gpt-4o"], "base_url": "http://a.example/v1"},
                      {"name": "b", "models": ["llama3"], "base_url": "http://b2.example/v1"}
                    ]}
                    """);
            router.reload();

            assertThat(client(router, "gpt-4o")).as("route a did not change: same client").isSameAs(a);
            FakeClient b2 = client(router, "llama3");
            assertThat(b2).isNotSameAs(b);
            assertThat(b.closed).as("the old client of b still has a call").isFalse();
            b.hold.countDown();
            inFlight.get(5, TimeUnit.SECONDS);
            assertThat(b.closed).as("closed once its last call ended").isTrue();
            assertThat(b2.closed).isFalse();
            assertThat(a.closed).isFalse();
        }
        assertThat(all).as("closing the router closes every client").allMatch(c -> c.closed);
    }

    @Test
    void aBadFileKeepsTheRoutesInUse() throws Exception {
        Path file = write("""
                {"routes": [{"name": "a", "models": ["gpt-4o"], "base_url": "http://a.example/v1"}]}
                """);
        try (ModelRouter router = router(file)) {
            FakeClient a = client(router, "gpt-4o");
            write("{\"routes\": [{\"name\": \"a\", \"models\": [\"gpt-4o\"], \"kind\": \"bedrock\"}]}");
            assertThatThrownBy(router::reload).isInstanceOf(ModelRoutes.Invalid.class).hasMessageContaining("route 'a': kind");
            assertThat(client(router, "gpt-4o")).isSameAs(a);
            assertThat(a.closed).isFalse();
        }
    }

    @Test
    void aRemovedRoutesModelsAreRefusedAfterTheReload() throws Exception {
        Path file = write("""
                {"routes": [
                  {"name": "a", "models": ["gpt-4o"], "base_url": "http://a.example/v1"},
                  {"name": "b", "models": ["llama3"], "base_url": "http://b.example/v1"}
                ]}
                """);
        try (ModelRouter router = router(file)) {
            FakeClient b = client(router, "llama3");
            write("""
                    {"routes": [{"name": "a", "models": ["gpt-4o"], "base_url": "http://a.example/v1"}]}
                    """);
            router.reload();
            assertThat(b.closed).as("idle: closed at once").isTrue();
            assertThat(router.route("llama3")).isEmpty();
            assertThat(router.listed()).containsOnlyKeys("gpt-4o");
        }
    }

    private ModelRouter router(Path file) throws ModelRoutes.Invalid {
        ModelRoutes.Defaults defaults = new ModelRoutes.Defaults(Duration.ofSeconds(10), 0, 128_000);
        ModelRoutes.Source source = new ModelRoutes.Source(Optional.of(file), defaults, name -> null, Optional.empty());
        return new ModelRouter(source, route -> {
            FakeClient client = new FakeClient(calls);
            made.put(route.name(), client);
            all.add(client);
            return client;
        }, 1_700_000_000L);
    }

    /** The client {@code model}'s calls go to now: found by making a call (while no other call starts). */
    private FakeClient client(ModelRouter router, String model) throws UpstreamException {
        router.complete(body(model), null, new Cancellation());
        return calls.getLast();
    }

    private Path write(String text) throws IOException {
        return Files.writeString(dir.resolve("models.json"), text);
    }

    private static ObjectNode body(String model) {
        ObjectNode body = Json.object();
        body.put("model", model);
        return body;
    }

    private static final class FakeClient implements ChatModel, AutoCloseable {
        final List<String> models = new CopyOnWriteArrayList<>();
        volatile CountDownLatch entered = new CountDownLatch(1);
        private final List<FakeClient> calls;
        volatile CountDownLatch hold;
        volatile boolean closed;

        FakeClient(List<FakeClient> calls) {
            this.calls = calls;
        }

        @Override
        public ChatResult complete(ObjectNode body, ChatListener listener, Cancellation cancellation) {
            models.add(body.path("model").asText());
            calls.add(this);
            entered.countDown();
            CountDownLatch h = hold;
            if (h != null) {
                try {
                    h.await(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return null;
        }

        @Override
        public void close() {
            closed = true;
        }
    }
}
