package io.spindle.testing;

import com.openai.client.OpenAIClient;
import com.openai.client.OpenAIClientImpl;
import com.openai.client.okhttp.OkHttpClient;
import com.openai.core.ClientOptions;
import com.openai.core.RequestOptions;
import com.openai.core.http.Headers;
import com.openai.core.http.HttpClient;
import com.openai.core.http.HttpRequest;
import com.openai.core.http.HttpResponse;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The official OpenAI Java SDK pointed at a Spindle server, with response validation on, and with
 * every JSON body it receives checked against the OpenAI schema of its route first. Event streams
 * are checked as they pass, event by event ({@link SseEvents.CheckingInputStream}), so streaming
 * calls still see each event as soon as it arrives.
 */
public final class Sdk {
    private Sdk() {}

    public static OpenAIClient client(String baseUrl, String apiKey) {
        return client(new SchemaCheckingClient(okHttp()), baseUrl, apiKey);
    }

    /**
     * The SDK spread over the nodes of a cluster: request n goes to {@code baseUrls[n % size]}, whatever the call.
     * {@code sentTo} (thread-safe, or null) receives each request's base URL, in sending order.
     */
    public static OpenAIClient roundRobin(List<String> baseUrls, String apiKey, List<String> sentTo) {
        return client(new SchemaCheckingClient(new RoundRobin(okHttp(), List.copyOf(baseUrls), new AtomicInteger(), sentTo)),
                baseUrls.getFirst(), apiKey);
    }

    private static HttpClient okHttp() {
        return OkHttpClient.builder().timeout(Duration.ofSeconds(60)).build();
    }

    private static OpenAIClient client(HttpClient httpClient, String baseUrl, String apiKey) {
        ClientOptions options = ClientOptions.builder()
                .httpClient(httpClient)
                .baseUrl(baseUrl)
                .apiKey(apiKey == null ? "unused" : apiKey)
                .responseValidation(true)
                .maxRetries(0)
                .build();
        return new OpenAIClientImpl(options);
    }

    /** Sends each request to the next base URL in turn. */
    private record RoundRobin(HttpClient delegate, List<String> baseUrls, AtomicInteger next, List<String> sentTo)
            implements HttpClient {
        @Override
        public HttpResponse execute(HttpRequest request, RequestOptions options) {
            return delegate.execute(rebased(request), options);
        }

        @Override
        public CompletableFuture<HttpResponse> executeAsync(HttpRequest request, RequestOptions options) {
            return delegate.executeAsync(rebased(request), options);
        }

        private HttpRequest rebased(HttpRequest request) {
            String baseUrl = baseUrls.get(Math.floorMod(next.getAndIncrement(), baseUrls.size()));
            if (sentTo != null) {
                sentTo.add(baseUrl);
            }
            return request.toBuilder().baseUrl(baseUrl).build();
        }

        @Override
        public void close() {
            delegate.close();
        }
    }

    /** Buffers each JSON response, validates it, and hands the SDK an identical copy; checks event streams in passing. */
    private record SchemaCheckingClient(HttpClient delegate) implements HttpClient {
        @Override
        public HttpResponse execute(HttpRequest request, RequestOptions options) {
            return checked(request, delegate.execute(request, options));
        }

        @Override
        public CompletableFuture<HttpResponse> executeAsync(HttpRequest request, RequestOptions options) {
            return delegate.executeAsync(request, options).thenApply(r -> checked(request, r));
        }

        @Override
        public void close() {
            delegate.close();
        }

        private static HttpResponse checked(HttpRequest request, HttpResponse response) {
            String contentType = response.headers().values("content-type").stream().findFirst().orElse("");
            if (contentType.startsWith("text/event-stream")) {
                return new EventsChecked(response, new SseEvents.CheckingInputStream(response.body()));
            }
            if (!contentType.startsWith("application/json")) {
                return response;
            }
            byte[] body;
            try (InputStream in = response.body()) {
                body = in.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                response.close();
            }
            String path = "/" + String.join("/", request.pathSegments());
            WireSchemas.check(request.method().name(), path, response.statusCode(), new String(body, StandardCharsets.UTF_8));
            return new Buffered(response.statusCode(), response.headers(), body);
        }
    }

    /** An event stream whose events are validated as the SDK reads them. */
    private record EventsChecked(HttpResponse response, InputStream body) implements HttpResponse {
        @Override
        public int statusCode() {
            return response.statusCode();
        }

        @Override
        public Headers headers() {
            return response.headers();
        }

        @Override
        public void close() {
            response.close();
        }
    }

    private record Buffered(int statusCode, Headers headers, byte[] bytes) implements HttpResponse {
        @Override
        public InputStream body() {
            return new ByteArrayInputStream(bytes);
        }

        @Override
        public void close() {}
    }
}
