package io.spindle.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindle.api.Json;
import io.spindle.api.Usage;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A thin client for any OpenAI-compatible {@code POST /chat/completions}: it streams the answer
 * ({@code stream_options.include_usage}), tolerates servers that leave out optional fields, usage,
 * {@code [DONE]} or streaming altogether, and retries failures with backoff as long as nothing of
 * the answer has been handed on yet.
 */
public final class ChatClient implements AutoCloseable {

    /** Where and how to call the model. */
    public record Config(URI baseUrl, Optional<String> apiKey, Duration idleTimeout, int maxRetries, Duration retryBase) {}

    private static final Duration MAX_BACKOFF = Duration.ofSeconds(8);
    /** Chunks are a few hundred bytes; the default 8,192-char buffer per open stream adds up over thousands of runs. */
    private static final int LINE_BUFFER_CHARS = 1_024;
    private static final ObjectReader CHUNK_READER = Json.MAPPER.readerFor(ChatChunk.class);

    private final Config config;
    private final URI endpoint;
    private final Redaction redaction;
    private final HttpClient http;
    private final ScheduledExecutorService watchdog;

    public ChatClient(Config config) {
        this.config = config;
        String base = config.baseUrl().toString();
        this.endpoint = URI.create((base.endsWith("/") ? base : base + "/") + "chat/completions");
        this.redaction = Redaction.of(config.apiKey(), config.baseUrl());
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10))
                .executor(Executors.newVirtualThreadPerTaskExecutor())
                .build();
        this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "upstream-watchdog");
            t.setDaemon(true);
            return t;
        });
    }

    /** Calls the model; {@code listener} sees the answer as it streams in. */
    public ChatResult complete(ObjectNode body, ChatListener listener, Cancellation cancellation) throws UpstreamException {
        byte[] request = Json.writeBytes(body);
        for (int attempt = 0; ; attempt++) {
            EmitTracker tracker = new EmitTracker(listener);
            try {
                return attempt(request, tracker, cancellation);
            } catch (UpstreamException e) {
                boolean retry = e.kind().retryable && !tracker.emitted && attempt < config.maxRetries()
                        && !cancellation.isCancelled();
                if (!retry) {
                    throw cancellation.isCancelled() ? aborted(cancellation) : e;
                }
                sleep(backoff(attempt, e.retryAfterMillis()), cancellation);
            }
        }
    }

    private ChatResult attempt(byte[] body, ChatListener listener, Cancellation cancellation) throws UpstreamException {
        HttpRequest.Builder request = HttpRequest.newBuilder(endpoint)
                .timeout(config.idleTimeout())
                .header("Content-Type", "application/json")
                .header("Accept", "text/event-stream, application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        config.apiKey().ifPresent(key -> request.header("Authorization", "Bearer " + key));
        CompletableFuture<HttpResponse<InputStream>> pending = http.sendAsync(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        cancellation.onCancel(() -> pending.cancel(true));
        HttpResponse<InputStream> response = await(pending, cancellation);
        AtomicLong lastActivity = new AtomicLong(System.nanoTime());
        AtomicBoolean timedOut = new AtomicBoolean();
        try (InputStream in = response.body()) {
            cancellation.onCancel(() -> closeQuietly(in));
            ScheduledFuture<?> idleCheck = watchdog.scheduleAtFixedRate(() -> {
                if (System.nanoTime() - lastActivity.get() > config.idleTimeout().toNanos()) {
                    timedOut.set(true);
                    closeQuietly(in);
                }
            }, 1, 1, TimeUnit.SECONDS);
            try {
                if (response.statusCode() >= 400) {
                    throw statusError(response, in);
                }
                String contentType = response.headers().firstValue("content-type").orElse("");
                if (contentType.startsWith("application/json")) {
                    return wholeAnswer(parse(new String(in.readAllBytes(), StandardCharsets.UTF_8)), listener);
                }
                return streamedAnswer(in, listener, lastActivity);
            } finally {
                idleCheck.cancel(false);
            }
        } catch (IOException e) {
            if (cancellation.isCancelled()) {
                throw aborted(cancellation);
            }
            if (timedOut.get()) {
                throw new UpstreamException(UpstreamException.Kind.SERVER,
                        "the model endpoint stopped answering for " + config.idleTimeout().toSeconds() + " s");
            }
            throw new UpstreamException(UpstreamException.Kind.SERVER, "the connection to the model endpoint failed",
                    redaction.text(e.toString()), 0, e);
        }
    }

    private HttpResponse<InputStream> await(CompletableFuture<HttpResponse<InputStream>> pending, Cancellation cancellation)
            throws UpstreamException {
        try {
            return pending.get();
        } catch (CancellationException e) {
            throw aborted(cancellation);
        } catch (InterruptedException e) {
            pending.cancel(true);
            Thread.currentThread().interrupt();
            throw new UpstreamException(UpstreamException.Kind.ABORTED, "interrupted");
        } catch (ExecutionException e) {
            if (cancellation.isCancelled()) {
                throw aborted(cancellation);
            }
            Throwable cause = e.getCause();
            String why = cause instanceof HttpTimeoutException
                    ? "the model endpoint did not answer within " + config.idleTimeout().toSeconds() + " s"
                    : "the model endpoint could not be reached";
            throw new UpstreamException(UpstreamException.Kind.SERVER, why, redaction.text(String.valueOf(cause)), 0, cause);
        }
    }

    /** Reads {@code data:} lines of a Chat Completions stream. */
    private ChatResult streamedAnswer(InputStream in, ChatListener listener, AtomicLong lastActivity)
            throws IOException, UpstreamException {
        Answer answer = new Answer(listener);
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), LINE_BUFFER_CHARS);
        String line;
        boolean done = false;
        while (!done && (line = reader.readLine()) != null) {
            lastActivity.set(System.nanoTime());
            if (!line.startsWith("data:")) {
                continue;
            }
            String data = line.substring(5).trim();
            if (data.equals("[DONE]")) {
                done = true;
            } else if (!data.isEmpty()) {
                ChatChunk chunk = parse(data);
                checkError(chunk);
                answer.chunk(chunk);
            }
        }
        if (!done && answer.finishReason == null) {
            throw new UpstreamException(UpstreamException.Kind.SERVER, "the model endpoint ended the stream before the answer was complete");
        }
        return answer.result();
    }

    /** A server that ignored {@code stream: true} and sent one {@code chat.completion} object. */
    private ChatResult wholeAnswer(ChatChunk completion, ChatListener listener) throws UpstreamException {
        Answer answer = new Answer(listener);
        checkError(completion);
        if (completion.choices() != null && !completion.choices().isEmpty()) {
            ChatChunk.Choice choice = completion.choices().getFirst();
            if (choice.message() != null) {
                answer.delta(choice.message());
            }
            answer.finish(choice.finishReason());
        }
        answer.usage(completion.usage());
        return answer.result();
    }

    /** The answer as it accumulates from chunks. */
    private static final class Answer {
        private final ChatListener listener;
        private final StringBuilder text = new StringBuilder();
        private final Map<Integer, StringBuilder[]> calls = new TreeMap<>();
        private final Map<Integer, Boolean> started = new TreeMap<>();
        private String finishReason;
        private Usage usage;

        Answer(ChatListener listener) {
            this.listener = listener;
        }

        void chunk(ChatChunk chunk) {
            if (chunk.choices() != null) {
                for (ChatChunk.Choice choice : chunk.choices()) {
                    if (choice.delta() != null) {
                        delta(choice.delta());
                    }
                    finish(choice.finishReason());
                }
            }
            usage(chunk.usage());
        }

        void delta(ChatChunk.Delta delta) {
            if (delta.content() != null && delta.content().isTextual()) {
                text(delta.content().asText());
            }
            if (delta.toolCalls() != null) {
                int position = 0;
                for (ChatChunk.ToolCall call : delta.toolCalls()) {
                    toolCall(call.index() != null ? call.index() : position, call.function());
                    position++;
                }
            }
        }

        void text(String delta) {
            if (!delta.isEmpty()) {
                text.append(delta);
                listener.text(delta);
            }
        }

        void toolCall(int index, ChatChunk.Function fn) {
            StringBuilder[] acc = calls.computeIfAbsent(index, i -> new StringBuilder[] {new StringBuilder(), new StringBuilder()});
            if (fn == null) {
                return;
            }
            if (fn.name() != null) {
                acc[0].append(fn.name());
            }
            if (!started.containsKey(index) && !acc[0].isEmpty()) {
                started.put(index, true);
                listener.toolCallStarted(index, acc[0].toString());
                if (!acc[1].isEmpty()) {
                    listener.toolCallArguments(index, acc[1].toString());
                }
            }
            JsonNode args = fn.arguments();
            String piece = args == null ? "" : args.isTextual() ? args.asText() : args.isObject() ? args.toString() : "";
            if (!piece.isEmpty()) {
                acc[1].append(piece);
                if (started.containsKey(index)) {
                    listener.toolCallArguments(index, piece);
                }
            }
        }

        void finish(String reason) {
            if (reason != null) {
                finishReason = reason;
            }
        }

        void usage(JsonNode u) {
            if (u != null && u.isObject() && u.path("prompt_tokens").canConvertToLong()) {
                usage = Usage.of(u.path("prompt_tokens").asLong(), u.path("completion_tokens").asLong(),
                        u.path("prompt_tokens_details").path("cached_tokens").asLong(),
                        u.path("completion_tokens_details").path("reasoning_tokens").asLong());
            }
        }

        ChatResult result() {
            List<ChatResult.ToolCall> toolCalls = new ArrayList<>();
            for (StringBuilder[] acc : calls.values()) {
                toolCalls.add(new ChatResult.ToolCall(acc[0].toString(), acc[1].isEmpty() ? "{}" : acc[1].toString()));
            }
            String reason = finishReason != null ? finishReason : toolCalls.isEmpty() ? "stop" : "tool_calls";
            return new ChatResult(text.toString(), List.copyOf(toolCalls), reason, usage);
        }
    }

    private ChatChunk parse(String data) throws UpstreamException {
        try {
            return CHUNK_READER.readValue(data);
        } catch (IOException e) {
            throw new UpstreamException(UpstreamException.Kind.SERVER, "the model endpoint sent a malformed stream event",
                    redaction.text(e.getMessage()), 0, e);
        }
    }

    /** Some servers report a failure inside a 200 stream as {@code {"error": ...}}. */
    private void checkError(ChatChunk chunk) throws UpstreamException {
        JsonNode error = chunk.error();
        if (error != null && !error.isNull()) {
            String message = error.isTextual() ? error.asText() : error.path("message").asText(error.toString());
            throw new UpstreamException(UpstreamException.Kind.SERVER, "the model endpoint reported an error", redaction.text(message), 0, null);
        }
    }

    /** An HTTP error: what its body says goes to the log only; bodies may echo the request's headers. */
    private UpstreamException statusError(HttpResponse<InputStream> response, InputStream in) {
        int status = response.statusCode();
        String said;
        try {
            byte[] bytes = in.readNBytes(64 * 1024);
            JsonNode json = Json.MAPPER.readTree(bytes);
            JsonNode error = json == null ? null : json.path("error");
            said = error != null && error.path("message").isTextual() ? error.path("message").asText()
                    : error != null && error.isTextual() ? error.asText() : new String(bytes, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            said = "(no readable error body)";
        }
        UpstreamException.Kind kind = status == 429 ? UpstreamException.Kind.RATE_LIMIT
                : status >= 500 ? UpstreamException.Kind.SERVER
                : status == 400 || status == 413 || status == 422 ? UpstreamException.Kind.INVALID_PROMPT
                : UpstreamException.Kind.REFUSED;
        String message = switch (status) {
            case 401, 403 -> "the model endpoint rejected the request (HTTP " + status + ")";
            case 400, 413, 422 -> "the model endpoint rejected the prompt (HTTP " + status + ")";
            case 429 -> "the model endpoint is rate limiting requests (HTTP 429)";
            default -> "the model endpoint answered HTTP " + status;
        };
        return new UpstreamException(kind, message, redaction.text(said), retryAfterMillis(response), null);
    }

    private static long retryAfterMillis(HttpResponse<?> response) {
        try {
            Optional<String> ms = response.headers().firstValue("retry-after-ms");
            if (ms.isPresent()) {
                return Long.parseLong(ms.get().trim());
            }
            return response.headers().firstValue("retry-after").map(s -> (long) (Double.parseDouble(s.trim()) * 1000)).orElse(0L);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private long backoff(int attempt, long retryAfterMillis) {
        if (retryAfterMillis > 0 && retryAfterMillis <= 60_000) {
            return retryAfterMillis;
        }
        long base = Math.min(config.retryBase().toMillis() << attempt, MAX_BACKOFF.toMillis());
        return (long) (base * (1 - ThreadLocalRandom.current().nextDouble(0.25)));
    }

    private static void sleep(long millis, Cancellation cancellation) throws UpstreamException {
        long until = System.currentTimeMillis() + millis;
        try {
            while (!cancellation.isCancelled() && System.currentTimeMillis() < until) {
                Thread.sleep(Math.min(50, Math.max(1, until - System.currentTimeMillis())));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (cancellation.isCancelled()) {
            throw aborted(cancellation);
        }
    }

    private static UpstreamException aborted(Cancellation cancellation) {
        return new UpstreamException(UpstreamException.Kind.ABORTED, "aborted: " + cancellation.reason());
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // closing to abort; nothing to do
        }
    }

    @Override
    public void close() {
        watchdog.shutdownNow();
        http.close();
    }

    /** Remembers whether any part of the answer reached the listener (then a retry would repeat it). */
    private static final class EmitTracker implements ChatListener {
        private final ChatListener delegate;
        boolean emitted;

        EmitTracker(ChatListener delegate) {
            this.delegate = delegate;
        }

        @Override
        public void text(String delta) {
            emitted = true;
            delegate.text(delta);
        }

        @Override
        public void toolCallStarted(int index, String name) {
            emitted = true;
            delegate.toolCallStarted(index, name);
        }

        @Override
        public void toolCallArguments(int index, String delta) {
            emitted = true;
            delegate.toolCallArguments(index, delta);
        }
    }
}
