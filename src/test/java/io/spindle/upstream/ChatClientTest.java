package io.spindle.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindle.api.Json;
import io.spindle.api.Usage;
import io.spindle.testing.FakeUpstream;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.FakeUpstream.ToolCall;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link ChatClient} against the scripted {@link FakeUpstream}, over real HTTP, without a Spindle server. */
class ChatClientTest {
    private static final int MAX_LINE_BYTES = 1024 * 1024;
    private static final int MAX_ANSWER_CHARS = 1_000_000;
    private final FakeUpstream fake = FakeUpstream.start();
    private final List<ChatClient> clients = new ArrayList<>();

    @AfterEach
    void tearDown() {
        clients.forEach(ChatClient::close);
        fake.close();
    }

    // ----- answers -----------------------------------------------------------------------------------------------

    @Test
    void textIsHandedOnInOrderAndReturnedWithFinishAndUsage() throws Exception {
        fake.enqueue(Reply.text("Hello, streaming world!").withUsage(12, 7));
        Recorder recorder = new Recorder();

        ChatResult result = client(0).complete(request(true), recorder, new Cancellation());

        assertThat(recorder.events).containsExactly("text:Hel", "text:lo,", "text: st", "text:rea", "text:min",
                "text:g w", "text:orl", "text:d!");
        assertThat(result.text()).isEqualTo("Hello, streaming world!");
        assertThat(result.toolCalls()).isEmpty();
        assertThat(result.finishReason()).isEqualTo("stop");
        assertThat(result.usage()).isEqualTo(Usage.of(12, 7, 0, 0));
        assertThat(result.usage().totalTokens()).isEqualTo(19);
        assertThat(fake.requestCount()).isEqualTo(1);
    }

    @Test
    void twoParallelToolCallsAreReassembled() throws Exception {
        fake.enqueue(Reply.toolCalls(
                new ToolCall("call_up_1", "get_weather", "{\"city\":\"Paris\",\"unit\":\"celsius\"}"),
                new ToolCall("call_up_2", "get_time", "{\"tz\":\"Europe/Paris\"}")));
        Recorder recorder = new Recorder();

        ChatResult result = client(0).complete(request(true), recorder, new Cancellation());

        assertThat(recorder.started).containsExactly("0:get_weather", "1:get_time");
        assertThat(recorder.arguments(0)).isEqualTo("{\"city\":\"Paris\",\"unit\":\"celsius\"}");
        assertThat(recorder.arguments(1)).isEqualTo("{\"tz\":\"Europe/Paris\"}");
        // Arguments of a call only come after that call started, and all of call 0 before call 1.
        assertThat(recorder.events.indexOf("start:0:get_weather")).isZero();
        int lastArgsOfFirst = 0;
        for (int i = 0; i < recorder.events.size(); i++) {
            if (recorder.events.get(i).startsWith("args:0:")) {
                lastArgsOfFirst = i;
            }
        }
        assertThat(lastArgsOfFirst).isPositive();
        assertThat(recorder.events.indexOf("start:1:get_time")).isEqualTo(lastArgsOfFirst + 1);
        assertThat(recorder.events).noneMatch(e -> e.startsWith("text:"));
        assertThat(result.toolCalls()).containsExactly(
                new ChatResult.ToolCall("get_weather", "{\"city\":\"Paris\",\"unit\":\"celsius\"}"),
                new ChatResult.ToolCall("get_time", "{\"tz\":\"Europe/Paris\"}"));
        assertThat(result.text()).isEmpty();
        assertThat(result.finishReason()).isEqualTo("tool_calls");
        assertThat(result.usage()).isNotNull();
    }

    @Test
    void textThenToolCalls() throws Exception {
        fake.enqueue(Reply.textThenToolCalls("Let me look.", new ToolCall("call_x", "lookup", "{\"q\":\"spindle\"}")));
        Recorder recorder = new Recorder();

        ChatResult result = client(0).complete(request(true), recorder, new Cancellation());

        assertThat(recorder.text()).isEqualTo("Let me look.");
        int lastText = recorder.events.lastIndexOf("text:ok.");
        assertThat(lastText).isNotNegative();
        assertThat(recorder.events.indexOf("start:0:lookup")).isEqualTo(lastText + 1);
        assertThat(recorder.started).containsExactly("0:lookup");
        assertThat(recorder.arguments(0)).isEqualTo("{\"q\":\"spindle\"}");
        assertThat(result.text()).isEqualTo("Let me look.");
        assertThat(result.toolCalls()).containsExactly(new ChatResult.ToolCall("lookup", "{\"q\":\"spindle\"}"));
        assertThat(result.finishReason()).isEqualTo("tool_calls");
    }

    @Test
    void lengthCutoffFinishesWithLength() throws Exception {
        fake.enqueue(Reply.lengthCutoff("This answer was cut"));
        Recorder recorder = new Recorder();

        ChatResult result = client(0).complete(request(true), recorder, new Cancellation());

        assertThat(result.finishReason()).isEqualTo("length");
        assertThat(result.text()).isEqualTo("This answer was cut");
        assertThat(recorder.text()).isEqualTo("This answer was cut");
    }

