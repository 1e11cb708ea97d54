package io.spindle.engine;

import static io.spindle.testing.SdkRuns.assistant;
import static io.spindle.testing.SdkRuns.createRun;
import static io.spindle.testing.SdkRuns.messagesOf;
import static io.spindle.testing.SdkRuns.pollFor;
import static io.spindle.testing.SdkRuns.pollUntil;
import static io.spindle.testing.SdkRuns.steps;
import static io.spindle.testing.SdkThreads.text;
import static io.spindle.testing.SdkThreads.threadWith;
import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.OpenAIClient;
import com.openai.models.beta.threads.messages.Message;
import com.openai.models.beta.threads.runs.Run;
import com.openai.models.beta.threads.runs.RunStatus;
import com.openai.models.beta.threads.runs.steps.RunStep;
import io.spindle.testing.FakeUpstream;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.TestServer;
import io.spindle.upstream.ChatListener;
import io.spindle.upstream.ChatModel;
import io.spindle.upstream.ChatResult;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A run never outlives its execution. An execution that dies of an {@link Error} (not an exception) fails its run at
 * once, unlocks its thread and frees its slot; an execution stuck where no cancellation reaches it cannot keep its
 * run {@code in_progress} past the deadline, although its node still heartbeats: the run expires a lease time after
 * {@code expires_at}, and the stuck execution, once it wakes up, can write nothing. One run at a time per node here,
 * so that a slot that is never given back stops every later run.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(value = TestServer.Storage.class, names = {"SQLITE", "POSTGRESQL"})
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
class ExecutionFailureTest {
    private static final long EXPIRY_SECONDS = 3;
    private static final long LEASE_SECONDS = 2;

    @Parameter
    TestServer.Storage storage;

    private final FakeUpstream fake = FakeUpstream.start().respondWith(body -> Reply.text("a later run's answer"));
    private TestServer server;
    private OpenAIClient sdk;
    /** Lets a stuck model call go on; counted down after each test, so that no execution stays stuck. */
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void stop() {
        release.countDown();
        try {
            if (sdk != null) {
                sdk.close();
            }
            if (server != null) {
                server.close();
            }
        } finally {
            fake.close();
        }
    }

    private void start(Map<String, String> env, UnaryOperator<ChatModel> wrap) {
        Map<String, String> all = new HashMap<>(env);
        all.put("SPINDLE_UPSTREAM_URL", fake.baseUrl());
        all.put("SPINDLE_MAX_CONCURRENT_RUNS", "1");
        all.put("SPINDLE_POLL_AFTER_MS", "50");
        server = TestServer.start(storage, all, wrap);
        sdk = server.sdk();
    }

    @Test
    void anExecutionDyingOfAnErrorFailsItsRunAtOnceAndGivesBackThreadAndSlot() {
        AtomicBoolean dies = new AtomicBoolean(true);
        // The first answer's first piece of text is recorded, then the engine's handling of it dies of a StackOverflowError.
        start(Map.of(), chat -> (body, listener, cancellation) -> chat.complete(body, new ChatListener() {
            @Override
            public void text(String delta) {
                listener.text(delta);
                if (dies.getAndSet(false)) {
                    throw new StackOverflowError("thrown by the test while the answer streams");
                }
            }

            @Override
            public void toolCallStarted(int index, String name) {
                listener.toolCallStarted(index, name);
            }

            @Override
            public void toolCallArguments(int index, String delta) {
                listener.toolCallArguments(index, delta);
            }
        }, cancellation));
        fake.enqueue(Reply.text("This answer never ends well"));
        String assistantId = assistant(sdk, null).id();
        String threadId = threadWith(sdk, "Hello?");

        // Within the poller's 20 s: without the fix the run stays in_progress until its lease (30 s) runs out.
        Run failed = pollFor(sdk, createRun(sdk, threadId, assistantId), RunStatus.FAILED);

        assertThat(failed.lastError().orElseThrow().code()).isEqualTo(Run.LastError.Code.SERVER_ERROR);
        assertThat(failed.lastError().orElseThrow().message()).isNotBlank();
        assertThat(failed.failedAt()).isPresent();
        assertThat(failed.expiresAt()).isEmpty();
        List<RunStep> steps = steps(sdk, failed);
        assertThat(steps).extracting(RunStep::status).containsExactly(RunStep.Status.FAILED);
        assertThat(steps.getFirst().lastError().orElseThrow().code()).isEqualTo(RunStep.LastError.Code.SERVER_ERROR);
        Message message = messagesOf(sdk, failed).getFirst();
        assertThat(message.status()).isEqualTo(Message.Status.INCOMPLETE);
        assertThat(message.incompleteDetails().orElseThrow().reason()).isEqualTo(Message.IncompleteDetails.Reason.RUN_FAILED);

        // The thread takes a new run, and the node's only slot executes it.
        Run next = pollFor(sdk, createRun(sdk, threadId, assistantId), RunStatus.COMPLETED);
        assertThat(text(messagesOf(sdk, next).getFirst())).isEqualTo("a later run's answer");
        Run another = pollFor(sdk, createRun(sdk, threadWith(sdk, "And here?"), assistantId), RunStatus.COMPLETED);
        assertThat(text(messagesOf(sdk, another).getFirst())).isEqualTo("a later run's answer");
    }

