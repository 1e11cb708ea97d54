package io.spindle.engine;

import static io.spindle.testing.SdkRuns.assistant;
import static io.spindle.testing.SdkRuns.createRun;
import static io.spindle.testing.SdkRuns.messagesOf;
import static io.spindle.testing.SdkRuns.pollFor;
import static io.spindle.testing.SdkRuns.steps;
import static io.spindle.testing.SdkRuns.threadMessages;
import static io.spindle.testing.SdkThreads.texts;
import static io.spindle.testing.SdkThreads.threadWith;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.models.beta.assistants.Assistant;
import com.openai.models.beta.threads.runs.Run;
import com.openai.models.beta.threads.runs.RunStatus;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.RunEndToEnd;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Many runs at once, each on its own thread, created by many clients in parallel: every run gets its own answer. */
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
class RunConcurrencySdkTest extends RunEndToEnd {
    private static final int RUNS = 50;

    /** Fifty pollers every 50 ms would mostly measure the test client's schema checks. */
    @Override
    protected Map<String, String> env() {
        return Map.of("SPINDLE_POLL_AFTER_MS", "250");
    }

    /** The answer to a request: its last message, echoed. */
    private static Reply echo(JsonNode request) {
        JsonNode messages = request.path("messages");
        String question = messages.get(messages.size() - 1).path("content").asText();
        return Reply.text("answer to " + question).withChunkDelay(Duration.ofMillis(15));
    }

    @Test
    void fiftyConcurrentRunsEachGetTheirOwnAnswer() throws Exception {
        Assistant assistant = assistant(sdk(), "Echo.");
        fake().respondWith(RunConcurrencySdkTest::echo);
        CyclicBarrier start = new CyclicBarrier(RUNS);
        List<Future<Run>> results = new ArrayList<>();

        try (ExecutorService clients = Executors.newFixedThreadPool(RUNS)) {
            for (int i = 0; i < RUNS; i++) {
                String question = "question " + i;
                results.add(clients.submit(() -> {
                    String threadId = threadWith(sdk(), question);
                    start.await(30, TimeUnit.SECONDS);
                    return pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.COMPLETED);
                }));
            }
            for (int i = 0; i < RUNS; i++) {
                Run run = results.get(i).get(60, TimeUnit.SECONDS);
                String question = "question " + i;
                assertThat(texts(messagesOf(sdk(), run))).as("run %d", i).containsExactly("answer to " + question);
                assertThat(texts(threadMessages(sdk(), run.threadId()))).containsExactly(question, "answer to " + question);
                assertThat(steps(sdk(), run)).hasSize(1);
            }
        }

        assertThat(upstreamRequests()).hasSize(RUNS);
        assertThat(upstreamRequests()).extracting(r -> r.path("messages").get(1).path("content").asText())
                .containsExactlyInAnyOrderElementsOf(IntStream.range(0, RUNS).mapToObj(i -> "question " + i).toList());
    }
}
