package io.spindle.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * A scripted fake of an OpenAI-compatible Chat Completions server ("the upstream") speaking real HTTP on 127.0.0.1:
 * tests {@link #enqueue} {@link Reply}s or set a {@link #respondWith responder}, then inspect what it {@link #received}.
 */
public final class FakeUpstream implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Logger LOG = Logger.getLogger(FakeUpstream.class.getName());
    /** The path every chat endpoint ends with: OpenAI's {@code /v1/…}, Azure's {@code /openai/deployments/{name}/…}. */
    private static final String PATH = "/chat/completions";
    /** How often a paused or hanging answer checks whether the fake is closing (for client hang-ups: {@link ClientHangup}). */
    private static final Duration POLL = Duration.ofMillis(20);

    private final HttpServer server;
    private final ExecutorService executor;
    private final AtomicLong ids = new AtomicLong();
    private final Object lock = new Object();
    private final Deque<Reply> script = new ArrayDeque<>();
    private final List<Received> received = new ArrayList<>();
    private int aborted;
    private volatile Function<JsonNode, Reply> responder = body -> Reply.text("ok");
    private volatile boolean closed;

    private FakeUpstream(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /** Starts a fake on a free port of 127.0.0.1; each request is answered on its own virtual thread. */
    public static FakeUpstream start() {
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 256);
            ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
            FakeUpstream fake = new FakeUpstream(server, executor);
            server.createContext("/", fake::handle);
            server.setExecutor(executor);
            server.start();
            return fake;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The base URL to configure as the upstream, e.g. {@code http://127.0.0.1:PORT/v1}. */
    public String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
    }

    /** Adds replies to the script: each request takes the next one, in arrival order. */
    public FakeUpstream enqueue(Reply... replies) {
        synchronized (lock) {
            script.addAll(List.of(replies));
        }
        return this;
    }

    /** How requests are answered once the script is used up (at first: {@code Reply.text("ok")}). */
    public FakeUpstream respondWith(Function<JsonNode, Reply> responder) {
        this.responder = Objects.requireNonNull(responder);
        return this;
    }

    /**
     * One request to {@code POST …/chat/completions}: its path and query as sent ({@code target}), its parsed body and
     * its headers (names case-insensitive).
     */
    public record Received(String target, JsonNode body, Map<String, List<String>> headers) {
        /** The first value of a header, or null. */
        public String header(String name) {
            List<String> values = headers.get(name);
            return values == null || values.isEmpty() ? null : values.getFirst();
        }
    }

    /** Every request received so far, in arrival order. A body that is not JSON is kept as a text node. */
    public List<Received> received() {
        synchronized (lock) {
            return List.copyOf(received);
        }
    }

    /** The bodies of every request received so far, in arrival order. */
    public List<JsonNode> requests() {
        return received().stream().map(Received::body).toList();
    }

    /** The body of the latest request; fails if there was none. */
    public JsonNode lastRequest() {
        synchronized (lock) {
            if (received.isEmpty()) {
                throw new AssertionError("FakeUpstream has received no request");
            }
            return received.getLast().body();
        }
    }

    /** A header of the latest request, or null; fails if there was none. */
    public String lastRequestHeader(String name) {
        synchronized (lock) {
            if (received.isEmpty()) {
                throw new AssertionError("FakeUpstream has received no request");
            }
            return received.getLast().header(name);
        }
    }

    public int requestCount() {
        synchronized (lock) {
            return received.size();
        }
    }

    /** Waits until at least {@code n} requests have arrived; false if the timeout passed first. */
    public boolean awaitRequests(int n, Duration timeout) throws InterruptedException {
        return await(() -> received.size() >= n, timeout);
    }

    /**
     * How many answers their client abandoned (disconnected from) before the fake had finished them, as seen when a
     * write fails or, during a delay or hang, within about {@link ClientHangup#EVERY} of the client hanging up.
     */
    public int abortedStreams() {
        synchronized (lock) {
            return aborted;
        }
    }

    /**
     * How many connections to the fake are open, counted at their client side (Linux only: elsewhere -1). A
     * connection the client keeps for reuse counts too.
     */
    public int openConnections() {
        return ClientHangup.establishedTo(server.getAddress().getPort());
    }

    /** Waits until at least {@code n} answers were abandoned by their client; false if the timeout passed first. */
    public boolean awaitAbortedStreams(int n, Duration timeout) throws InterruptedException {
        return await(() -> aborted >= n, timeout);
    }

    private boolean await(BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (!condition.getAsBoolean()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(lock, left);
            }
            return true;
        }
    }

    /** Stops at once: hanging or slow answers end, their connections are closed. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        server.stop(0);
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Replies

    /** A call the model makes; {@code arguments} is the JSON text of the arguments. */
    public record ToolCall(String id, String name, String arguments) {
        public ToolCall {
            Objects.requireNonNull(id);
            Objects.requireNonNull(name);
            Objects.requireNonNull(arguments);
        }
    }

    /**
     * What the fake answers to one request. Immutable: each {@code with...}/{@code then...} method returns a copy.
     * Completions stream as {@code chat.completion.chunk} events (or one {@code chat.completion} for
     * {@code "stream": false}); text and tool-call arguments are cut into pieces of {@value #PIECE} characters (unless
     * {@link #withPieceSize} says otherwise).
     */
    public static final class Reply implements Cloneable {
        /** Characters per streamed piece of text or of tool-call arguments. */
        public static final int PIECE = 3;

        private enum Kind { COMPLETION, ERROR, STREAMED_ERROR, MALFORMED, HANG, ENDLESS_LINE }

        /**
         * What happens after a completion's content: finish normally, hang, or drop the connection; or finish (with
         * usage) and then hang instead of sending {@code [DONE]}.
         */
        private enum Ending { FINISH, HANG, RESET, HANG_AFTER_FINISH }

        private final Kind kind;
        private String text;
        private List<ToolCall> toolCalls = List.of();
        private String finishReason;
        private Ending ending = Ending.FINISH;
        private boolean usage = true;
        private Integer promptTokens;
        private Integer completionTokens;
        private int status;
        private String message;
        private Integer retryAfter;
        private Map<String, String> headers = Map.of();
        private byte[] errorBody;
        private boolean echoHeaders;
        private Duration delay = Duration.ZERO;
        private Duration chunkDelay = Duration.ZERO;
        private int pieceSize = PIECE;

        private Reply(Kind kind) {
            this.kind = kind;
        }

        private static Reply completion(String text, List<ToolCall> calls, String finishReason) {
            Reply reply = new Reply(Kind.COMPLETION);
            reply.text = text;
            reply.toolCalls = List.copyOf(calls);
            reply.finishReason = finishReason;
            return reply;
        }

        /** The assistant says {@code content}; finish_reason "stop". */
        public static Reply text(String content) {
            return completion(Objects.requireNonNull(content), List.of(), "stop");
        }

        /** The assistant calls tools (index = position); finish_reason "tool_calls". */
        public static Reply toolCalls(ToolCall... calls) {
            return completion(null, List.of(calls), "tool_calls");
        }

        /** The assistant says {@code text}, then calls tools; finish_reason "tool_calls". */
        public static Reply textThenToolCalls(String text, ToolCall... calls) {
            return completion(Objects.requireNonNull(text), List.of(calls), "tool_calls");
        }

        /** The answer stops at the token limit: {@code partialText}, then finish_reason "length". */
        public static Reply lengthCutoff(String partialText) {
            return completion(Objects.requireNonNull(partialText), List.of(), "length");
        }

        /** The answer is stopped by a content filter: {@code partialText}, then finish_reason "content_filter" (Azure). */
        public static Reply contentFiltered(String partialText) {
            return completion(Objects.requireNonNull(partialText), List.of(), "content_filter");
        }

        /** A JSON error {@code {"error":{"message","type","param","code"}}} with this HTTP status, never streamed. */
        public static Reply error(int status, String message) {
            Reply reply = new Reply(Kind.ERROR);
            reply.status = status;
            reply.message = Objects.requireNonNull(message);
            return reply;
        }

        /** This JSON body as it is, with this HTTP status, never streamed: an error in a provider's own shape. */
        public static Reply errorBody(int status, String json) {
            Reply reply = error(status, "(body given)");
            reply.errorBody = json.getBytes(StandardCharsets.UTF_8);
            return reply;
        }

        /**
         * As {@link #error}, with every request header (the {@code Authorization} sent included) appended to the message,
         * as some servers and proxies do.
         */
        public static Reply errorEchoingHeaders(int status, String message) {
            Reply reply = error(status, message);
            reply.echoHeaders = true;
            return reply;
        }

        /** Status 200 and a stream whose one event is {@code {"error":{"message":…}}}, as some servers report failures. */
        public static Reply streamedError(String message) {
            Reply reply = new Reply(Kind.STREAMED_ERROR);
            reply.message = Objects.requireNonNull(message);
            return reply;
        }

        /** Status 200 and the right content type, but the data line (or body) is not JSON. */
        public static Reply malformed() {
            return new Reply(Kind.MALFORMED);
        }

        /**
         * Streams one chunk ({@code "Hel"}), then closes the connection without ending the response. (The JDK client
         * may report the failure before handing out bytes it already received; {@code withChunkDelay} spaces the drop.)
         */
        public static Reply reset() {
            return text("Hel").thenReset();
        }

        /**
         * Status 200, a stream, and a {@code data:} line that never ends: text without a line break, sent as fast as the
         * client reads it, until the client disconnects (counted as aborted) or the fake closes.
         */
        public static Reply endlessLine() {
            return new Reply(Kind.ENDLESS_LINE);
        }

        /** Sends nothing, not even headers, until the client disconnects (counted as aborted) or the fake closes. */
        public static Reply hang() {
            return new Reply(Kind.HANG);
        }

        /** Usage reported: prompt and completion tokens (default: 10, and the number of content chunks). */
        public Reply withUsage(int promptTokens, int completionTokens) {
            Reply copy = copy();
            copy.promptTokens = promptTokens;
            copy.completionTokens = completionTokens;
            return copy;
        }

        /** No usage, even when the request asked for {@code stream_options.include_usage} (as some servers do). */
        public Reply withoutUsage() {
            Reply copy = copy();
            copy.usage = false;
            return copy;
        }

        /** Adds a {@code Retry-After: seconds} header (meant for errors, but sent with any reply). */
        public Reply withRetryAfter(int seconds) {
            Reply copy = copy();
            copy.retryAfter = seconds;
            return copy;
        }

        /** Adds a response header (sent with any reply). */
        public Reply withHeader(String name, String value) {
            Reply copy = copy();
            Map<String, String> more = new TreeMap<>(headers);
            more.put(name, value);
            copy.headers = Map.copyOf(more);
            return copy;
        }

        /** Waits this long before sending anything (headers included). */
        public Reply withDelay(Duration before) {
            Reply copy = copy();
            copy.delay = Objects.requireNonNull(before);
            return copy;
        }

        /** Streams text and arguments in pieces of this many code points (default {@value #PIECE}). */
        public Reply withPieceSize(int codePoints) {
            if (codePoints < 1) {
                throw new IllegalArgumentException("a piece has at least one code point");
            }
            Reply copy = copy();
            copy.pieceSize = codePoints;
            return copy;
        }

        /** Waits this long between streamed events. */
        public Reply withChunkDelay(Duration between) {
            Reply copy = copy();
            copy.chunkDelay = Objects.requireNonNull(between);
            return copy;
        }

        /**
         * Sends the content (text and tool-call chunks), then neither finishes nor closes until the client disconnects
         * (counted as aborted) or the fake closes. Unstreamed, it sends the headers and half the body.
         */
        public Reply thenHang() {
            return withEnding(Ending.HANG);
        }

        /** Sends the content, then (after the chunk delay) closes the connection mid-response. Unstreamed: half the body. */
        public Reply thenReset() {
            return withEnding(Ending.RESET);
        }

        /**
         * Streams the whole answer, its finish_reason and usage included, then neither sends {@code [DONE]} nor closes
         * until the client disconnects (counted as aborted) or the fake closes. Unstreamed, it sends the whole body.
         */
        public Reply thenHangAfterFinish() {
            return withEnding(Ending.HANG_AFTER_FINISH);
        }

        private Reply withEnding(Ending ending) {
            if (kind != Kind.COMPLETION) {
                throw new IllegalStateException("only a completion can hang or reset after its content");
            }
            Reply copy = copy();
            copy.ending = ending;
            return copy;
        }

        private Reply copy() {
            try {
                return (Reply) clone();
            } catch (CloneNotSupportedException e) {
                throw new AssertionError(e);
            }
        }

        @Override
        public String toString() {
            return "Reply[" + kind + (kind == Kind.ERROR ? " " + status + " " + message : "")
                    + (text != null ? " text=" + text : "") + (toolCalls.isEmpty() ? "" : " calls=" + toolCalls)
                    + (kind == Kind.COMPLETION ? " " + finishReason + " then " + ending : "") + "]";
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Serving

    /** Thrown to drop a connection on purpose: the server closes it when a handler throws. */
    private static final class ScriptedReset extends IOException {
        ScriptedReset() {
            super("FakeUpstream: scripted connection reset");
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        if (!exchange.getRequestMethod().equals("POST") || !exchange.getRequestURI().getPath().endsWith(PATH)) {
            sendJson(exchange, 404, errorBody(404, "FakeUpstream only serves POST …" + PATH));
            return;
        }
        byte[] raw = exchange.getRequestBody().readAllBytes();
        JsonNode body;
        try {
            body = JSON.readTree(raw);
        } catch (IOException notJson) {
            body = null;
        }
        Reply reply;
        synchronized (lock) {
            Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            exchange.getRequestHeaders().forEach((name, values) -> headers.put(name, List.copyOf(values)));
            boolean json = body != null && body.isObject();
            received.add(new Received(exchange.getRequestURI().toString(),
                    json ? body : TextNode.valueOf(new String(raw, StandardCharsets.UTF_8)),
                    Collections.unmodifiableMap(headers)));
            reply = json ? script.poll() : Reply.error(400, "FakeUpstream: the request body is not a JSON object");
            lock.notifyAll();
        }
        try {
            if (reply == null) {
                reply = Objects.requireNonNull(responder.apply(body), "the responder returned null");
            }
        } catch (RuntimeException e) {
            LOG.warning("FakeUpstream responder failed: " + e);
            reply = Reply.error(500, "FakeUpstream responder failed: " + e);
        }
        try {
            new Answer(exchange, body, reply).send();
            exchange.close();
        } catch (ScriptedReset e) {
            throw e;
        } catch (IOException e) {
            if (!closed) {
                synchronized (lock) {
                    aborted++;
                    lock.notifyAll();
                }
            }
            throw e;
        }
    }

    /** One reply being sent for one request. */
    private final class Answer {
        private final HttpExchange exchange;
        private final Reply reply;
        private final boolean stream;
        private final boolean includeUsage;
        private final String id = "chatcmpl-fake" + ids.incrementAndGet();
        private final long created = System.currentTimeMillis() / 1000;
        private final String model;
        private OutputStream out;
        private boolean first = true;

        Answer(HttpExchange exchange, JsonNode request, Reply reply) {
            this.exchange = exchange;
            this.reply = reply;
            this.stream = request != null && request.path("stream").asBoolean(false);
            this.includeUsage = request != null && request.path("stream_options").path("include_usage").asBoolean(false);
            this.model = request != null && request.path("model").isTextual() ? request.get("model").asText() : "fake-model";
        }

        void send() throws IOException {
            pause(exchange, reply.delay);
            if (reply.retryAfter != null) {
                exchange.getResponseHeaders().set("Retry-After", String.valueOf(reply.retryAfter));
            }
            reply.headers.forEach(exchange.getResponseHeaders()::set);
            switch (reply.kind) {
                case HANG -> pause(exchange, null);
                case ENDLESS_LINE -> {
                    startStream();
                    out.write("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"".getBytes(StandardCharsets.UTF_8));
                    byte[] block = "x".repeat(64 * 1024).getBytes(StandardCharsets.UTF_8);
                    while (!closed) {
                        out.write(block);
                        out.flush();
                    }
                    throw new IOException("FakeUpstream closed");
                }
                case ERROR -> sendJson(exchange, reply.status, reply.errorBody != null ? reply.errorBody : errorBody(reply.status,
                        reply.echoHeaders ? reply.message + " Request headers: " + exchange.getRequestHeaders() : reply.message));
                case STREAMED_ERROR -> {
                    startStream();
                    ObjectNode error = JSON.createObjectNode();
                    error.putObject("error").put("message", reply.message).put("type", "server_error");
                    event(JSON.writeValueAsString(error));
                    out.close();
                }
                case MALFORMED -> {
                    if (stream) {
                        startStream();
                        event("{\"id\":\"" + id + "\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"delta\":");
                        event("[DONE]");
                        out.close();
                    } else {
                        sendJson(exchange, 200, ("{\"id\":\"" + id + "\",\"object\":").getBytes(StandardCharsets.UTF_8));
                    }
                }
                case COMPLETION -> {
                    if (stream) {
                        streamCompletion();
                    } else {
                        sendCompletion();
                    }
                }
            }
        }

        private void streamCompletion() throws IOException {
            List<ObjectNode> deltas = deltas();
            startStream();
            for (ObjectNode delta : deltas) {
                event(chunk(delta, null));
            }
            end();
            event(chunk(JSON.createObjectNode(), reply.finishReason));
            if (includeUsage && reply.usage) {
                ObjectNode last = chunkHead();
                last.putArray("choices");
                last.set("usage", usage(deltas.size()));
                event(JSON.writeValueAsString(last));
            }
            if (reply.ending == Reply.Ending.HANG_AFTER_FINISH) {
                pause(exchange, null);
            }
            event("[DONE]");
            out.close();
        }

        private void sendCompletion() throws IOException {
            ObjectNode message = JSON.createObjectNode().put("role", "assistant").put("content", reply.text);
            if (!reply.toolCalls.isEmpty()) {
                ArrayNode calls = message.putArray("tool_calls");
                for (ToolCall call : reply.toolCalls) {
                    ObjectNode c = calls.addObject().put("id", call.id()).put("type", "function");
                    c.putObject("function").put("name", call.name()).put("arguments", call.arguments());
                }
            }
            ObjectNode body = JSON.createObjectNode().put("id", id).put("object", "chat.completion")
                    .put("created", created).put("model", model);
            ObjectNode choice = body.putArray("choices").addObject().put("index", 0);
            choice.set("message", message);
            choice.put("finish_reason", reply.finishReason);
            if (reply.usage) {
                body.set("usage", usage(deltas().size()));
            }
            byte[] bytes = JSON.writeValueAsBytes(body);
            if (reply.ending == Reply.Ending.FINISH || reply.ending == Reply.Ending.HANG_AFTER_FINISH) {
                sendJson(exchange, 200, bytes);
                return;
            }
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, bytes.length);
            exchange.getResponseBody().write(bytes, 0, bytes.length / 2);
            exchange.getResponseBody().flush();
            end();
        }

        /** For a reply that does not finish: hang or drop the connection. */
        private void end() throws IOException {
            switch (reply.ending) {
                case FINISH, HANG_AFTER_FINISH -> { }
                case HANG -> pause(exchange, null);
                case RESET -> {
                    pause(exchange, reply.chunkDelay);
                    throw new ScriptedReset();
                }
            }
        }

        /** The content deltas: text pieces, then per tool call its head and argument pieces; the first has the role. */
        private List<ObjectNode> deltas() {
            List<ObjectNode> deltas = new ArrayList<>();
            if (reply.text != null) {
                for (String piece : pieces(reply.text, reply.pieceSize)) {
                    deltas.add(JSON.createObjectNode().put("content", piece));
                }
            }
            for (int i = 0; i < reply.toolCalls.size(); i++) {
                ToolCall call = reply.toolCalls.get(i);
                ObjectNode head = JSON.createObjectNode();
                head.putArray("tool_calls").addObject().put("index", i).put("id", call.id()).put("type", "function")
                        .putObject("function").put("name", call.name()).put("arguments", "");
                deltas.add(head);
                for (String piece : pieces(call.arguments(), reply.pieceSize)) {
                    ObjectNode args = JSON.createObjectNode();
                    args.putArray("tool_calls").addObject().put("index", i)
                            .putObject("function").put("arguments", piece);
                    deltas.add(args);
                }
            }
            if (deltas.isEmpty()) {
                deltas.add(JSON.createObjectNode().put("content", ""));
            }
            ObjectNode withRole = JSON.createObjectNode().put("role", "assistant");
            if (!deltas.getFirst().has("content")) {
                withRole.putNull("content");
            }
            withRole.setAll(deltas.getFirst());
            deltas.set(0, withRole);
            return deltas;
        }

        private ObjectNode usage(int chunks) {
            int prompt = reply.promptTokens != null ? reply.promptTokens : 10;
            int completion = reply.completionTokens != null ? reply.completionTokens : chunks;
            return JSON.createObjectNode().put("prompt_tokens", prompt).put("completion_tokens", completion)
                    .put("total_tokens", prompt + completion);
        }

        private ObjectNode chunkHead() {
            return JSON.createObjectNode().put("id", id).put("object", "chat.completion.chunk")
                    .put("created", created).put("model", model);
        }

        private String chunk(ObjectNode delta, String finishReason) throws IOException {
            ObjectNode chunk = chunkHead();
            ObjectNode choice = chunk.putArray("choices").addObject().put("index", 0);
            choice.set("delta", delta);
            choice.put("finish_reason", finishReason);
            if (includeUsage && reply.usage) {
                chunk.putNull("usage");
            }
            return JSON.writeValueAsString(chunk);
        }

        private void startStream() throws IOException {
            exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
            exchange.getResponseHeaders().set("Cache-Control", "no-cache");
            exchange.sendResponseHeaders(200, 0);
            out = exchange.getResponseBody();
        }

        /** Writes {@code data: <data>\n\n} and flushes it to the client, after the chunk delay (but not at first). */
        private void event(String data) throws IOException {
            if (!first) {
                pause(exchange, reply.chunkDelay);
            }
            first = false;
            out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        }
    }

    /** Cuts text into pieces of {@code size} code points. */
    static List<String> pieces(String text, int size) {
        List<String> pieces = new ArrayList<>();
        for (int start = 0; start < text.length(); ) {
            int end = text.offsetByCodePoints(start, Math.min(size, text.codePointCount(start, Math.min(text.length(), start + 2 * size))));
            pieces.add(text.substring(start, end));
            start = end;
        }
        return pieces;
    }

    private static byte[] errorBody(int status, String message) {
        String type = status == 429 ? "requests" : status >= 500 ? "server_error" : "invalid_request_error";
        String code = switch (status) {
            case 401 -> "invalid_api_key";
            case 404 -> "not_found";
            case 429 -> "rate_limit_exceeded";
            default -> null;
        };
        ObjectNode error = JSON.createObjectNode();
        error.putObject("error").put("message", message).put("type", type).putNull("param").put("code", code);
        try {
            return JSON.writeValueAsBytes(error);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void sendJson(HttpExchange exchange, int status, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
    }

    /**
     * Waits {@code duration} (null: for ever), but throws as soon as the fake closes or the client hangs up, so that
     * slow and hanging answers end promptly and client aborts are counted even when nothing is being written.
     */
    private void pause(HttpExchange exchange, Duration duration) throws IOException {
        if (duration != null && duration.isZero()) {
            return;
        }
        ClientHangup hangup = new ClientHangup(exchange);
        long end = duration == null ? 0 : System.nanoTime() + duration.toNanos();
        while (true) {
            if (closed) {
                throw new IOException("FakeUpstream closed");
            }
            if (hangup.clientGone()) {
                throw new IOException("FakeUpstream: the client hung up");
            }
            long left = duration == null ? POLL.toNanos() : end - System.nanoTime();
            if (left <= 0) {
                return;
            }
            try {
                Thread.sleep(Duration.ofNanos(Math.min(left, POLL.toNanos())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("FakeUpstream closed");
            }
        }
    }
}