    @Test
    void missingUsageIsNull() throws Exception {
        fake.enqueue(Reply.text("No usage here").withoutUsage());

        ChatResult result = client(0).complete(request(true), new Recorder(), new Cancellation());

        assertThat(fake.lastRequest().path("stream_options").path("include_usage").asBoolean()).isTrue();
        assertThat(result.text()).isEqualTo("No usage here");
        assertThat(result.finishReason()).isEqualTo("stop");
        assertThat(result.usage()).isNull();
    }

    @Test
    void nonStreamingAnswerIsHandled() throws Exception {
        // The fake answers one chat.completion JSON object when the request does not ask for a stream.
        fake.enqueue(Reply.text("Whole answer at once").withUsage(5, 4),
                Reply.textThenToolCalls("Calling.", new ToolCall("call_1", "f", "{\"a\":1}")).withoutUsage());
        Recorder recorder = new Recorder();
        ChatClient client = client(0);

        ChatResult text = client.complete(request(false), recorder, new Cancellation());

        assertThat(text.text()).isEqualTo("Whole answer at once");
        assertThat(text.finishReason()).isEqualTo("stop");
        assertThat(text.usage()).isEqualTo(Usage.of(5, 4, 0, 0));
        assertThat(recorder.events).containsExactly("text:Whole answer at once");

        Recorder second = new Recorder();
        ChatResult calls = client.complete(request(false), second, new Cancellation());

        assertThat(calls.text()).isEqualTo("Calling.");
        assertThat(calls.toolCalls()).containsExactly(new ChatResult.ToolCall("f", "{\"a\":1}"));
        assertThat(calls.finishReason()).isEqualTo("tool_calls");
        assertThat(calls.usage()).isNull();
        assertThat(second.events).containsExactly("text:Calling.", "start:0:f", "args:0:{\"a\":1}");
    }

    @Test
    void anAnswerThatFinishesButNeverEndsCompletesAfterAShortGrace() throws Exception {
        fake.enqueue(Reply.text("All done.").withUsage(9, 3).thenHangAfterFinish(),
                Reply.text("No usage either.").withoutUsage().thenHangAfterFinish());
        ChatClient client = client(0, Duration.ofMillis(10), Duration.ofSeconds(60));
        long start = System.nanoTime();

        ChatResult withUsage = client.complete(request(true), new Recorder(), new Cancellation());
        ChatResult withoutUsage = client.complete(request(true), new Recorder(), new Cancellation());

        assertThat(withUsage.text()).isEqualTo("All done.");
        assertThat(withUsage.finishReason()).isEqualTo("stop");
        assertThat(withUsage.usage()).isEqualTo(Usage.of(9, 3, 0, 0));
        assertThat(withoutUsage.text()).isEqualTo("No usage either.");
        assertThat(withoutUsage.usage()).isNull();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("far less than the 60 s idle timeout, twice")
                .isLessThan(Duration.ofSeconds(20));
        assertThat(fake.awaitAbortedStreams(2, Duration.ofSeconds(5))).as("both streams were closed").isTrue();
    }

    @Test
    void textOverTheAnswerLimitEndsAsALengthCutOff() throws Exception {
        String text = "0123456789".repeat(500) + "🙂";
        fake.enqueue(Reply.text(text).withPieceSize(333), Reply.text("x".repeat(999) + "🙂🙂").withPieceSize(400));
        ChatClient client = client(0, 4_096, 1_000);
        Recorder recorder = new Recorder();

        ChatResult result = client.complete(request(true), recorder, new Cancellation());
        ChatResult beforeAPair = client.complete(request(true), new Recorder(), new Cancellation());

        assertThat(result.text()).isEqualTo(text.substring(0, 1_000));
        assertThat(recorder.text()).isEqualTo(result.text());
        assertThat(result.finishReason()).isEqualTo("length");
        assertThat(result.usage()).as("the stream was left before its usage").isNull();
        assertThat(beforeAPair.text()).as("never half a surrogate pair").isEqualTo("x".repeat(999));
        assertThat(beforeAPair.finishReason()).isEqualTo("length");
    }

    @Test
    void functionCallsOverTheAnswerLimitFailTheCall() {
        fake.enqueue(Reply.toolCalls(new ToolCall("c1", "f", "{\"a\":\"" + "y".repeat(5_000) + "\"}")).withPieceSize(500));

        UpstreamException e = failure(client(2, 4_096, 1_000), request(true), new Cancellation());

        assertThat(e.kind()).isEqualTo(UpstreamException.Kind.TOO_LARGE);
        assertThat(e.kind().code).isEqualTo("server_error");
        assertThat(e.getMessage()).isEqualTo("the model's function calls were longer than 1000 characters");
        assertThat(fake.requestCount()).isEqualTo(1);
    }

