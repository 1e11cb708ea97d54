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
import java.util.concurrent.CompletableFuture;

/**
 * The official OpenAI Java SDK pointed at a Spindle server, with response validation on, and with
 * every JSON body it receives checked against the OpenAI schema of its route first. Event streams
 * are checked as they pass, event by event ({@link SseEvents.CheckingInputStream}), so streaming
 * calls still see each event as soon as it arrives.
 */
public final class Sdk {
    private Sdk() {}

    public static OpenAIClient client(String baseUrl, String apiKey) {
        HttpClient okHttp = OkHttpClient.builder().timeout(Duration.ofSeconds(60)).build();
        ClientOptions options = ClientOptions.builder()
                .httpClient(new SchemaCheckingClient(okHttp))
                .baseUrl(baseUrl)
                .apiKey(apiKey == null ? "unused" : apiKey)
                .responseValidation(true)
                .maxRetries(0)
                .build();
        return new OpenAIClientImpl(options);
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
