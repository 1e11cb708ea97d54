package io.spindle.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.Predicate;

/**
 * A raw HTTP client for the API, for what the SDK cannot send (bad bodies, wrong types, odd
 * headers). Every JSON answer is checked against its OpenAI schema by {@link WireSchemas}.
 */
public final class Api {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final String baseUrl;
    private final String apiKey;

    public Api(String baseUrl, String apiKey) {
        this.baseUrl = baseUrl;
        this.apiKey = apiKey;
    }

    public Api withKey(String key) {
        return new Api(baseUrl, key);
    }

    /** A response; {@code json()} parses the body. */
    public record Response(int status, String body, java.net.http.HttpHeaders headers) {
        public JsonNode json() {
            try {
                return MAPPER.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + body, e);
            }
        }

        public String header(String name) {
            return headers.firstValue(name).orElse(null);
        }

        /** The error body's fields, after checking the status. */
        public JsonNode error(int expectedStatus) {
            if (status != expectedStatus) {
                throw new AssertionError("expected status " + expectedStatus + " but got " + status + ": " + body);
            }
            return json().get("error");
        }

        public JsonNode ok() {
            if (status != 200) {
                throw new AssertionError("expected status 200 but got " + status + ": " + body);
            }
            return json();
        }
    }

    public Response get(String path) {
        return send("GET", path, null);
    }

    public Response delete(String path) {
        return send("DELETE", path, null);
    }

    public Response post(String path, String json) {
        return send("POST", path, json);
    }

    public Response post(String path, Object body) {
        try {
            return send("POST", path, MAPPER.writeValueAsString(body));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A {@code POST} with {@code "stream": true}: the whole event stream once it ended ({@link SseEvents#parse} reads
     * it), or the JSON error that came instead.
     */
    public Response postStreaming(String path, String json) {
        HttpResponse<String> response = exchange(request("POST", path, json, Duration.ofSeconds(60)),
                HttpResponse.BodyHandlers.ofString());
        return new Response(response.statusCode(), response.body(), response.headers());
    }

    public Response send(String method, String path, String json) {
        return send(request(method, path, json, Duration.ofSeconds(30)));
    }

    /** A request with the headers the SDKs send: the beta header, the JSON body's type, the key. */
    private HttpRequest request(String method, String path, String json, Duration timeout) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(baseUrl + path))
                .timeout(timeout)
                .header("OpenAI-Beta", "assistants=v2")
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (json != null) {
            request.header("Content-Type", "application/json");
        }
        if (apiKey != null) {
            request.header("Authorization", "Bearer " + apiKey);
        }
        return request.build();
    }

    /**
     * A download ({@code GET /files/{id}/content}) that must succeed: the bytes as a stream. (An
     * error answer is JSON: ask for it with {@link #get}, which validates it.)
     */
    public InputStream download(String path) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofSeconds(120)).GET();
        if (apiKey != null) {
            request.header("Authorization", "Bearer " + apiKey);
        }
        HttpResponse<InputStream> response = exchange(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        if (response.statusCode() != 200) {
            try (InputStream in = response.body()) {
                throw new AssertionError("GET " + path + " answered " + response.statusCode() + ": "
                        + new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return response.body();
    }

    /** Sends any request (for tests that need full control) and validates the answer. */
    public Response send(HttpRequest request) {
        HttpResponse<String> response = exchange(request, HttpResponse.BodyHandlers.ofString());
        String contentType = response.headers().firstValue("content-type").orElse("");
        if (!contentType.startsWith("application/json")) {
            throw new AssertionError(request.method() + " " + request.uri() + " answered " + response.statusCode()
                    + " with content type '" + contentType + "': " + response.body());
        }
        if (response.headers().firstValue("x-request-id").isEmpty()) {
            throw new AssertionError(request.method() + " " + request.uri() + " answered without x-request-id");
        }
        WireSchemas.check(request.method(), request.uri().getPath(), response.statusCode(), response.body());
        return new Response(response.statusCode(), response.body(), response.headers());
    }

    private static <T> HttpResponse<T> exchange(HttpRequest request, HttpResponse.BodyHandler<T> body) {
        try {
            return HTTP.send(request, body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public String baseUrl() {
        return baseUrl;
    }

    /** Uploads {@code bytes} as a file through {@code POST /v1/files}; returns its id. */
    public String uploadFile(String purpose, String filename, byte[] bytes) {
        byte[] form = new Multipart().text("purpose", purpose).file("file", filename, bytes).end();
        return send(Multipart.post(baseUrl + "/v1/files", apiKey, form, Multipart.CONTENT_TYPE)).ok().get("id").asText();
    }

    /** GETs {@code path} every 100 ms until {@code done} holds for the answer (a background job finished). */
    public JsonNode await(String path, Predicate<JsonNode> done, Duration timeout) throws InterruptedException {
        long until = System.nanoTime() + timeout.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < until) {
            last = get(path).ok();
            if (done.test(last)) {
                return last;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("not done within " + timeout + ": " + last);
    }
}