    @Test
    void aLineOverTheLimitFailsWithoutReadingOn() throws Exception {
        fake.enqueue(Reply.endlessLine(), Reply.text("a retry would get this"));

        UpstreamException e = failure(client(2, 64 * 1024, 1_000_000), request(true), new Cancellation());

        assertThat(e.kind()).isEqualTo(UpstreamException.Kind.TOO_LARGE);
        assertThat(e.kind().code).isEqualTo("server_error");
        assertThat(e.getMessage()).isEqualTo("the model endpoint sent a line longer than 65536 bytes");
        assertThat(e.detail()).isEqualTo("SPINDLE_UPSTREAM_MAX_LINE_BYTES=65536");
        assertThat(fake.requestCount()).as("not retried").isEqualTo(1);
        assertThat(fake.awaitAbortedStreams(1, Duration.ofSeconds(5))).as("the endless line was left").isTrue();
    }

    @Test
    void anUnstreamedAnswerOverTheLineLimitFails() {
        fake.enqueue(Reply.text("z".repeat(10_000)));

        UpstreamException e = failure(client(0, 4_096, 1_000_000), request(false), new Cancellation());

        assertThat(e.kind()).isEqualTo(UpstreamException.Kind.TOO_LARGE);
        assertThat(e.getMessage()).isEqualTo("the model endpoint sent a line longer than 4096 bytes");
    }

    // ----- failures and retries ----------------------------------------------------------------------------------

    @Test
    void rateLimitWithoutRetriesFailsAsRateLimit() {
        fake.enqueue(Reply.error(429, "Slow down please"), Reply.text("never asked for"));

        UpstreamException e = failure(client(0), request(true), new Cancellation());

        assertThat(e.kind()).isEqualTo(UpstreamException.Kind.RATE_LIMIT);
        assertThat(e.kind().code).isEqualTo("rate_limit_exceeded");
        assertThat(e.getMessage()).isEqualTo("the model endpoint is rate limiting requests (HTTP 429)");
        assertThat(e.detail()).isEqualTo("Slow down please");
        assertThat(fake.requestCount()).isEqualTo(1);
    }

    @Test
    void serverErrorsAreRetriedWithBackoffUntilSuccess() throws Exception {
        fake.enqueue(Reply.error(500, "boom 1"), Reply.error(502, "boom 2"), Reply.text("third time lucky"));
        Recorder recorder = new Recorder();
        long start = System.nanoTime();

        ChatResult result = client(2, Duration.ofMillis(10), Duration.ofSeconds(30))
                .complete(request(true), recorder, new Cancellation());

        assertThat(result.text()).isEqualTo("third time lucky");
        assertThat(recorder.text()).isEqualTo("third time lucky");
        assertThat(fake.requestCount()).isEqualTo(3);
        assertThat(fake.requests()).allSatisfy(body -> assertThat(body).isEqualTo(request(true)));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
    }

    @Test
    void retriesRunOutWithTheLastError() {
        fake.enqueue(Reply.error(500, "boom 1"), Reply.error(503, "boom 2"), Reply.text("too late"));

        UpstreamException e = failure(client(1, Duration.ofMillis(10), Duration.ofSeconds(30)), request(true), new Cancellation());

        assertThat(e.kind()).isEqualTo(UpstreamException.Kind.SERVER);
        assertThat(e.getMessage()).isEqualTo("the model endpoint answered HTTP 503");
        assertThat(e.detail()).isEqualTo("boom 2");
        assertThat(fake.requestCount()).isEqualTo(2);
    }

    @Test
    void retryAfterIsHonoured() throws Exception {
        fake.enqueue(Reply.error(429, "wait a second").withRetryAfter(1), Reply.text("after the wait"));
        long start = System.nanoTime();

        ChatResult result = client(1, Duration.ofMillis(10), Duration.ofSeconds(30))
                .complete(request(true), new Recorder(), new Cancellation());

        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(result.text()).isEqualTo("after the wait");
        assertThat(fake.requestCount()).isEqualTo(2);
        // A 10 ms backoff would have retried at once; Retry-After: 1 asks for a second.
        assertThat(took).isBetween(Duration.ofMillis(950), Duration.ofSeconds(4));
    }

    @Test
    void badRequestIsAnInvalidPromptAndNotRetried() {
        fake.enqueue(Reply.error(400, "This model's maximum context length is 8192 tokens"), Reply.text("a retry would get this"));

        UpstreamException e = failure(client(2, Duration.ofMillis(10), Duration.ofSeconds(30)), request(true), new Cancellation());

        assertThat(e.kind()).isEqualTo(UpstreamException.Kind.INVALID_PROMPT);
        assertThat(e.kind().code).isEqualTo("invalid_prompt");
        assertThat(e.getMessage()).isEqualTo("the model endpoint rejected the prompt (HTTP 400)");
        assertThat(e.detail()).contains("maximum context length");
        assertThat(fake.requestCount()).isEqualTo(1);
    }

