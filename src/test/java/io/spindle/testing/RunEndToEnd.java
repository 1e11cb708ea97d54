package io.spindle.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.core.RequestOptions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;

/**
 * Base of the run-engine test classes: a Spindle server whose upstream is a {@link FakeUpstream},
 * both shared by the tests of a class (started on first use, stopped after the class). SQLite
 * unless a subclass overrides {@link #storage()}; a class that runs on both storages declares
 * {@code @ParameterizedClass @EnumSource(TestServer.Storage.class)} with a {@code @Parameter} field
 * and returns it from {@code storage()}: the server is restarted when the storage changes.
 *
 * <p>Tests answer the upstream's requests with {@link #script}, never with
 * {@link FakeUpstream#enqueue}: each test replaces the responder, so a test that fails half-way
 * cannot leave replies behind for the next. {@link #upstreamRequests()} shows only the requests
 * made since the test began.
 */
public abstract class RunEndToEnd {
    /** The key Spindle must send to its upstream. */
    protected static final String UPSTREAM_KEY = "sk-upstream-test-key";
    /** For SDK calls whose answer may be an empty list (see {@link EndToEnd#MAY_BE_EMPTY}). */
    protected static final RequestOptions MAY_BE_EMPTY = RequestOptions.builder().responseValidation(false).build();

    private static FakeUpstream fake;
    private static TestServer server;
    private static TestServer.Storage serverStorage;
    private static OpenAIClient client;

    private int firstRequest;

    /** The storage of this class's server. */
    protected TestServer.Storage storage() {
        return TestServer.Storage.SQLITE;
    }

    /** Settings added to (or overriding) the defaults of {@link #baseEnv}. */
    protected Map<String, String> env() {
        return Map.of();
    }

    /** Short timings so that tests run fast; the upstream key set so that it can be checked. */
    private Map<String, String> baseEnv() {
        Map<String, String> env = new HashMap<>();
        env.put("SPINDLE_UPSTREAM_URL", fake.baseUrl());
        env.put("SPINDLE_UPSTREAM_API_KEY", UPSTREAM_KEY);
        env.put("SPINDLE_POLL_AFTER_MS", "50");
        env.put("SPINDLE_UPSTREAM_RETRIES", "2");
        env.put("SPINDLE_UPSTREAM_RETRY_BASE_MS", "10");
        env.put("SPINDLE_UPSTREAM_TIMEOUT_SECONDS", "20");
        env.putAll(env());
        return env;
    }

    @BeforeEach
    final void startServerAndResetUpstream() {
        if (server != null && serverStorage != storage()) {
            stopServer();
        }
        if (server == null) {
            fake = FakeUpstream.start();
            serverStorage = storage();
            server = TestServer.start(serverStorage, baseEnv());
            client = server.sdk();
        }
        fake.respondWith(body -> FakeUpstream.Reply.text("ok"));
        firstRequest = fake.requestCount();
    }

    @AfterAll
    static void stopServer() {
        if (client != null) {
            client.close();
            client = null;
        }
        if (server != null) {
            server.close();
            server = null;
        }
        if (fake != null) {
            fake.close();
            fake = null;
        }
    }

    protected final OpenAIClient sdk() {
        return client;
    }

    protected final TestServer server() {
        return server;
    }

    protected final Api api() {
        return server.api();
    }

    protected final FakeUpstream fake() {
        return fake;
    }

    /**
     * Answers the upstream's next requests with these replies, in order; once they are used up,
     * with {@code fallback}.
     */
    protected final void script(Function<JsonNode, FakeUpstream.Reply> fallback, FakeUpstream.Reply... replies) {
        ConcurrentLinkedQueue<FakeUpstream.Reply> queue = new ConcurrentLinkedQueue<>(List.of(replies));
        fake.respondWith(body -> {
            FakeUpstream.Reply next = queue.poll();
            return next != null ? next : fallback.apply(body);
        });
    }

    /** As {@link #script(Function, FakeUpstream.Reply...)}, then {@code "ok"}. */
    protected final void script(FakeUpstream.Reply... replies) {
        script(body -> FakeUpstream.Reply.text("ok"), replies);
    }

    /** The requests the upstream received since this test began, in arrival order. */
    protected final List<FakeUpstream.Received> upstreamReceived() {
        List<FakeUpstream.Received> all = fake.received();
        return all.subList(firstRequest, all.size());
    }

    /** From now on, {@link #upstreamRequests()} shows only requests that arrive later. */
    protected final void forgetUpstreamRequests() {
        firstRequest = fake.requestCount();
    }

    /** Waits until the upstream received {@code n} requests since this test began. */
    protected final void awaitUpstreamRequests(int n) throws InterruptedException {
        if (!fake.awaitRequests(firstRequest + n, Duration.ofSeconds(10))) {
            throw new AssertionError("the upstream received " + upstreamRequests().size() + " requests, not " + n);
        }
    }

    /** The bodies of {@link #upstreamReceived()}. */
    protected final List<JsonNode> upstreamRequests() {
        return upstreamReceived().stream().map(FakeUpstream.Received::body).toList();
    }

    /** The body of the only request the upstream received since this test began. */
    protected final JsonNode onlyUpstreamRequest() {
        List<JsonNode> requests = upstreamRequests();
        if (requests.size() != 1) {
            throw new AssertionError("expected exactly one upstream request, got " + requests.size() + ": " + requests);
        }
        return requests.getFirst();
    }
}
