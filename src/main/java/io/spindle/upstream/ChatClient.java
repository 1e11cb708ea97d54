package io.spindle.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindle.api.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A thin client for any OpenAI-compatible {@code POST /chat/completions}: it streams the answer
 * ({@code stream_options.include_usage}), tolerates servers that leave out optional fields, usage,
 * {@code [DONE]} or streaming altogether, and retries failures with backoff as long as nothing of
 * the answer has been handed on yet. Whatever the upstream sends, a call holds a bounded amount of
 * it: a line of at most {@link Config#maxLineBytes}, an answer of at most {@link Config#maxAnswerChars}.
 */
public final class ChatClient implements ChatModel, AutoCloseable {

    /**
     * Where and how to call the model, and how much of its answer to take: a stream event (or a whole unstreamed
     * answer) longer than {@code maxLineBytes} fails the call; text past {@code maxAnswerChars} ends the answer as a
     * length cut-off. An {@link ModelRoute.Kind#AZURE Azure} endpoint needs its {@code deployment} and
     * {@code apiVersion}; an OpenAI-compatible one uses neither.
     */
    public record Config(URI baseUrl, Optional<String> apiKey, ModelRoute.Kind kind, Optional<String> deployment,
                         Optional<String> apiVersion, Duration idleTimeout, int maxRetries, Duration retryBase,
                         int maxLineBytes, int maxAnswerChars) {

        public Config {
            if (kind == ModelRoute.Kind.AZURE && (blank(deployment) || blank(apiVersion))) {
                throw new IllegalArgumentException("an Azure OpenAI endpoint needs a deployment name and an api-version");
            }
        }

        /** An OpenAI-compatible endpoint. */
        public Config(URI baseUrl, Optional<String> apiKey, Duration idleTimeout, int maxRetries, Duration retryBase,
                      int maxLineBytes, int maxAnswerChars) {
            this(baseUrl, apiKey, ModelRoute.Kind.OPENAI, Optional.empty(), Optional.empty(), idleTimeout, maxRetries,
                    retryBase, maxLineBytes, maxAnswerChars);
        }

        /** How to call {@code route}'s endpoint, with the limits every route shares. Azure's deployment is the upstream model. */
        public static Config of(ModelRoute route, Duration retryBase, int maxLineBytes, int maxAnswerChars) {
            boolean azure = route.kind() == ModelRoute.Kind.AZURE;
            return new Config(route.baseUrl(), route.apiKey(), route.kind(), azure ? route.upstreamModel() : Optional.empty(),
                    azure ? route.apiVersion() : Optional.empty(), route.timeout(), route.retries(), retryBase,
                    maxLineBytes, maxAnswerChars);
        }

        /** {@code POST} here: {@code {base}/chat/completions}, or Azure's deployment path with its api-version. */
        URI endpoint() {
            String base = baseUrl.toString();
            base = base.endsWith("/") ? base : base + "/";
            return switch (kind) {
                case OPENAI -> URI.create(base + "chat/completions");
                case AZURE -> URI.create(base + "openai/deployments/" + encoded(deployment.orElseThrow())
                        + "/chat/completions?api-version=" + encoded(apiVersion.orElseThrow()));
            };
        }

        private static boolean blank(Optional<String> value) {
            return value.map(String::isBlank).orElse(true);
        }

        /** For a path segment or a query value: URLEncoder's {@code +} for a space is right only in a query. */
        private static String encoded(String value) {
            return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
        }
    }

    private static final Duration MAX_BACKOFF = Duration.ofSeconds(8);
    /** How long a finished answer waits for its usage chunk when the server sends neither {@code [DONE]} nor closes. */
    static final Duration FINISHED_GRACE = Duration.ofSeconds(2);
    private static final ObjectReader CHUNK_READER = Json.MAPPER.readerFor(ChatChunk.class);

    private final Config config;
    private final URI endpoint;
    private final Redaction redaction;
    private final HttpClient http;
    private final ScheduledExecutorService watchdog;

    public ChatClient(Config config) {
        this.config = config;
        this.endpoint = config.endpoint();
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

    @Override
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

    /**
     * One request. Its response body is closed on every path: by the try below once there is a response, and by
     * {@link Body#abandon} when the call is given up before (the body may still arrive after a cancel).
     */
    private ChatResult attempt(byte[] body, ChatListener listener, Cancellation cancellation) throws UpstreamException {
        HttpRequest.Builder request = HttpRequest.newBuilder(endpoint)
                .timeout(config.idleTimeout())
                .header("Content-Type", "application/json")
                .header("Accept", "text/event-stream, application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        config.apiKey().ifPresent(key -> {
            if (config.kind() == ModelRoute.Kind.AZURE) {
                request.header("api-key", key);
            } else {
                request.header("Authorization", "Bearer " + key);
            }
        });
        Body responseBody = new Body();
        CompletableFuture<HttpResponse<InputStream>> pending = http.sendAsync(request.build(), responseBody);
        cancellation.onCancel(() -> {
            pending.cancel(true);
            responseBody.abandon();
        });
        HttpResponse<InputStream> response = await(pending, responseBody, cancellation);
        InputStream in = response.body();
        IdleWatch watch = new IdleWatch(config.idleTimeout(), FINISHED_GRACE, in);
        ScheduledFuture<?> idleCheck = watchdog.scheduleAtFixedRate(watch::check, 1, 1, TimeUnit.SECONDS);
        try (in) {
            if (response.statusCode() >= 400) {
                throw statusError(response, in);
            }
            String contentType = response.headers().firstValue("content-type").orElse("");
            if (contentType.startsWith("application/json")) {
                return wholeAnswer(in, listener, watch);
            }
            return streamedAnswer(in, listener, watch, cancellation);
        } catch (IOException e) {
            if (cancellation.isCancelled()) {
                throw aborted(cancellation);
            }
            if (watch.fired()) {
                throw new UpstreamException(UpstreamException.Kind.SERVER,
                        "the model endpoint stopped answering for " + config.idleTimeout().toSeconds() + " s");
            }
            throw new UpstreamException(UpstreamException.Kind.SERVER, "the connection to the model endpoint failed",
                    redaction.text(e.toString()), 0, e);
        } finally {
            idleCheck.cancel(false);
        }
    }

    private HttpResponse<InputStream> await(CompletableFuture<HttpResponse<InputStream>> pending, Body body,
                                            Cancellation cancellation) throws UpstreamException {
        try {
            return pending.get();
        } catch (CancellationException e) {
            throw aborted(cancellation);
        } catch (InterruptedException e) {
            pending.cancel(true);
            body.abandon();
            Thread.currentThread().interrupt();
            throw new UpstreamException(UpstreamException.Kind.ABORTED, "interrupted");
        } catch (ExecutionException e) {
            body.abandon();
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

    /**
     * Reads the {@code data:} lines of a Chat Completions stream, until {@code [DONE]}, the end of the stream, or the
     * answer reaching its size limit. Once the answer has finished, a stream that breaks or goes quiet (see
     * {@link IdleWatch}) ends it as well: nothing but usage could still come.
     */
    private ChatResult streamedAnswer(InputStream in, ChatListener listener, IdleWatch watch, Cancellation cancellation)
            throws IOException, UpstreamException {
        Answer answer = new Answer(listener, config.maxAnswerChars());
        LineReader reader = new LineReader(in, config.maxLineBytes());
        try {
            String line;
            while (!answer.cut() && (line = reader.readLine()) != null) {
                watch.activity();
                if (!line.startsWith("data:")) {
                    continue;
                }
                String data = line.substring(5).trim();
                if (data.equals("[DONE]")) {
                    return answer.result();
                }
                if (!data.isEmpty()) {
                    ChatChunk chunk = parse(data);
                    checkError(chunk);
                    answer.chunk(chunk);
                    if (answer.finished()) {
                        watch.answerFinished();
                    }
                }
            }
        } catch (LineReader.TooLong e) {
            throw tooLong();
        } catch (IOException e) {
            if (!answer.finished() || cancellation.isCancelled()) {
                throw e;
            }
        }
        if (!answer.finished()) {
            throw new UpstreamException(UpstreamException.Kind.SERVER, "the model endpoint ended the stream before the answer was complete");
        }
        return answer.result();
    }

    /** A server that ignored {@code stream: true} and sent one {@code chat.completion} object. */
    private ChatResult wholeAnswer(InputStream in, ChatListener listener, IdleWatch watch) throws IOException, UpstreamException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        byte[] buffer = new byte[8_192];
        for (int n; (n = in.read(buffer)) >= 0; ) {
            watch.activity();
            if (bytes.size() + n > config.maxLineBytes()) {
                throw tooLong();
            }
            bytes.write(buffer, 0, n);
        }
        ChatChunk completion = parse(bytes.toString(StandardCharsets.UTF_8));
        checkError(completion);
        Answer answer = new Answer(listener, config.maxAnswerChars());
        answer.completion(completion);
        return answer.result();
    }

    private UpstreamException tooLong() {
        return new UpstreamException(UpstreamException.Kind.TOO_LARGE, "the model endpoint sent a line longer than "
                + config.maxLineBytes() + " bytes", "SPINDLE_UPSTREAM_MAX_LINE_BYTES=" + config.maxLineBytes(), 0, null);
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

    /**
     * An HTTP error: what its body says goes to the log only, as bodies may echo the request's headers; but a content
     * filter's verdict (Azure's {@code content_filter} code) is the client's to read.
     */
    private UpstreamException statusError(HttpResponse<InputStream> response, InputStream in) {
        int status = response.statusCode();
        String said;
        try {
            said = new String(in.readNBytes(64 * 1024), StandardCharsets.UTF_8);
        } catch (IOException e) {
            said = "(no readable error body: " + e + ")";
        }
        JsonNode error = MissingNode.getInstance();
        try {
            error = Json.MAPPER.readTree(said).path("error");
            said = error.path("message").isTextual() ? error.path("message").asText() : error.isTextual() ? error.asText() : said;
        } catch (IOException | RuntimeException notJson) {
            // said as it was sent
        }
        if (status == 400 && error.path("code").asText().equals("content_filter")) {
            return contentFiltered(error);
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

    /**
     * Azure's content filter refused the prompt: {@code {"error":{"code":"content_filter","message":…,"innererror":
     * {"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":true,"severity":"medium"},…}}}}}.
     * The message says so in the filter's words, and names the categories that filtered.
     */
    private UpstreamException contentFiltered(JsonNode error) {
        String said = error.path("message").asText("");
        StringBuilder message = new StringBuilder(said.isBlank() ? "The model endpoint's content filter rejected the prompt." : said);
        List<String> filtered = new ArrayList<>();
        error.path("innererror").path("content_filter_result").properties().forEach(category -> {
            if (category.getValue().path("filtered").asBoolean(false)) {
                JsonNode severity = category.getValue().path("severity");
                filtered.add(category.getKey() + (severity.isTextual() ? " (" + severity.asText() + ")" : ""));
            }
        });
        if (!filtered.isEmpty()) {
            message.append(" Filtered: ").append(String.join(", ", filtered)).append('.');
        }
        return new UpstreamException(UpstreamException.Kind.INVALID_PROMPT, redaction.text(message.toString()),
                redaction.text(error.toString()), 0, null);
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

    /**
     * Hands out an attempt's response body as an {@code InputStream}, and closes it if the attempt was given up: at once
     * when it arrives after that, as it can when a cancel and the response's headers cross.
     */
    private static final class Body implements HttpResponse.BodyHandler<InputStream> {
        private InputStream stream;
        private boolean abandoned;

        @Override
        public HttpResponse.BodySubscriber<InputStream> apply(HttpResponse.ResponseInfo info) {
            HttpResponse.BodySubscriber<InputStream> subscriber = HttpResponse.BodySubscribers.ofInputStream();
            subscriber.getBody().thenAccept(this::arrived);
            return subscriber;
        }

        private synchronized void arrived(InputStream in) {
            stream = in;
            if (abandoned) {
                closeQuietly(in);
            }
        }

        synchronized void abandon() {
            abandoned = true;
            if (stream != null) {
                closeQuietly(stream);
            }
        }
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