    @Test
    void unauthorisedIsRefusedAndNotRetried() {
        fake.enqueue(Reply.error(401, "Incorrect API key provided"), Reply.text("a retry would get this"));

        UpstreamException e = failure(client(2, Duration.ofMillis(10), Duration.ofSeconds(30)), request(true), new Cancellation());

        assertThat(e.kind()).isEqualTo(UpstreamException.Kind.REFUSED);
        assertThat(e.kind().code).isEqualTo("server_error");
        assertThat(e.getMessage()).isEqualTo("the model endpoint rejected the request (HTTP 401)");
        assertThat(e.detail()).contains("Incorrect API key provided");
        assertThat(fake.requestCount()).isEqualTo(1);
    }

    @Test
    void malformedStreamIsAServerError() {
        fake.enqueue(Reply.malformed());

        UpstreamException e = failure(client(0), request(true), new Cancellation());

        assertThat(e.kind()).isEqualTo(UpstreamException.Kind.SERVER);
        assertThat(e.getMessage()).contains("malformed");
        assertThat(fake.requestCount()).isEqualTo(1);
    }

    @Test
    void resetAfterTextWasHandedOnIsNotRetried() {
        fake.enqueue(Reply.reset().withChunkDelay(Duration.ofMillis(300)), Reply.text("a retry would repeat the text"));
        Recorder recorder = new Recorder();

        UpstreamException e = failure(client(2, Duration.ofMillis(10), Duration.ofSeconds(30)), request(true), recorder);

        assertThat(e.kind()).isEqualTo(UpstreamException.Kind.SERVER);
        assertThat(recorder.events).containsExactly("text:Hel");
        assertThat(fake.requestCount()).isEqualTo(1);
    }

    @Test
    void resetBeforeAnyOutputIsRetried() throws Exception {
        fake.enqueue(Reply.text("").withChunkDelay(Duration.ofMillis(100)).thenReset(), Reply.text("second try"));
        Recorder recorder = new Recorder();

        ChatResult result = client(1, Duration.ofMillis(10), Duration.ofSeconds(30)).complete(request(true), recorder, new Cancellation());

        assertThat(result.text()).isEqualTo("second try");
        assertThat(recorder.text()).isEqualTo("second try");
        assertThat(fake.requestCount()).isEqualTo(2);
    }

    @Test
    void silenceBeforeTheAnswerTimesOut() {
        fake.enqueue(Reply.hang());
        long start = System.nanoTime();

        UpstreamException e = failure(client(0, Duration.ofMillis(10), Duration.ofSeconds(1)), request(true), new Cancellation());

        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(e.kind()).isEqualTo(UpstreamException.Kind.SERVER);
        assertThat(e.getMessage()).contains("did not answer within 1 s");
        assertThat(took).isBetween(Duration.ofMillis(900), Duration.ofMillis(3000));
    }

    @Test
    void silenceInTheMiddleOfTheStreamTimesOut() {
        fake.enqueue(Reply.text("Half an answ").thenHang(), Reply.text("a retry would repeat the text"));
        Recorder recorder = new Recorder();
        long start = System.nanoTime();

        UpstreamException e = failure(client(2, Duration.ofMillis(10), Duration.ofSeconds(1)), request(true), recorder);

        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(e.kind()).isEqualTo(UpstreamException.Kind.SERVER);
        assertThat(e.getMessage()).contains("stopped answering for 1 s");
        assertThat(recorder.text()).isEqualTo("Half an answ");
        // the watchdog looks once a second: the silence is noticed between 1 and 2 s after it began
        assertThat(took).isBetween(Duration.ofMillis(900), Duration.ofMillis(3500));
        assertThat(fake.requestCount()).isEqualTo(1);
    }

    @Test
    void anEchoedKeyIsInNeitherTheMessageNorTheDetail() {
        String key = "k9-Plain-Secret";
        ChatClient client = track(new ChatClient(new ChatClient.Config(URI.create(fake.baseUrl()), Optional.of(key),
                Duration.ofSeconds(30), 0, Duration.ofMillis(10), MAX_LINE_BYTES, MAX_ANSWER_CHARS)));
        fake.enqueue(Reply.errorEchoingHeaders(401, "Incorrect API key provided: " + key + "."));

        UpstreamException e = failure(client, request(true), new Cancellation());

        assertThat(fake.lastRequestHeader("Authorization")).isEqualTo("Bearer " + key);
        assertThat(e.getMessage()).isEqualTo("the model endpoint rejected the request (HTTP 401)");
        assertThat(e.detail()).startsWith("Incorrect API key provided: [redacted]. Request headers: ")
                .contains("Authorization=[[redacted]]").doesNotContain(key).doesNotContain("Plain");
        assertThat(e.forLog()).doesNotContain(key);
    }

    @Test
    void anErrorInsideTheStreamIsLoggedNotShown() {
        fake.enqueue(Reply.streamedError("upstream exploded; key sk-abcdefghijklmnop"));

        UpstreamException e = failure(client(0), request(true), new Cancellation());

        assertThat(e.kind()).isEqualTo(UpstreamException.Kind.SERVER);
        assertThat(e.getMessage()).isEqualTo("the model endpoint reported an error");
        assertThat(e.detail()).isEqualTo("upstream exploded; key [redacted]");
    }

