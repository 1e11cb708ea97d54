package io.spindle.http;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spindle.testing.Api;
import io.spindle.testing.FakeUpstream;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.FakeUpstream.ToolCall;
import io.spindle.testing.SseEvents;
import io.spindle.testing.StreamReplay;
import io.spindle.testing.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Streams on the wire, read with plain HTTP clients: OpenAI's exact SSE framing (behaviour dossier
 * §7.1, the recorded streams), validation errors still answered as JSON, and how a stream behaves
 * when its client cancels the run, goes away, or reads slowly: the run never depends on its reader.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class StreamingWireTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    /** The keys of the objects in the live recordings (run-streaming-text.json, run-streaming-tool-call.json). */
    private static final Set<String> RUN_KEYS = Set.of("id", "object", "created_at", "assistant_id", "thread_id", "status",
            "started_at", "expires_at", "cancelled_at", "failed_at", "completed_at", "required_action", "last_error", "model",
            "instructions", "tools", "tool_resources", "metadata", "temperature", "top_p", "reasoning_effort",
            "max_completion_tokens", "max_prompt_tokens", "truncation_strategy", "incomplete_details", "usage",
            "response_format", "tool_choice", "parallel_tool_calls");
    private static final Set<String> STEP_KEYS = Set.of("id", "object", "created_at", "run_id", "assistant_id", "thread_id",
            "type", "status", "cancelled_at", "completed_at", "expires_at", "failed_at", "last_error", "step_details", "usage");
    private static final Set<String> MESSAGE_KEYS = Set.of("id", "object", "created_at", "assistant_id", "thread_id", "run_id",
            "status", "incomplete_details", "incomplete_at", "completed_at", "role", "content", "attachments", "metadata");
    private static final Set<String> THREAD_KEYS = Set.of("id", "object", "created_at", "metadata", "tool_resources");

    private static FakeUpstream fake;
    private static TestServer server;
    private static Api api;

    @BeforeAll
    static void start() {
        fake = FakeUpstream.start();
        server = TestServer.start(TestServer.Storage.SQLITE,
                Map.of("SPINDLE_UPSTREAM_URL", fake.baseUrl(), "SPINDLE_UPSTREAM_RETRIES", "0"));
        api = server.api();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        if (fake != null) {
            fake.close();
        }
    }

    @BeforeEach
    void noScriptedAnswer() {
        fake.respondWith(body -> Reply.error(500, "StreamingWireTest: this test scripted no answer"));
    }

    // ---------------------------------------------------------------------------------------------------------------

    @Test
    void framingIsOpenAisByteForByte() throws Exception {
        // paced, so each piece reaches the client on its own (pieces that wait for a busy reader join into one delta)
        fake.respondWith(body -> Reply.text("Hello! Ünïcödé, \"quotes\", a\nnewline and a \\ backslash.")
                .withChunkDelay(Duration.ofMillis(5)));
        String thread = thread("Hello there, assistant! How are you today?");

        HttpResponse<byte[]> response = HTTP.sendAsync(post("/v1/threads/" + thread + "/runs",
                "{\"assistant_id\": \"" + assistant(false) + "\", \"stream\": true}"), HttpResponse.BodyHandlers.ofByteArray())
                .get(30, TimeUnit.SECONDS); // returns only once the body ended

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type")).hasValue("text/event-stream; charset=utf-8");
        assertThat(response.headers().firstValue("x-request-id")).isPresent();
        String body = new String(response.body(), UTF_8);
        List<SseEvents.Event> events = SseEvents.parseAndValidate(body);
        // nothing but "event: NAME\ndata: DATA\n\n" frames: no comments, ids, CRs or extra lines
        assertThat(events.stream().map(SseEvents.Event::frame).collect(Collectors.joining())).isEqualTo(body);
        assertThat(body).endsWith("}\n\nevent: done\ndata: [DONE]\n\n").containsOnlyOnce("event: done\n");
        assertThat(events.getLast()).isEqualTo(new SseEvents.Event("done", "[DONE]"));
        for (SseEvents.Event e : events.subList(0, events.size() - 1)) {
            assertThat(e.data()).as("data of %s: one line of compact JSON", e.name())
                    .doesNotContain("\n").isEqualTo(MAPPER.writeValueAsString(e.json()));
        }
        assertThat(StreamReplay.order(events)).containsExactly(
                "thread.run.created", "thread.run.queued", "thread.run.in_progress",
                "thread.run.step.created", "thread.run.step.in_progress",
                "thread.message.created", "thread.message.in_progress",
                "thread.message.delta*",
                "thread.message.completed", "thread.run.step.completed", "thread.run.completed", "done");
        StreamReplay.Result replay = StreamReplay.replay(events);
        String messageId = replay.onlyMessageId();
        assertThat(replay.text(messageId)).isEqualTo("Hello! Ünïcödé, \"quotes\", a\nnewline and a \\ backslash.");
        assertThat(StreamReplay.text(api.get("/v1/threads/" + thread + "/messages/" + messageId).ok())).isEqualTo(replay.text(messageId));
        // every field the live API's objects have (the spec adds a few to steps: expired_at, metadata)
        for (SseEvents.Event e : events) {
            Set<String> keys = keys(e);
            if (e.name().startsWith("thread.run.step.") && !e.name().endsWith(".delta")) {
                assertThat(keys).as(e.name()).containsAll(STEP_KEYS);
            } else if (e.name().startsWith("thread.run.")) {
                assertThat(keys).as(e.name()).containsAll(RUN_KEYS);
            } else if (e.name().startsWith("thread.message.") && !e.name().endsWith(".delta")) {
                assertThat(keys).as(e.name()).containsAll(MESSAGE_KEYS);
            }
        }
        JsonNode firstDelta = events.stream().filter(e -> e.name().equals("thread.message.delta")).findFirst().orElseThrow().json();
        assertThat(firstDelta).isEqualTo(MAPPER.readTree("""
                {"id": "%s", "object": "thread.message.delta",
                 "delta": {"content": [{"index": 0, "type": "text", "text": {"value": "Hel", "annotations": []}}]}}"""
                .formatted(messageId)));
    }

    @Test
    void createThreadAndRunStreamsThreadCreatedFirst() throws Exception {
        fake.respondWith(body -> Reply.toolCalls(new ToolCall("call_up1", "get_current_weather", "{}")));

        String body = HTTP.sendAsync(post("/v1/threads/runs", """
                {"assistant_id": "%s", "stream": true,
                 "thread": {"messages": [{"role": "user", "content": "What should I wear outside right now?"}]}}"""
                .formatted(assistant(true))), HttpResponse.BodyHandlers.ofString()).get(30, TimeUnit.SECONDS).body();

        List<SseEvents.Event> events = SseEvents.parseAndValidate(body);
        assertThat(StreamReplay.order(events)).containsExactly(
                "thread.created", "thread.run.created", "thread.run.queued", "thread.run.in_progress",
                "thread.run.step.created", "thread.run.step.in_progress", "thread.run.step.delta*",
                "thread.run.requires_action", "done");
        StreamReplay.replay(events);
        JsonNode thread = events.getFirst().json();
        assertThat(keys(events.getFirst())).containsAll(THREAD_KEYS);
        assertThat(events.get(1).json().path("thread_id")).isEqualTo(thread.path("id"));
        assertThat(api.get("/v1/threads/" + thread.path("id").asText()).ok()).isEqualTo(thread);
        assertThat(body).endsWith("event: thread.run.requires_action\ndata: " + events.get(events.size() - 2).data()
                + "\n\nevent: done\ndata: [DONE]\n\n");
    }

    @Test
    void invalidRequestsWithStreamTrueStillAnswerJson() {
        String thread = thread("Hi");
        String assistant = assistant(false);

        // Api.send fails unless the answer is application/json and matches the ErrorResponse schema
        assertThat(api.post("/v1/threads/" + thread + "/runs", "{\"stream\": true}").error(400).path("message").asText())
                .contains("assistant_id");
        assertThat(api.post("/v1/threads/" + thread + "/runs",
                "{\"assistant_id\": \"" + assistant + "\", \"stream\": true, \"temperature\": 7}").status()).isEqualTo(400);
        assertThat(api.post("/v1/threads/" + thread + "/runs", "{\"assistant_id\": \"" + assistant + "\", \"stream\": \"yes\"}")
                .status()).isEqualTo(400);
        assertThat(api.post("/v1/threads/" + thread + "/runs", "{\"assistant_id\": \"asst_doesnotexist\", \"stream\": true}")
                .status()).isEqualTo(404);
        assertThat(api.post("/v1/threads/thread_doesnotexist/runs", "{\"assistant_id\": \"" + assistant + "\", \"stream\": true}")
                .status()).isEqualTo(404);
        assertThat(api.post("/v1/threads/runs", "{\"stream\": true, \"thread\": {}}").status()).isEqualTo(400);

        fake.respondWith(body -> Reply.text("done"));
        JsonNode run = api.post("/v1/threads/" + thread + "/runs", "{\"assistant_id\": \"" + assistant + "\"}").ok();
        JsonNode ended = awaitRun(thread, run.path("id").asText(), "completed");
        assertThat(api.post("/v1/threads/" + thread + "/runs/" + ended.path("id").asText() + "/submit_tool_outputs",
                "{\"tool_outputs\": [{\"tool_call_id\": \"call_x\", \"output\": \"1\"}], \"stream\": true}").error(400)
                .path("message").asText()).contains("completed");
    }

    @Test
    void aStreamWaitingOnAHangingModelEndsWhenTheRunIsCancelledElsewhere() throws Exception {
        fake.respondWith(body -> Reply.hang());
        String thread = thread("Hello?");
        int abortedBefore = fake.abortedStreams();
        int requestsBefore = fake.requestCount();

        try (EventReader stream = EventReader.open(post("/v1/threads/" + thread + "/runs",
                "{\"assistant_id\": \"" + assistant(false) + "\", \"stream\": true}"))) {
            List<SseEvents.Event> events = new ArrayList<>(stream.readUntil("thread.run.in_progress"));
            String runId = events.getFirst().json().path("id").asText();
            assertThat(fake.awaitRequests(requestsBefore + 1, Duration.ofSeconds(10))).as("the model was called").isTrue();

            assertThat(api.send("POST", "/v1/threads/" + thread + "/runs/" + runId + "/cancel", null).ok().path("status").asText())
                    .isEqualTo("cancelling");

            events.addAll(stream.readToEnd());
            assertThat(StreamReplay.order(events)).containsExactly("thread.run.created", "thread.run.queued",
                    "thread.run.in_progress", "thread.run.cancelling", "thread.run.cancelled", "done");
            StreamReplay.replay(events);
            assertThat(events.get(events.size() - 2).json().path("cancelled_at").isNumber()).isTrue();
        }
        assertThat(fake.awaitAbortedStreams(abortedBefore + 1, Duration.ofSeconds(10)))
                .as("the model call was abandoned").isTrue();
    }

    @Test
    void aClientThatGoesAwayDoesNotStopTheRun() throws Exception {
        String text = "This answer arrives slowly, three characters at a time, long after the client left.";
        fake.respondWith(body -> Reply.text(text).withChunkDelay(Duration.ofMillis(25)));
        String thread = thread("Tell me something slowly.");
        String runId;

        try (EventReader stream = EventReader.open(post("/v1/threads/" + thread + "/runs",
                "{\"assistant_id\": \"" + assistant(false) + "\", \"stream\": true}"))) {
            List<SseEvents.Event> events = stream.readUntil("thread.message.delta");
            runId = events.getFirst().json().path("id").asText();
        } // closes the connection mid-stream

        JsonNode run = awaitRun(thread, runId, "completed");
        assertThat(run.path("status").asText()).isEqualTo("completed");
        JsonNode messages = api.get("/v1/threads/" + thread + "/messages?order=desc&limit=1").ok().path("data");
        assertThat(messages.get(0).path("run_id").asText()).isEqualTo(runId);
        assertThat(StreamReplay.text(messages.get(0))).isEqualTo(text);
    }

    @Test
    void aSlowReaderDoesNotSlowTheRunAndGetsLargerDeltas() throws Exception {
        // ~12,000 deltas (the fake streams 3 characters a chunk): ~2 MB of events, more than the
        // socket buffers hold, and more than Spindle buffers per subscriber (10,000 events)
        String text = "All work and no play makes Jack a dull boy. ".repeat(820);
        fake.respondWith(body -> Reply.text(text));
        String thread = thread("Write it out.");
        String body = "{\"assistant_id\": \"" + assistant(false) + "\", \"stream\": true}";

        try (SlowSocketReader reader = SlowSocketReader.open(server.rootUrl(), "/v1/threads/" + thread + "/runs", body)) {
            List<SseEvents.Event> events = new ArrayList<>();
            while (events.isEmpty() || !events.getLast().name().equals("thread.message.delta")) {
                events.add(reader.next());
            }
            String runId = events.getFirst().json().path("id").asText();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
            String status = "";
            while (!status.equals("completed")) {
                assertThat(System.nanoTime()).as("the run did not complete while its client read slowly").isLessThan(deadline);
                Thread.sleep(20);
                events.add(reader.next()); // one event per 20 ms: 50 a second
                status = api.get("/v1/threads/" + thread + "/runs/" + runId).ok().path("status").asText();
            }
            int readWhenCompleted = events.size();

            for (SseEvents.Event e = reader.next(); e != null; e = reader.next()) {
                events.add(e);
            }
            long deltas = events.stream().filter(e -> e.name().equals("thread.message.delta")).count();
            assertThat(readWhenCompleted).as("events read when the run had completed").isLessThan(2_000);
            events.forEach(SseEvents::validate);
            StreamReplay.replay(events);
            // what the reader had not taken yet joined into larger deltas: the whole text, in far fewer events
            assertThat(events.get(events.size() - 2).name()).isEqualTo("thread.run.completed");
            assertThat(events.getLast().name()).isEqualTo("done");
            assertThat(deltas).isLessThan((text.length() + 2) / 3 / 2);
            String streamed = events.stream().filter(e -> e.name().equals("thread.message.delta"))
                    .map(e -> e.json().path("delta").path("content").path(0).path("text").path("value").asText())
                    .collect(Collectors.joining());
            assertThat(streamed).isEqualTo(text);
            JsonNode messages = api.get("/v1/threads/" + thread + "/messages?order=desc&limit=1").ok().path("data");
            assertThat(StreamReplay.text(messages.get(0))).isEqualTo(text);
            System.out.println("slow reader: " + events.size() + " events read (" + deltas + " deltas), "
                    + readWhenCompleted + " when the run completed");
        }
    }

    // ---------------------------------------------------------------------------------------------------------------

    private static Set<String> keys(SseEvents.Event e) {
        Set<String> keys = new TreeSet<>();
        e.json().fieldNames().forEachRemaining(keys::add);
        return keys;
    }

    private static HttpRequest post(String path, String json) {
        return HttpRequest.newBuilder(URI.create(server.rootUrl() + path))
                .header("Content-Type", "application/json")
                .header("OpenAI-Beta", "assistants=v2")
                .POST(HttpRequest.BodyPublishers.ofString(json))
                .build();
    }

    private static String assistant(boolean weather) {
        String tools = weather ? ", \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"get_current_weather\"}}]" : "";
        return api.post("/v1/assistants", "{\"model\": \"gpt-4o\"" + tools + "}").ok().path("id").asText();
    }

    private static String thread(String userText) {
        try {
            return api.post("/v1/threads", "{\"messages\": [{\"role\": \"user\", \"content\": "
                    + MAPPER.writeValueAsString(userText) + "}]}").ok().path("id").asText();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode awaitRun(String thread, String runId, String status) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            JsonNode run = api.get("/v1/threads/" + thread + "/runs/" + runId).ok();
            if (run.path("status").asText().equals(status) || System.nanoTime() > deadline) {
                return run;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** A stream read event by event with java.net.http; closing it closes the connection. */
    private static final class EventReader implements AutoCloseable {
        private final InputStream in;
        private final SseEvents.Decoder decoder = new SseEvents.Decoder();
        private final ArrayDeque<SseEvents.Event> ready = new ArrayDeque<>();

        private EventReader(InputStream in) {
            this.in = in;
        }

        static EventReader open(HttpRequest request) throws Exception {
            HttpResponse<InputStream> response = HTTP.sendAsync(request, HttpResponse.BodyHandlers.ofInputStream())
                    .get(30, TimeUnit.SECONDS);
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("content-type")).hasValue("text/event-stream; charset=utf-8");
            return new EventReader(response.body());
        }

        /** The next event (validated), or null when the body ended. */
        SseEvents.Event next() throws IOException {
            byte[] buffer = new byte[4096];
            while (ready.isEmpty()) {
                int n = in.read(buffer);
                if (n < 0) {
                    decoder.end();
                    return null;
                }
                ready.addAll(decoder.feed(buffer, 0, n));
            }
            SseEvents.Event e = ready.poll();
            SseEvents.validate(e);
            return e;
        }

        List<SseEvents.Event> readUntil(String name) throws IOException {
            List<SseEvents.Event> events = new ArrayList<>();
            for (SseEvents.Event e = next(); e != null; e = next()) {
                events.add(e);
                if (e.name().equals(name)) {
                    return events;
                }
            }
            throw new AssertionError("the stream ended before " + name + ": " + StreamReplay.order(events));
        }

        List<SseEvents.Event> readToEnd() throws IOException {
            List<SseEvents.Event> events = new ArrayList<>();
            for (SseEvents.Event e = next(); e != null; e = next()) {
                events.add(e);
            }
            return events;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    /**
     * A hand-written HTTP/1.1 client on a socket with a small receive buffer, so that the server
     * really feels a reader that does not read (java.net.http would buffer ahead).
     */
    private static final class SlowSocketReader implements AutoCloseable {
        private final Socket socket;
        private final InputStream in;
        private final SseEvents.Decoder decoder = new SseEvents.Decoder();
        private final ArrayDeque<SseEvents.Event> ready = new ArrayDeque<>();
        private long chunkLeft;
        private boolean ended;

        private SlowSocketReader(Socket socket) throws IOException {
            this.socket = socket;
            this.in = new java.io.BufferedInputStream(socket.getInputStream(), 1024);
        }

        static SlowSocketReader open(String rootUrl, String path, String json) throws IOException {
            URI uri = URI.create(rootUrl);
            Socket socket = new Socket();
            socket.setReceiveBufferSize(4096);
            socket.setSoTimeout(30_000);
            socket.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), 5_000);
            byte[] body = json.getBytes(UTF_8);
            OutputStream out = socket.getOutputStream();
            out.write(("POST " + path + " HTTP/1.1\r\nHost: " + uri.getHost() + ":" + uri.getPort()
                    + "\r\nContent-Type: application/json\r\nOpenAI-Beta: assistants=v2\r\nContent-Length: " + body.length
                    + "\r\nConnection: close\r\n\r\n").getBytes(UTF_8));
            out.write(body);
            out.flush();
            SlowSocketReader reader = new SlowSocketReader(socket);
            reader.readHead();
            return reader;
        }

        private void readHead() throws IOException {
            String status = line();
            assertThat(status).startsWith("HTTP/1.1 200");
            boolean chunked = false;
            for (String header = line(); !header.isEmpty(); header = line()) {
                String lower = header.toLowerCase(java.util.Locale.ROOT);
                if (lower.startsWith("content-type:")) {
                    assertThat(header.substring(13).trim()).isEqualTo("text/event-stream; charset=utf-8");
                }
                chunked |= lower.startsWith("transfer-encoding:") && lower.contains("chunked");
            }
            assertThat(chunked).as("a stream of unknown length is sent chunked").isTrue();
        }

        private String line() throws IOException {
            StringBuilder line = new StringBuilder();
            for (int b = in.read(); b != '\n'; b = in.read()) {
                if (b < 0) {
                    throw new IOException("connection closed in the middle of a line");
                }
                if (b != '\r') {
                    line.append((char) b);
                }
            }
            return line.toString();
        }

        /** The next event, or null once the response ended. */
        SseEvents.Event next() throws IOException {
            byte[] buffer = new byte[512];
            while (ready.isEmpty()) {
                if (ended) {
                    return null;
                }
                if (chunkLeft == 0) {
                    if (ended = !nextChunk()) {
                        decoder.end();
                        continue;
                    }
                }
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, chunkLeft));
                if (n < 0) {
                    throw new IOException("connection closed inside a chunk");
                }
                chunkLeft -= n;
                ready.addAll(decoder.feed(buffer, 0, n));
            }
            return ready.poll();
        }

        /** Reads the next chunk's size line; false at the last (empty) chunk. */
        private boolean nextChunk() throws IOException {
            String size = line();
            if (size.isEmpty()) {
                size = line(); // the CRLF that ended the previous chunk
            }
            chunkLeft = Long.parseLong(size.split(";")[0].trim(), 16);
            return chunkLeft > 0;
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