    @Test
    void aRunWhoseExecutionIsStuckExpiresALeaseTimeAfterItsDeadlineAndTheExecutionCannotWriteAfter() throws Exception {
        AtomicBoolean sticks = new AtomicBoolean(true);
        CountDownLatch stuck = new CountDownLatch(1);
        // The first model call streams a little text, then hangs deaf to cancellation (the deadline cannot stop it)
        // until the test releases it; it then answers as if nothing had happened.
        start(Map.of("SPINDLE_RUN_EXPIRY_SECONDS", Long.toString(EXPIRY_SECONDS), "SPINDLE_LEASE_SECONDS", Long.toString(LEASE_SECONDS)),
                chat -> (body, listener, cancellation) -> {
                    if (!sticks.getAndSet(false)) {
                        return chat.complete(body, listener, cancellation);
                    }
                    listener.text("Still thinking");
                    stuck.countDown();
                    awaitUninterruptibly(release);
                    return new ChatResult("Still thinking, and now done.", List.of(), "stop", null);
                });
        String assistantId = assistant(sdk, null).id();
        String threadId = threadWith(sdk, "Take your time");
        Run created = createRun(sdk, threadId, assistantId);
        assertThat(stuck.await(20, TimeUnit.SECONDS)).as("the model call is stuck").isTrue();
        long deadline = created.expiresAt().orElseThrow();

        // Without the fix the run stays in_progress for good: its lease is renewed and the sweeper skips leased runs.
        Run expired = pollUntil(sdk, created, r -> !r.status().equals(RunStatus.IN_PROGRESS), Duration.ofSeconds(EXPIRY_SECONDS + 30));

        assertThat(expired.status()).isEqualTo(RunStatus.EXPIRED);
        assertThat(expired.expiresAt()).isEmpty();
        assertThat(expired.lastError()).isEmpty();
        List<RunStep> steps = steps(sdk, expired);
        assertThat(steps).extracting(RunStep::status).containsExactly(RunStep.Status.EXPIRED);
        // A lease time after the deadline, plus the sweeper's second; generously bounded for a loaded machine.
        assertThat(steps.getFirst().expiredAt().orElseThrow()).isBetween(deadline, deadline + LEASE_SECONDS + 15);
        Message message = messagesOf(sdk, expired).getFirst();
        assertThat(message.status()).isEqualTo(Message.Status.INCOMPLETE);
        assertThat(message.incompleteDetails().orElseThrow().reason()).isEqualTo(Message.IncompleteDetails.Reason.RUN_EXPIRED);

        // The stuck execution wakes up with its answer: its lease is gone, so it writes nothing, and gives its slot
        // back (the node executes one run at a time: the next run completes only then).
        release.countDown();
        Run next = pollFor(sdk, createRun(sdk, threadId, assistantId), RunStatus.COMPLETED);
        assertThat(text(messagesOf(sdk, next).getFirst())).isEqualTo("a later run's answer");
        Run after = pollUntil(sdk, created, r -> true, Duration.ZERO);
        assertThat(after).isEqualTo(expired);
        assertThat(steps(sdk, after)).isEqualTo(steps);
        assertThat(messagesOf(sdk, after)).containsExactly(message);
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        while (true) {
            try {
                latch.await();
                return;
            } catch (InterruptedException e) {
                // deaf to interrupts too: stuck is stuck
            }
        }
    }
}