    @Test
    void anUnreachableEndpointIsNamedNeitherInTheMessageNorWithItsCredentials() throws Exception {
        int closedPort;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        ChatClient client = track(new ChatClient(new ChatClient.Config(
                URI.create("http://alice:url-secret-pw@127.0.0.1:" + closedPort + "/v1"), Optional.empty(),
                Duration.ofSeconds(30), 0, Duration.ofMillis(10), MAX_LINE_BYTES, MAX_ANSWER_CHARS)));

        UpstreamException e = failure(client, request(true), new Cancellation());

        assertThat(e.kind()).isEqualTo(UpstreamException.Kind.SERVER);
        assertThat(e.getMessage()).isEqualTo("the model endpoint could not be reached");
        assertThat(e.detail()).contains("ConnectException");
        assertThat(e.forLog()).doesNotContain("url-secret-pw");
    }

    // ----- cancellation ------------------------------------------------------------------------------------------

    @Test
    void cancelFromAnotherThreadAbortsAHangingStreamAtOnce() throws Exception {
        fake.enqueue(Reply.text("Some text, then nothing").thenHang());
        Cancellation cancellation = new Cancellation();
        CountDownLatch firstText = new CountDownLatch(1);
        Recorder recorder = new Recorder() {
            @Override
            public void text(String delta) {
                super.text(delta);
                firstText.countDown();
            }
        };
        AtomicLong cancelledAt = new AtomicLong();
        Thread canceller = Thread.ofVirtual().start(() -> {
            try {
                if (firstText.await(10, TimeUnit.SECONDS)) {
                    Thread.sleep(200);
                    cancelledAt.set(System.nanoTime());
                    cancellation.cancel("cancelled by the test");
                }
            } catch (InterruptedException ignored) {
                // the test is over
            }
        });

        UpstreamException e = failure(client(2, Duration.ofMillis(10), Duration.ofSeconds(60)), request(true), recorder, cancellation);
        long endedAt = System.nanoTime();
        canceller.join(5_000);

        assertThat(cancelledAt.get()).as("the canceller ran").isNotZero();
        assertThat(e.kind()).isEqualTo(UpstreamException.Kind.ABORTED);
        assertThat(e.getMessage()).contains("cancelled by the test");
        assertThat(Duration.ofNanos(endedAt - cancelledAt.get())).isLessThan(Duration.ofSeconds(1));
        assertThat(recorder.text()).isEqualTo("Some text, then nothing");
        assertThat(fake.awaitAbortedStreams(1, Duration.ofSeconds(5))).as("the fake saw the stream abandoned").isTrue();
        assertThat(fake.requestCount()).isEqualTo(1);
    }

    @Test
    void cancelWhileWaitingForTheFirstByteAborts() throws Exception {
        fake.enqueue(Reply.hang());
        Cancellation cancellation = new Cancellation();
        AtomicLong cancelledAt = new AtomicLong();
        Thread canceller = Thread.ofVirtual().start(() -> {
            try {
                if (fake.awaitRequests(1, Duration.ofSeconds(10))) {
                    Thread.sleep(300);
                    cancelledAt.set(System.nanoTime());
                    cancellation.cancel("expired");
                }
            } catch (InterruptedException ignored) {
                // the test is over
            }
        });

        UpstreamException e = failure(client(2, Duration.ofMillis(10), Duration.ofSeconds(60)), request(true), new Recorder(), cancellation);
        long endedAt = System.nanoTime();
        canceller.join(5_000);

        assertThat(cancelledAt.get()).isNotZero();
        assertThat(e.kind()).isEqualTo(UpstreamException.Kind.ABORTED);
        assertThat(e.getMessage()).contains("expired");
        assertThat(Duration.ofNanos(endedAt - cancelledAt.get())).isLessThan(Duration.ofSeconds(1));
        assertThat(fake.awaitAbortedStreams(1, Duration.ofSeconds(5))).isTrue();
        assertThat(fake.requestCount()).isEqualTo(1);
    }

    @Test
    void alreadyCancelledCallsAbortWithoutRetrying() {
        fake.enqueue(Reply.error(500, "boom"), Reply.text("never"));
        Cancellation cancellation = new Cancellation();
        cancellation.cancel("shutdown");

        UpstreamException e = failure(client(2, Duration.ofMillis(10), Duration.ofSeconds(30)), request(true), new Recorder(), cancellation);

        assertThat(e.kind()).isEqualTo(UpstreamException.Kind.ABORTED);
        assertThat(fake.requestCount()).isLessThanOrEqualTo(1);
    }

    // ----- connections ---------------------------------------------------------------------------------------------

