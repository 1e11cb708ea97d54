package io.spindle.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.spindle.testing.Api;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.RunEndToEnd;
import io.spindle.testing.SseEvents;
import io.spindle.testing.StreamReplay;
import io.spindle.testing.TestServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A PostgreSQL node with a pool far too small for its load: API requests that find no connection in time answer 503
 * with {@code Retry-After} (clients retry), but no run fails for it and no stream loses a delta. The runs' own database
 * work, and the sending of their deltas, waits for a connection instead, and the node claims no new run while callers
 * wait for one.
 */
class PoolBackpressureTest extends RunEndToEnd {
    private static final int RUNS = 24;
    private static final String REPLY = "A reply in several pieces, each one a notification to every node.";

    @Override
    protected TestServer.Storage storage() {
        return TestServer.Storage.POSTGRESQL;
    }

    @Override
    protected Map<String, String> env() {
        // one connection listens for notifications: one is left for everything else, and requests wait 250 ms for it
        return Map.of("SPINDLE_DATABASE_POOL_SIZE", "2", "SPINDLE_DATABASE_WAIT_MS", "250", "SPINDLE_UPSTREAM_RETRIES", "0");
    }

    @Test
    void runsSlowDownButNoneFailsWhenThePoolIsExhausted() throws Exception {
        script(body -> Reply.text(REPLY).withPieceSize(4));
        String assistant = api().post("/v1/assistants", Map.of("model", "gpt-4o")).ok().path("id").asText();
        AtomicInteger busy = new AtomicInteger();

        List<String> runPaths = new ArrayList<>();
        try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<String>> started = new ArrayList<>();
            for (int i = 0; i < RUNS; i++) {
                boolean streamed = i % 2 == 0;
                String body = "{\"assistant_id\": \"" + assistant + "\", \"stream\": " + streamed + ", \"thread\": "
                        + "{\"messages\": [{\"role\": \"user\", \"content\": \"Hello " + i + "\"}]}}";
                started.add(clients.submit(() -> {
                    Api.Response response = retrying(busy, () -> streamed ? api().postStreaming("/v1/threads/runs", body)
                            : api().post("/v1/threads/runs", body));
                    JsonNode run = streamed ? streamedRun(response) : response.ok();
                    return "/v1/threads/" + run.path("thread_id").asText() + "/runs/" + run.path("id").asText();
                }));
            }
            for (Future<String> f : started) {
                runPaths.add(f.get());
            }
        }

        for (String path : runPaths) {
            JsonNode run = awaitEnd(path, busy);
            assertThat(run.path("status").asText()).as("run %s", run).isEqualTo("completed");
        }
        System.out.printf("PoolBackpressureTest: %d runs completed; %d requests answered 503 and were retried%n", RUNS, busy.get());
    }

    /** The run a whole stream ended with; its deltas must add up to its message exactly. */
    private static JsonNode streamedRun(Api.Response response) {
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        List<SseEvents.Event> events = SseEvents.parse(response.body());
        StreamReplay.Result replay = StreamReplay.replay(events);
        assertThat(replay.text(replay.onlyMessageId())).isEqualTo(REPLY);
        return replay.run();
    }

    /** A request again after each 503, as the SDKs do (they honour Retry-After), which must be there. */
    private static Api.Response retrying(AtomicInteger busy, java.util.function.Supplier<Api.Response> request)
            throws InterruptedException {
        for (int attempt = 0; ; attempt++) {
            Api.Response response = request.get();
            if (response.status() != 503 || attempt == 200) {
                return response;
            }
            assertThat(response.header("Retry-After")).isNotNull();
            busy.incrementAndGet();
            Thread.sleep(50);
        }
    }

    private JsonNode awaitEnd(String path, AtomicInteger busy) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (true) {
            JsonNode run = retrying(busy, () -> api().get(path)).ok();
            if (!List.of("queued", "in_progress").contains(run.path("status").asText()) || System.nanoTime() > deadline) {
                return run;
            }
            Thread.sleep(100);
        }
    }
}
