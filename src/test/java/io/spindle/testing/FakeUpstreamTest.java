package io.spindle.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindle.testing.FakeUpstream.Received;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.FakeUpstream.ToolCall;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The fake upstream, driven over real HTTP by the JDK client, as the engine will drive it. */
class FakeUpstreamTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final FakeUpstream fake = FakeUpstream.start();
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @AfterEach
    void tearDown() {
        fake.close();
        client.close();
    }

    // ----- text --------------------------------------------------------------------------------------------------

    @Test
    void textStreamsSmallChunksThenFinishThenUsageThenDone() throws Exception {
        fake.enqueue(Reply.text("Hello, world!"));

        Sse sse = stream(request("hi", true, true));

        assertThat(sse.status()).isEqualTo(200);
        assertThat(sse.contentType()).isEqualTo("text/event-stream");
        assertThat(sse.chunks()).allSatisfy(chunk -> {
            assertThat(chunk.path("object").asText()).isEqualTo("chat.completion.chunk");
            assertThat(chunk.path("model").asText()).isEqualTo("gpt-test");
            assertThat(chunk.path("created").isIntegralNumber()).isTrue();
            assertThat(chunk.path("id").asText()).startsWith("chatcmpl-");
        });
        assertThat(sse.chunks().stream().map(c -> c.path("id").asText()).distinct()).hasSize(1);
        List<JsonNode> content = sse.contentChunks();
        assertThat(content).hasSize(5);
        assertThat(content).allSatisfy(c -> assertThat(c.path("choices").get(0).path("finish_reason").isNull()).isTrue());
        assertThat(content.stream().map(c -> delta(c).path("content").asText()))
                .containsExactly("Hel", "lo,", " wo", "rld", "!");
        assertThat(delta(content.get(0)).path("role").asText()).isEqualTo("assistant");
        assertThat(content.subList(1, 5)).noneMatch(c -> delta(c).has("role"));
        assertThat(sse.text()).isEqualTo("Hello, world!");
        assertThat(sse.finishReason()).isEqualTo("stop");
        JsonNode last = sse.chunks().getLast();
        assertThat(last.path("choices").isArray()).isTrue();
        assertThat(last.path("choices")).isEmpty();
        assertThat(last.path("usage")).isEqualTo(JSON.readTree(
                "{\"prompt_tokens\":10,\"completion_tokens\":5,\"total_tokens\":15}"));
        assertThat(sse.data().getLast()).isEqualTo("[DONE]");
    }

    @Test
    void framingIsExactlyDataLinesSeparatedByBlankLines() throws Exception {
        fake.enqueue(Reply.text("framing check"));

        Sse sse = stream(request("hi", true, true));

        assertThat(sse.raw()).endsWith("\n\n");
        String[] frames = sse.raw().substring(0, sse.raw().length() - 2).split("\n\n", -1);
        assertThat(frames).hasSize(sse.data().size()).allSatisfy(frame -> {
            assertThat(frame).startsWith("data: ");
            assertThat(frame).doesNotContain("\n").doesNotContain("\r");
        });
        // 5 text pieces, the finish chunk, the usage chunk, [DONE]
        assertThat(frames).hasSize(8);
    }

    @Test
    void usageIsSentOnlyWhenAskedAndCanBeSetOrWithheld() throws Exception {
        fake.enqueue(Reply.text("abc"), Reply.text("abc").withUsage(123, 45), Reply.text("abc").withoutUsage());

        Sse notAsked = stream(request("hi", true, false));
        Sse set = stream(request("hi", true, true));
        Sse withheld = stream(request("hi", true, true));

        assertThat(notAsked.chunks()).noneMatch(c -> c.has("usage"));
        assertThat(notAsked.chunks().getLast().path("choices").get(0).path("finish_reason").asText()).isEqualTo("stop");
        assertThat(set.chunks().getLast().path("usage")).isEqualTo(JSON.readTree(
                "{\"prompt_tokens\":123,\"completion_tokens\":45,\"total_tokens\":168}"));
        assertThat(set.chunks().subList(0, set.chunks().size() - 1))
                .allSatisfy(c -> assertThat(c.path("usage").isNull()).isTrue());
        assertThat(withheld.chunks()).noneMatch(c -> c.has("usage"));
        assertThat(withheld.text()).isEqualTo("abc");
        assertThat(withheld.data().getLast()).isEqualTo("[DONE]");
    }

    @Test
    void lengthCutoffFinishesWithLength() throws Exception {
        fake.enqueue(Reply.lengthCutoff("The answer is cut"));

        Sse sse = stream(request("hi", true, true));

        assertThat(sse.text()).isEqualTo("The answer is cut");
        assertThat(sse.finishReason()).isEqualTo("length");
    }

    @Test
    void textSplitsOnCodePointsNotSurrogates() throws Exception {
        String text = "a😀b😀cd";
        fake.enqueue(Reply.text(text));

        Sse sse = stream(request("hi", true, false));

        assertThat(sse.text()).isEqualTo(text);
        assertThat(sse.contentChunks().stream().map(c -> delta(c).path("content").asText()))
                .containsExactly("a😀b", "😀cd");
    }

    // ----- tool calls --------------------------------------------------------------------------------------------

    @Test
    void toolCallsStreamHeadThenArgumentPiecesPerIndex() throws Exception {
        fake.enqueue(Reply.toolCalls(
                new ToolCall("call_1", "get_weather", "{\"city\":\"Paris\"}"),
                new ToolCall("call_2", "get_time", "{\"zone\":\"CET\"}")));

        Sse sse = stream(request("hi", true, true));

        assertThat(sse.finishReason()).isEqualTo("tool_calls");
        assertThat(sse.toolCalls()).containsExactly(
                new ToolCall("call_1", "get_weather", "{\"city\":\"Paris\"}"),
                new ToolCall("call_2", "get_time", "{\"zone\":\"CET\"}"));
        List<JsonNode> entries = sse.contentChunks().stream().map(c -> delta(c).path("tool_calls").get(0)).toList();
        JsonNode head = entries.get(0);
        assertThat(head.path("index").asInt()).isZero();
        assertThat(head.path("id").asText()).isEqualTo("call_1");
        assertThat(head.path("type").asText()).isEqualTo("function");
        assertThat(head.path("function").path("name").asText()).isEqualTo("get_weather");
        assertThat(head.path("function").path("arguments").asText()).isEmpty();
        JsonNode firstDelta = delta(sse.contentChunks().get(0));
        assertThat(firstDelta.path("role").asText()).isEqualTo("assistant");
        assertThat(firstDelta.has("content") && firstDelta.get("content").isNull()).isTrue();
        JsonNode piece = entries.get(1);
        assertThat(piece.has("id")).isFalse();
        assertThat(piece.path("function").has("name")).isFalse();
        assertThat(piece.path("function").path("arguments").asText()).isEqualTo("{\"c");
        // call_1: head + 6 pieces of 16 chars; call_2: head + 5 pieces of 15 chars
        assertThat(entries.stream().map(e -> e.path("index").asInt()))
                .containsExactly(0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1);
        assertThat(sse.chunks().getLast().path("usage").path("completion_tokens").asInt()).isEqualTo(13);
    }

    @Test
    void textThenToolCallsStreamsTheTextFirst() throws Exception {
        fake.enqueue(Reply.textThenToolCalls("Let me look.", new ToolCall("call_9", "lookup", "{}")));

        Sse sse = stream(request("hi", true, false));

        assertThat(sse.text()).isEqualTo("Let me look.");
        assertThat(sse.toolCalls()).containsExactly(new ToolCall("call_9", "lookup", "{}"));
        assertThat(sse.finishReason()).isEqualTo("tool_calls");
        List<JsonNode> content = sse.contentChunks();
        assertThat(delta(content.get(0)).path("content").asText()).isEqualTo("Let");
        assertThat(delta(content.get(4)).has("tool_calls")).isTrue();
        assertThat(content.subList(0, 4)).noneMatch(c -> delta(c).has("tool_calls"));
    }

    // ----- stream: false -----------------------------------------------------------------------------------------

    @Test
    void unstreamedRequestsGetOneChatCompletion() throws Exception {
        fake.enqueue(Reply.text("Hello, world!"),
                Reply.textThenToolCalls("Checking.", new ToolCall("call_1", "f", "{\"a\":1}")),
                Reply.text("quiet").withoutUsage());

        HttpResponse<String> text = post(request("hi", false, false));
        HttpResponse<String> calls = post(request("hi", false, false));
        HttpResponse<String> noUsage = post(request("hi", false, false));

        assertThat(text.statusCode()).isEqualTo(200);
        assertThat(text.headers().firstValue("content-type")).hasValue("application/json");
        JsonNode completion = JSON.readTree(text.body());
        assertThat(completion.path("object").asText()).isEqualTo("chat.completion");
        assertThat(completion.path("id").asText()).startsWith("chatcmpl-");
        assertThat(completion.path("model").asText()).isEqualTo("gpt-test");
        JsonNode choice = completion.path("choices").get(0);
        assertThat(choice.path("message").path("role").asText()).isEqualTo("assistant");
        assertThat(choice.path("message").path("content").asText()).isEqualTo("Hello, world!");
        assertThat(choice.path("message").has("tool_calls")).isFalse();
        assertThat(choice.path("finish_reason").asText()).isEqualTo("stop");
        assertThat(completion.path("usage")).isEqualTo(JSON.readTree(
                "{\"prompt_tokens\":10,\"completion_tokens\":5,\"total_tokens\":15}"));

        JsonNode message = JSON.readTree(calls.body()).path("choices").get(0).path("message");
        assertThat(message.path("content").asText()).isEqualTo("Checking.");
        assertThat(message.path("tool_calls")).isEqualTo(JSON.readTree(
                "[{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\":1}\"}}]"));
        assertThat(JSON.readTree(calls.body()).path("choices").get(0).path("finish_reason").asText())
                .isEqualTo("tool_calls");

        assertThat(JSON.readTree(noUsage.body()).has("usage")).isFalse();
    }

    @Test
    void unstreamedToolCallsHaveNullContent() throws Exception {
        fake.enqueue(Reply.toolCalls(new ToolCall("call_1", "f", "{}")));

        JsonNode message = JSON.readTree(post(request("hi", false, false)).body()).path("choices").get(0).path("message");

        assertThat(message.has("content") && message.get("content").isNull()).isTrue();
        assertThat(message.path("tool_calls").get(0).path("id").asText()).isEqualTo("call_1");
    }

    // ----- errors and broken answers -----------------------------------------------------------------------------

    @Test
    void errorsAreJsonWithTheirStatusAndOptionalRetryAfter() throws Exception {
        fake.enqueue(Reply.error(429, "Rate limit reached").withRetryAfter(7),
                Reply.error(500, "The server had an error"),
                Reply.error(400, "Invalid 'messages'"));

        HttpResponse<String> limited = post(request("hi", true, true));
        HttpResponse<String> failed = post(request("hi", true, true));
        HttpResponse<String> invalid = post(request("hi", false, false));

        assertThat(limited.statusCode()).isEqualTo(429);
        assertThat(limited.headers().firstValue("retry-after")).hasValue("7");
        assertThat(limited.headers().firstValue("content-type")).hasValue("application/json");
        assertThat(JSON.readTree(limited.body())).isEqualTo(JSON.readTree(
                "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\",\"param\":null,"
                        + "\"code\":\"rate_limit_exceeded\"}}"));
        assertThat(failed.statusCode()).isEqualTo(500);
        assertThat(failed.headers().firstValue("retry-after")).isEmpty();
        assertThat(JSON.readTree(failed.body()).path("error").path("type").asText()).isEqualTo("server_error");
        assertThat(JSON.readTree(failed.body()).path("error").path("message").asText()).isEqualTo("The server had an error");
        assertThat(invalid.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(invalid.body()).path("error").path("type").asText()).isEqualTo("invalid_request_error");
    }

    @Test
    void malformedSendsADataLineThatIsNotJson() throws Exception {
        fake.enqueue(Reply.malformed(), Reply.malformed());

        Sse sse = stream(request("hi", true, true));
        HttpResponse<String> unstreamed = post(request("hi", false, false));

        assertThat(sse.status()).isEqualTo(200);
        assertThat(sse.contentType()).isEqualTo("text/event-stream");
        assertThat(sse.data()).hasSize(2);
        assertThat(sse.data().getLast()).isEqualTo("[DONE]");
        assertThatThrownBy(() -> JSON.readTree(sse.data().getFirst())).isInstanceOf(JsonProcessingException.class);
        assertThat(unstreamed.statusCode()).isEqualTo(200);
        assertThatThrownBy(() -> JSON.readTree(unstreamed.body())).isInstanceOf(JsonProcessingException.class);
    }

    @Test
    void resetDropsTheConnectionAfterOneChunk() throws Exception {
        fake.enqueue(Reply.reset(), Reply.reset());

        Collector collector = new Collector();
        AtomicInteger status = new AtomicInteger();
        assertThatThrownBy(() -> client.send(httpRequest(request("hi", true, true)), info -> {
            status.set(info.statusCode());
            return HttpResponse.BodySubscribers.fromSubscriber(collector);
        })).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> post(request("hi", false, false))).isInstanceOf(IOException.class);

        assertThat(status.get()).isEqualTo(200);
        assertThat(collector.end.get()).isInstanceOf(IOException.class);
        Sse partial = new Sse(200, "text/event-stream", collector.text(), collector.text().lines()
                .filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList());
        assertThat(partial.raw()).endsWith("\n\n");
        assertThat(partial.data()).hasSize(1);
        assertThat(partial.text()).isEqualTo("Hel");
        assertThat(fake.abortedStreams()).isZero();
        assertThat(stream(request("still there?", true, true)).text()).isEqualTo("ok");
    }

    @Test
    void thenResetDropsTheConnectionAfterTheContent() throws Exception {
        fake.enqueue(Reply.textThenToolCalls("Partial", new ToolCall("call_1", "f", "{\"x\":1}"))
                .thenReset().withChunkDelay(Duration.ofMillis(10)));

        Collector collector = new Collector();
        assertThatThrownBy(() -> client.send(httpRequest(request("hi", true, true)),
                info -> HttpResponse.BodySubscribers.fromSubscriber(collector))).isInstanceOf(IOException.class);

        Sse partial = new Sse(200, "text/event-stream", collector.text(), collector.text().lines()
                .filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList());
        assertThat(partial.text()).isEqualTo("Partial");
        assertThat(partial.toolCalls()).containsExactly(new ToolCall("call_1", "f", "{\"x\":1}"));
        assertThat(partial.chunks()).noneMatch(c -> c.path("choices").path(0).hasNonNull("finish_reason"));
        assertThat(partial.data()).doesNotContain("[DONE]");
    }

    // ----- timing ------------------------------------------------------------------------------------------------

    @Test
    void delayHoldsBackTheHeaders() throws Exception {
        fake.enqueue(Reply.text("warm-up"), Reply.text("late").withDelay(Duration.ofMillis(400)));
        assertThat(stream(request("warm up the client", true, false)).text()).isEqualTo("warm-up");

        long start = System.nanoTime();
        HttpResponse<InputStream> response = client.send(httpRequest(request("hi", true, false)), BodyHandlers.ofInputStream());
        long headersAfter = System.nanoTime() - start;
        response.body().close();

        assertThat(Duration.ofNanos(headersAfter)).isGreaterThanOrEqualTo(Duration.ofMillis(400));
    }

    @Test
    void chunkDelaySpacesTheEvents() throws Exception {
        fake.enqueue(Reply.text("abcdefghi").withChunkDelay(Duration.ofMillis(150)));

        HttpResponse<InputStream> response = client.send(httpRequest(request("hi", true, false)), BodyHandlers.ofInputStream());
        List<Long> arrivals = new ArrayList<>();
        List<String> data = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                if (line.startsWith("data: ")) {
                    arrivals.add(System.nanoTime());
                    data.add(line);
                }
            }
        }

        // 3 text pieces, finish, [DONE]: four gaps of 150 ms
        assertThat(data).hasSize(5);
        for (int i = 1; i < arrivals.size(); i++) {
            assertThat(Duration.ofNanos(arrivals.get(i) - arrivals.get(i - 1))).isGreaterThan(Duration.ofMillis(100));
        }
        assertThat(Duration.ofNanos(arrivals.getLast() - arrivals.getFirst())).isGreaterThanOrEqualTo(Duration.ofMillis(580));
    }

    // ----- hanging and aborts ------------------------------------------------------------------------------------

    @Test
    void hangSendsNothingUntilTheClientAbortsAndCountsTheAbort() throws Exception {
        fake.enqueue(Reply.hang());

        CompletableFuture<HttpResponse<String>> call = client.sendAsync(httpRequest(request("hi", true, true)),
                BodyHandlers.ofString());
        assertThat(fake.awaitRequests(1, Duration.ofSeconds(5))).isTrue();
        Thread.sleep(300);
        assertThat(call).isNotDone();
        assertThat(fake.abortedStreams()).isZero();

        call.cancel(true);

        assertThat(fake.awaitAbortedStreams(1, Duration.ofSeconds(5))).isTrue();
        assertThat(fake.abortedStreams()).isEqualTo(1);
        assertThat(stream(request("next", true, true)).text()).isEqualTo("ok");
    }

    @Test
    void hangEndsWhenTheClientTimesOut() throws Exception {
        fake.enqueue(Reply.hang());
        HttpRequest request = HttpRequest.newBuilder(URI.create(fake.baseUrl() + "/chat/completions"))
                .timeout(Duration.ofMillis(300))
                .POST(HttpRequest.BodyPublishers.ofString(request("hi", true, true).toString())).build();

        assertThatThrownBy(() -> client.send(request, BodyHandlers.ofString()))
                .isInstanceOf(java.net.http.HttpTimeoutException.class);

        assertThat(fake.awaitAbortedStreams(1, Duration.ofSeconds(5))).isTrue();
    }

    @Test
    void thenHangStreamsTheContentAndCountsTheAbortWhenTheClientLeaves() throws Exception {
        fake.enqueue(Reply.text("Hello").thenHang());

        HttpResponse<InputStream> response = client.send(httpRequest(request("hi", true, true)), BodyHandlers.ofInputStream());
        BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8));
        StringBuilder text = new StringBuilder();
        while (text.length() < 5) {
            String line = reader.readLine();
            assertThat(line).isNotNull();
            if (line.startsWith("data: ")) {
                JsonNode chunk = JSON.readTree(line.substring(6));
                assertThat(chunk.path("choices").get(0).path("finish_reason").isNull()).isTrue();
                text.append(delta(chunk).path("content").asText());
            }
        }
        assertThat(text).hasToString("Hello");
        Thread.sleep(200);
        assertThat(fake.abortedStreams()).isZero();

        reader.close();

        assertThat(fake.awaitAbortedStreams(1, Duration.ofSeconds(5))).isTrue();
    }

    @Test
    void thenHangAfterFinishSendsFinishAndUsageButNeitherDoneNorTheEnd() throws Exception {
        fake.enqueue(Reply.text("Bye").withUsage(3, 1).thenHangAfterFinish());

        HttpResponse<InputStream> response = client.send(httpRequest(request("hi", true, true)), BodyHandlers.ofInputStream());
        BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8));
        List<JsonNode> chunks = new ArrayList<>();
        while (chunks.isEmpty() || !chunks.getLast().has("usage") || chunks.getLast().path("usage").isNull()) {
            String line = reader.readLine();
            assertThat(line).isNotNull().isNotEqualTo("data: [DONE]");
            if (line.startsWith("data: ")) {
                chunks.add(JSON.readTree(line.substring(6)));
            }
        }
        assertThat(chunks.stream().map(c -> c.path("choices").path(0).path("finish_reason").asText(""))).contains("stop");
        assertThat(chunks.getLast().path("usage").path("completion_tokens").asInt()).isEqualTo(1);
        Thread.sleep(300);
        assertThat(response.body().available()).as("nothing after the usage").isZero();

        reader.close();

        assertThat(fake.awaitAbortedStreams(1, Duration.ofSeconds(5))).isTrue();
    }

    @Test
    void endlessLineSendsOneLineUntilTheClientLeaves() throws Exception {
        fake.enqueue(Reply.endlessLine());

        HttpResponse<InputStream> response = client.send(httpRequest(request("hi", true, true)), BodyHandlers.ofInputStream());
        byte[] first = response.body().readNBytes(1024 * 1024);

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(new String(first, 0, 6, StandardCharsets.UTF_8)).isEqualTo("data: ");
        assertThat(first).hasSize(1024 * 1024).doesNotContain((byte) '\n');
        response.body().close();
        assertThat(fake.awaitAbortedStreams(1, Duration.ofSeconds(5))).isTrue();
    }

    @Test
    void pieceSizeSetsHowMuchTextEachChunkCarries() throws Exception {
        fake.enqueue(Reply.text("abcdefghij").withPieceSize(4));

        Sse sse = stream(request("hi", true, false));

        assertThat(sse.contentChunks().stream().map(c -> delta(c).path("content").asText())).containsExactly("abcd", "efgh", "ij");
    }

    @Test
    void streamedErrorIsAnErrorObjectInsideA200Stream() throws Exception {
        fake.enqueue(Reply.streamedError("overloaded"));

        Sse sse = stream(request("hi", true, true));

        assertThat(sse.status()).isEqualTo(200);
        assertThat(sse.data()).hasSize(1);
        assertThat(JSON.readTree(sse.data().getFirst()).path("error").path("message").asText()).isEqualTo("overloaded");
    }

    @Test
    void errorEchoingHeadersAppendsTheRequestHeaders() throws Exception {
        fake.enqueue(Reply.errorEchoingHeaders(401, "Bad key."));

        HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create(fake.baseUrl() + "/chat/completions"))
                .header("Authorization", "Bearer sk-echo-me").POST(HttpRequest.BodyPublishers.ofString(request("hi", true, true)
                        .toString())).build(), BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(JSON.readTree(response.body()).path("error").path("message").asText())
                .startsWith("Bad key. Request headers: ").contains("Bearer sk-echo-me");
    }

    @Test
    void openConnectionsCountsTheClientsConnections() throws Exception {
        fake.enqueue(Reply.text("held").thenHang(), Reply.text("held too").thenHang());
        int before = fake.openConnections();
        HttpClient other = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpResponse<InputStream> one = client.send(httpRequest(request("hi", true, true)), BodyHandlers.ofInputStream());
        HttpResponse<InputStream> two = other.send(httpRequest(request("hi", true, true)), BodyHandlers.ofInputStream());

        assertThat(before).isNotNegative();
        assertThat(fake.openConnections()).isEqualTo(before + 2);

        one.body().close();
        two.body().close();
        other.close();
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (fake.openConnections() > before && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(fake.openConnections()).isEqualTo(before);
    }

    @Test
    void abortMidStreamIsCountedWhenTheNextChunkCannotBeWritten() throws Exception {
        fake.enqueue(Reply.text("a long answer that takes a while").withChunkDelay(Duration.ofMillis(50)));

        HttpResponse<InputStream> response = client.send(httpRequest(request("hi", true, true)), BodyHandlers.ofInputStream());
        BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8));
        assertThat(reader.readLine()).startsWith("data: ");
        reader.close();

        assertThat(fake.awaitAbortedStreams(1, Duration.ofSeconds(5))).isTrue();
    }

    @Test
    void closeEndsHangingAnswersPromptlyWithoutCountingAborts() throws Exception {
        fake.enqueue(Reply.hang(), Reply.text("slow").withDelay(Duration.ofMinutes(5)));
        CompletableFuture<HttpResponse<String>> hanging = client.sendAsync(httpRequest(request("a", true, true)),
                BodyHandlers.ofString());
        CompletableFuture<HttpResponse<String>> slow = client.sendAsync(httpRequest(request("b", true, true)),
                BodyHandlers.ofString());
        assertThat(fake.awaitRequests(2, Duration.ofSeconds(5))).isTrue();

        long start = System.nanoTime();
        fake.close();

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
        for (CompletableFuture<HttpResponse<String>> call : List.of(hanging, slow)) {
            assertThatThrownBy(() -> call.get()).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(IOException.class);
        }
        assertThat(fake.abortedStreams()).isZero();
    }

    // ----- scripting and recording -------------------------------------------------------------------------------

    @Test
    void repliesAreTakenInOrderThenTheResponderAnswers() throws Exception {
        fake.enqueue(Reply.text("first"), Reply.text("second"));

        assertThat(stream(request("1", true, true)).text()).isEqualTo("first");
        assertThat(stream(request("2", true, true)).text()).isEqualTo("second");
        assertThat(stream(request("3", true, true)).text()).isEqualTo("ok");
        fake.respondWith(body -> Reply.text("echo " + lastUserMessage(body)));
        assertThat(stream(request("4", true, true)).text()).isEqualTo("echo 4");
        fake.enqueue(Reply.text("scripted again"));
        assertThat(stream(request("5", true, true)).text()).isEqualTo("scripted again");
    }

    @Test
    void requestsAndHeadersAreRecordedInArrivalOrder() throws Exception {
        assertThat(fake.requestCount()).isZero();
        assertThatThrownBy(fake::lastRequest).isInstanceOf(AssertionError.class);

        HttpRequest first = HttpRequest.newBuilder(URI.create(fake.baseUrl() + "/chat/completions"))
                .header("Authorization", "Bearer sk-upstream").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(request("one", true, true).toString())).build();
        client.send(first, BodyHandlers.ofString());
        post(request("two", false, false));

        assertThat(fake.requestCount()).isEqualTo(2);
        assertThat(fake.requests().stream().map(FakeUpstreamTest::lastUserMessage)).containsExactly("one", "two");
        assertThat(fake.lastRequest()).isEqualTo(request("two", false, false));
        List<Received> received = fake.received();
        assertThat(received.get(0).header("authorization")).isEqualTo("Bearer sk-upstream");
        assertThat(received.get(0).headers().get("AUTHORIZATION")).containsExactly("Bearer sk-upstream");
        assertThat(received.get(0).header("content-type")).isEqualTo("application/json");
        assertThat(received.get(1).header("Authorization")).isNull();
        assertThat(received.get(0).body().path("stream_options").path("include_usage").asBoolean()).isTrue();
    }

    @Test
    void awaitRequestsWaitsForArrivalsAndTimesOut() throws Exception {
        assertThat(fake.awaitRequests(1, Duration.ofMillis(100))).isFalse();
        CompletableFuture<HttpResponse<String>> later = CompletableFuture.supplyAsync(() -> {
            try {
                Thread.sleep(200);
                return post(request("late", false, false));
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });

        assertThat(fake.awaitRequests(1, Duration.ofSeconds(5))).isTrue();
        assertThat(later.get().statusCode()).isEqualTo(200);
        assertThat(fake.awaitRequests(2, Duration.ofMillis(100))).isFalse();
        assertThat(fake.awaitAbortedStreams(1, Duration.ofMillis(100))).isFalse();
    }

    @Test
    void otherPathsAndBadBodiesAreRejected() throws Exception {
        HttpResponse<String> models = client.send(HttpRequest.newBuilder(URI.create(fake.baseUrl() + "/models")).build(),
                BodyHandlers.ofString());
        HttpResponse<String> notJson = client.send(HttpRequest.newBuilder(URI.create(fake.baseUrl() + "/chat/completions"))
                .POST(HttpRequest.BodyPublishers.ofString("not json")).build(), BodyHandlers.ofString());

        assertThat(models.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(models.body()).path("error").path("message").asText()).contains("…/chat/completions");
        assertThat(notJson.statusCode()).isEqualTo(400);
        assertThat(fake.requestCount()).isEqualTo(1);
        assertThat(fake.lastRequest().asText()).isEqualTo("not json");
    }

    @Test
    void aFailingResponderAnswers500() throws Exception {
        fake.respondWith(body -> {
            throw new IllegalStateException("no answer for " + lastUserMessage(body));
        });

        HttpResponse<String> response = post(request("boom", true, true));

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(JSON.readTree(response.body()).path("error").path("message").asText()).contains("no answer for boom");
    }

    @Test
    void fiftyConcurrentStreamsEachGetTheirOwnAnswer() throws Exception {
        int n = 50;
        fake.respondWith(body -> Reply.text("answer to " + lastUserMessage(body)).withChunkDelay(Duration.ofMillis(100)));

        long start = System.nanoTime();
        List<CompletableFuture<HttpResponse<String>>> calls = IntStream.range(0, n)
                .mapToObj(i -> client.sendAsync(httpRequest(request("question " + i, true, true)), BodyHandlers.ofString()))
                .toList();
        List<Sse> answers = new ArrayList<>();
        for (CompletableFuture<HttpResponse<String>> call : calls) {
            answers.add(Sse.of(call.get()));
        }
        Duration elapsed = Duration.ofNanos(System.nanoTime() - start);

        for (int i = 0; i < n; i++) {
            assertThat(answers.get(i).text()).isEqualTo("answer to question " + i);
            assertThat(answers.get(i).finishReason()).isEqualTo("stop");
            assertThat(answers.get(i).data().getLast()).isEqualTo("[DONE]");
        }
        // each answer takes about 1 s (10 events 100 ms apart): one after another would take 50 s
        assertThat(elapsed).isLessThan(Duration.ofSeconds(6));
        assertThat(fake.requestCount()).isEqualTo(n);
        Set<String> asked = new HashSet<>();
        fake.requests().forEach(body -> asked.add(lastUserMessage(body)));
        assertThat(asked).hasSize(n);
        assertThat(fake.abortedStreams()).isZero();
    }

    // ----- client side helpers -----------------------------------------------------------------------------------

    private static ObjectNode request(String userMessage, boolean stream, boolean includeUsage) {
        ObjectNode body = JSON.createObjectNode().put("model", "gpt-test").put("stream", stream);
        if (includeUsage) {
            body.putObject("stream_options").put("include_usage", true);
        }
        body.putArray("messages").addObject().put("role", "user").put("content", userMessage);
        return body;
    }

    private static String lastUserMessage(JsonNode body) {
        JsonNode messages = body.path("messages");
        return messages.get(messages.size() - 1).path("content").asText();
    }

    private HttpRequest httpRequest(JsonNode body) {
        return HttpRequest.newBuilder(URI.create(fake.baseUrl() + "/chat/completions"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build();
    }

    private HttpResponse<String> post(JsonNode body) throws IOException, InterruptedException {
        return client.send(httpRequest(body), BodyHandlers.ofString());
    }

    private Sse stream(JsonNode body) throws IOException, InterruptedException {
        return Sse.of(post(body));
    }

    private static JsonNode delta(JsonNode chunk) {
        return chunk.path("choices").path(0).path("delta");
    }

    /** Collects a body as it arrives, keeping what came before a failure (which ofInputStream may not hand out). */
    private static final class Collector implements Flow.Subscriber<List<ByteBuffer>> {
        final CompletableFuture<Throwable> end = new CompletableFuture<>();
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            subscription.request(Long.MAX_VALUE);
        }

        @Override
        public synchronized void onNext(List<ByteBuffer> buffers) {
            for (ByteBuffer buffer : buffers) {
                byte[] part = new byte[buffer.remaining()];
                buffer.get(part);
                bytes.writeBytes(part);
            }
        }

        @Override
        public void onError(Throwable failure) {
            end.complete(failure);
        }

        @Override
        public void onComplete() {
            end.complete(null);
        }

        synchronized String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }

    /** A whole streamed answer, parsed as a client would. */
    private record Sse(int status, String contentType, String raw, List<String> data) {
        static Sse of(HttpResponse<String> response) {
            List<String> data = response.body().lines().filter(l -> l.startsWith("data: "))
                    .map(l -> l.substring("data: ".length())).toList();
            return new Sse(response.statusCode(), response.headers().firstValue("content-type").orElse(null),
                    response.body(), data);
        }

        /** Every event but [DONE], parsed. */
        List<JsonNode> chunks() {
            return data.stream().filter(d -> !d.equals("[DONE]")).map(d -> {
                try {
                    return JSON.readTree(d);
                } catch (IOException e) {
                    throw new AssertionError("not JSON: " + d, e);
                }
            }).toList();
        }

        /** The chunks with content or tool calls in their delta. */
        List<JsonNode> contentChunks() {
            return chunks().stream().filter(c -> delta(c).has("content") || delta(c).has("tool_calls")).toList();
        }

        String text() {
            StringBuilder text = new StringBuilder();
            chunks().forEach(c -> text.append(delta(c).path("content").asText("")));
            return text.toString();
        }

        String finishReason() {
            List<String> reasons = chunks().stream().map(c -> c.path("choices").path(0).path("finish_reason"))
                    .filter(r -> !r.isMissingNode() && !r.isNull()).map(JsonNode::asText).toList();
            assertThat(reasons).hasSize(1);
            return reasons.getFirst();
        }

        /** The tool calls, put together from their deltas by index. */
        List<ToolCall> toolCalls() {
            Map<Integer, String[]> calls = new LinkedHashMap<>();
            for (JsonNode chunk : chunks()) {
                for (JsonNode entry : delta(chunk).path("tool_calls")) {
                    String[] call = calls.computeIfAbsent(entry.path("index").asInt(), i -> new String[] {null, null, ""});
                    if (entry.has("id")) {
                        call[0] = entry.get("id").asText();
                    }
                    if (entry.path("function").has("name")) {
                        call[1] = entry.path("function").get("name").asText();
                    }
                    call[2] += entry.path("function").path("arguments").asText("");
                }
            }
            return calls.values().stream().map(c -> new ToolCall(c[0], c[1], c[2])).toList();
        }
    }
}