    @Test
    void failedCallsReleaseTheirConnections() throws Exception {
        ChatClient limited = client(0, 64 * 1024, 1_000);
        for (int round = 0; round < 4; round++) {
            fake.enqueue(Reply.endlessLine(), Reply.text("y".repeat(2_000)).withPieceSize(100).thenHang(),
                    Reply.text("finished").thenHangAfterFinish());
            assertThat(failure(limited, request(true), new Cancellation()).kind()).isEqualTo(UpstreamException.Kind.TOO_LARGE);
            assertThat(limited.complete(request(true), new Recorder(), new Cancellation()).finishReason()).isEqualTo("length");
            assertThat(limited.complete(request(true), new Recorder(), new Cancellation()).text()).isEqualTo("finished");
        }
        ChatClient client = client(0, Duration.ofMillis(10), Duration.ofSeconds(1));
        for (int round = 0; round < 4; round++) {
            fake.enqueue(Reply.error(401, "no"), Reply.error(500, "boom"), Reply.malformed(), Reply.reset(),
                    Reply.text("then silence").thenHang(), Reply.text("then a cancel").thenHang(), Reply.hang());
            failure(client, request(true), new Cancellation());
            failure(client, request(true), new Cancellation());
            failure(client, request(true), new Cancellation());
            failure(client, request(true), new Cancellation());
            assertThat(failure(client, request(true), new Cancellation()).getMessage()).contains("stopped answering");
            assertThat(failure(client, request(true), new Recorder(), cancelSoon()).kind()).isEqualTo(UpstreamException.Kind.ABORTED);
            assertThat(failure(client, request(true), new Recorder(), cancelSoon()).kind()).isEqualTo(UpstreamException.Kind.ABORTED);
        }
        assertThat(fake.requestCount()).isEqualTo(40);

        assertThat(fake.openConnections()).as("connections can be counted here").isNotNegative();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (fake.openConnections() > 2 && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(fake.openConnections()).as("connections left open (one kept for reuse is fine)").isLessThanOrEqualTo(2);
    }

    /** A cancellation that happens 300 ms from now. */
    private static Cancellation cancelSoon() {
        Cancellation cancellation = new Cancellation();
        Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(300);
            } catch (InterruptedException ignored) {
                // cancel at once
            }
            cancellation.cancel("cancelled by the test");
        });
        return cancellation;
    }

    // ----- the request -------------------------------------------------------------------------------------------

    @Test
    void authorizationIsSentOnlyWithAnApiKey() throws Exception {
        ChatClient withKey = track(new ChatClient(new ChatClient.Config(URI.create(fake.baseUrl()), Optional.of("sk-upstream-123"),
                Duration.ofSeconds(30), 0, Duration.ofMillis(10), MAX_LINE_BYTES, MAX_ANSWER_CHARS)));
        withKey.complete(request(true), new Recorder(), new Cancellation());
        client(0).complete(request(true), new Recorder(), new Cancellation());

        assertThat(fake.received()).hasSize(2);
        assertThat(fake.received().get(0).header("Authorization")).isEqualTo("Bearer sk-upstream-123");
        assertThat(fake.received().get(1).header("Authorization")).isNull();
        assertThat(fake.received()).allSatisfy(r -> assertThat(r.header("Content-Type")).isEqualTo("application/json"));
    }

    @Test
    void theBodySentIsExactlyTheOneGiven() throws Exception {
        ObjectNode body = request(true);
        body.put("temperature", 0.25).put("max_completion_tokens", 77).put("parallel_tool_calls", false);
        body.putArray("tools").addObject().put("type", "function").putObject("function").put("name", "lookup")
                .putObject("parameters").put("type", "object");
        ((ObjectNode) body.withArray("messages").addObject()).put("role", "user").put("content", "ünïcödé ✓ 𝄞 \"quoted\"\n");
        ObjectNode copy = body.deepCopy();

        client(0).complete(body, new Recorder(), new Cancellation());

        assertThat(fake.lastRequest()).isEqualTo(copy);
        assertThat(body).as("the caller's body is left alone").isEqualTo(copy);
    }

    @Test
    void baseUrlWithTrailingSlashReachesTheSameEndpoint() throws Exception {
        ChatClient client = track(new ChatClient(new ChatClient.Config(URI.create(fake.baseUrl() + "/"), Optional.empty(),
                Duration.ofSeconds(30), 0, Duration.ofMillis(10), MAX_LINE_BYTES, MAX_ANSWER_CHARS)));
        fake.enqueue(Reply.text("found"));

        assertThat(client.complete(request(true), new Recorder(), new Cancellation()).text()).isEqualTo("found");
    }

    // ----- Azure OpenAI -------------------------------------------------------------------------------------------

    /** An Azure key: 32 hex digits, which no key-like pattern of {@link Redaction} catches; only the configured key does. */
    private static final String AZURE_KEY = "0123456789abcdef0123456789abcdef";

    @Test
    void anAzureClientPostsToItsDeploymentWithTheApiVersionAndAnApiKeyHeader() throws Exception {
        fake.enqueue(Reply.text("from Azure"));
        ObjectNode body = request(true);

        ChatResult result = azure(0).complete(body, new Recorder(), new Cancellation());

        assertThat(result.text()).isEqualTo("from Azure");
        FakeUpstream.Received sent = fake.received().getFirst();
        assertThat(sent.target()).isEqualTo("/openai/deployments/my-gpt4o/chat/completions?api-version=2024-10-21");
        assertThat(sent.header("api-key")).isEqualTo(AZURE_KEY);
        assertThat(sent.header("Authorization")).isNull();
        assertThat(sent.body()).isEqualTo(body);
    }

    @Test
    void anOpenAiClientPostsToChatCompletionsUnderItsBase() throws Exception {
        client(0).complete(request(true), new Recorder(), new Cancellation());

        assertThat(fake.received().getFirst().target()).isEqualTo("/v1/chat/completions");
        assertThat(fake.received().getFirst().header("api-key")).isNull();
    }

    @Test
    void anAzureEndpointNeedsADeploymentAndAnApiVersion() {
        assertThat(catchThrowableOfType(IllegalArgumentException.class, () -> ChatClient.Config.of(
                azureRoute(Optional.empty(), Optional.of("2024-10-21")), Duration.ofMillis(10), MAX_LINE_BYTES, MAX_ANSWER_CHARS)))
                .hasMessage("an Azure OpenAI endpoint needs a deployment name and an api-version");
        assertThat(catchThrowableOfType(IllegalArgumentException.class, () -> ChatClient.Config.of(
                azureRoute(Optional.of("my-gpt4o"), Optional.of(" ")), Duration.ofMillis(10), MAX_LINE_BYTES, MAX_ANSWER_CHARS)))
                .isNotNull();
    }

    @Test
    void azuresContentFilterIsAnInvalidPromptInTheFiltersWordsAndNotRetried() {
        fake.enqueue(Reply.errorBody(400, """
                {"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management \
                policy. Please modify your prompt and retry.","type":null,"param":"prompt","code":"content_filter","status":400,
                "innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{
                "hate":{"filtered":true,"severity":"medium"},"jailbreak":{"filtered":true,"detected":true},
                "self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},
                "violence":{"filtered":false,"severity":"low"}}}}}
                """), Reply.text("a retry would get this"));

        UpstreamException e = failure(azure(2), request(true), new Cancellation());

        assertThat(e.kind()).isEqualTo(UpstreamException.Kind.INVALID_PROMPT);
        assertThat(e.getMessage()).isEqualTo("The response was filtered due to the prompt triggering Azure OpenAI's content "
                + "management policy. Please modify your prompt and retry. Filtered: hate (medium), jailbreak.");
        assertThat(e.detail()).contains("ResponsibleAIPolicyViolation");
        assertThat(fake.requestCount()).isEqualTo(1);
    }

    @Test
    void anOrdinaryAzureBadRequestKeepsItsWordsInTheLog() {
        fake.enqueue(Reply.errorBody(400, """
                {"error":{"code":"BadRequest","message":"Unsupported value: 'temperature' does not support 0.2 with this model."}}
                """));

        UpstreamException e = failure(azure(0), request(true), new Cancellation());

        assertThat(e.kind()).isEqualTo(UpstreamException.Kind.INVALID_PROMPT);
        assertThat(e.getMessage()).isEqualTo("the model endpoint rejected the prompt (HTTP 400)");
        assertThat(e.detail()).isEqualTo("Unsupported value: 'temperature' does not support 0.2 with this model.");
    }

    @Test
    void theAzureKeyShowsNowhereInAFailure() {
        fake.enqueue(Reply.errorEchoingHeaders(401, "Access denied due to invalid subscription key " + AZURE_KEY + "."),
                Reply.errorBody(400, "{\"error\":{\"code\":\"content_filter\",\"message\":\"filtered; you sent " + AZURE_KEY
                        + "\",\"innererror\":{\"content_filter_result\":{\"" + AZURE_KEY + "\":{\"filtered\":true}}}}}"));

        UpstreamException refused = failure(azure(0), request(true), new Cancellation());
        UpstreamException filtered = failure(azure(0), request(true), new Cancellation());

        assertThat(fake.received().getFirst().header("api-key")).isEqualTo(AZURE_KEY);
        assertThat(refused.getMessage()).isEqualTo("the model endpoint rejected the request (HTTP 401)");
        assertThat(refused.detail()).contains("Access denied due to invalid subscription key [redacted].").contains("Api-key=[[redacted]]");
        assertThat(filtered.getMessage()).isEqualTo("filtered; you sent [redacted] Filtered: [redacted].");
        for (UpstreamException e : List.of(refused, filtered)) {
            assertThat(e.forLog()).doesNotContain(AZURE_KEY).doesNotContain("0123456789");
            assertThat(e.toString()).doesNotContain(AZURE_KEY);
        }
    }

    @Test
    void azuresRetryAfterMsIsHonoured() throws Exception {
        fake.enqueue(Reply.error(429, "Requests to the ChatCompletions_Create Operation have exceeded the rate limit.")
                .withHeader("retry-after-ms", "1200").withHeader("retry-after", "30"), Reply.text("after the wait"));
        long start = System.nanoTime();

        ChatResult result = azure(1).complete(request(true), new Recorder(), new Cancellation());

        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(result.text()).isEqualTo("after the wait");
        assertThat(fake.requestCount()).isEqualTo(2);
        // retry-after-ms wins over retry-after, and over the 10 ms backoff
        assertThat(took).isBetween(Duration.ofMillis(1150), Duration.ofSeconds(5));
    }

    @Test
    void anAnswerStoppedByTheContentFilterEndsWithThatReason() throws Exception {
        fake.enqueue(Reply.contentFiltered("Here is how"));

        ChatResult result = azure(0).complete(request(true), new Recorder(), new Cancellation());

        assertThat(result.text()).isEqualTo("Here is how");
        assertThat(result.finishReason()).isEqualTo("content_filter");
    }

    private ChatClient azure(int retries) {
        ModelRoute route = azureRoute(Optional.of("my-gpt4o"), Optional.of("2024-10-21"));
        ModelRoute withRetries = new ModelRoute(route.name(), route.models(), route.kind(), route.baseUrl(), route.apiKey(),
                route.upstreamModel(), route.apiVersion(), route.contextTokens(), route.maxConcurrent(), route.timeout(),
                retries, route.images(), route.reasoning(), route.developerRole(), route.sampling());
        return track(new ChatClient(ChatClient.Config.of(withRetries, Duration.ofMillis(10), MAX_LINE_BYTES, MAX_ANSWER_CHARS)));
    }

    /** An Azure route on the fake: its base is the resource's root, not {@code /v1}. */
    private ModelRoute azureRoute(Optional<String> deployment, Optional<String> apiVersion) {
        return new ModelRoute("azure-east", List.of("gpt-4o"), ModelRoute.Kind.AZURE, URI.create(fake.baseUrl()).resolve("/"),
                Optional.of(AZURE_KEY), deployment, apiVersion, 128_000, 0, Duration.ofSeconds(30), 0,
                ModelRoute.Images.ACCEPT, Optional.empty(), false, true);
    }

    // ----- helpers -----------------------------------------------------------------------------------------------

    /** A Chat Completions request like the engine's, streamed or not. */
    private static ObjectNode request(boolean stream) {
        ObjectNode body = Json.object().put("model", "gpt-test").put("stream", stream);
        if (stream) {
            body.putObject("stream_options").put("include_usage", true);
        }
        body.putArray("messages").addObject().put("role", "user").put("content", "Hi");
        return body;
    }

    private ChatClient client(int retries) {
        return client(retries, Duration.ofMillis(10), Duration.ofSeconds(30));
    }

    private ChatClient client(int retries, Duration retryBase, Duration idleTimeout) {
        return track(new ChatClient(new ChatClient.Config(URI.create(fake.baseUrl()), Optional.empty(), idleTimeout, retries, retryBase,
                MAX_LINE_BYTES, MAX_ANSWER_CHARS)));
    }

    private ChatClient client(int retries, int maxLineBytes, int maxAnswerChars) {
        return track(new ChatClient(new ChatClient.Config(URI.create(fake.baseUrl()), Optional.empty(), Duration.ofSeconds(30),
                retries, Duration.ofMillis(10), maxLineBytes, maxAnswerChars)));
    }

    private ChatClient track(ChatClient client) {
        clients.add(client);
        return client;
    }

    private static UpstreamException failure(ChatClient client, ObjectNode body, Cancellation cancellation) {
        return failure(client, body, new Recorder(), cancellation);
    }

    private static UpstreamException failure(ChatClient client, ObjectNode body, ChatListener listener) {
        return failure(client, body, listener, new Cancellation());
    }

    private static UpstreamException failure(ChatClient client, ObjectNode body, ChatListener listener, Cancellation cancellation) {
        UpstreamException e = catchThrowableOfType(UpstreamException.class, () -> client.complete(body, listener, cancellation));
        assertThat(e).as("the call failed with an UpstreamException").isNotNull();
        return e;
    }

    /** Records every listener call, in order, as {@code text:…}, {@code start:i:name}, {@code args:i:…}. */
    private static class Recorder implements ChatListener {
        final List<String> events = new ArrayList<>();
        final List<String> started = new ArrayList<>();

        @Override
        public void text(String delta) {
            events.add("text:" + delta);
        }

        @Override
        public void toolCallStarted(int index, String name) {
            events.add("start:" + index + ":" + name);
            started.add(index + ":" + name);
        }

        @Override
        public void toolCallArguments(int index, String delta) {
            events.add("args:" + index + ":" + delta);
        }

        String text() {
            StringBuilder out = new StringBuilder();
            events.stream().filter(e -> e.startsWith("text:")).forEach(e -> out.append(e.substring(5)));
            return out.toString();
        }

        String arguments(int index) {
            String prefix = "args:" + index + ":";
            StringBuilder out = new StringBuilder();
            events.stream().filter(e -> e.startsWith(prefix)).forEach(e -> out.append(e.substring(prefix.length())));
            return out.toString();
        }
    }
}
