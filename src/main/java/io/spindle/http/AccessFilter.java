package io.spindle.http;

import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import io.spindle.Settings;
import io.spindle.api.ApiException;
import io.spindle.api.Ids;
import java.util.Map;

/**
 * Runs before every route: gives the response its request id and CORS headers, answers CORS
 * preflights, and resolves the API key to a project ({@link Caller}).
 */
final class AccessFilter implements Filter {
    private static final HeaderName OPENAI_VERSION = HeaderNames.create("openai-version");
    private static final HeaderName PROCESSING_MS = HeaderNames.create("openai-processing-ms");

    private final Map<String, String> apiKeys;

    AccessFilter(Settings settings) {
        this.apiKeys = settings.apiKeys();
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        long started = System.nanoTime();
        res.header(Http.REQUEST_ID, Ids.request());
        res.header(OPENAI_VERSION, "2020-10-01");
        res.header(HeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, "*");
        res.header(HeaderNames.ACCESS_CONTROL_EXPOSE_HEADERS, "x-request-id, openai-processing-ms, openai-poll-after-ms");
        res.beforeSend(() -> res.header(PROCESSING_MS, Long.toString((System.nanoTime() - started) / 1_000_000)));
        if (req.prologue().method() == Method.OPTIONS) {
            res.header(HeaderNames.ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, DELETE, OPTIONS");
            res.header(HeaderNames.ACCESS_CONTROL_ALLOW_HEADERS,
                    req.headers().first(HeaderNames.ACCESS_CONTROL_REQUEST_HEADERS).orElse("*"));
            res.header(HeaderNames.ACCESS_CONTROL_MAX_AGE, "86400");
            res.status(Status.NO_CONTENT_204).send();
            return;
        }
        String path = req.path().rawPath();
        if (path.equals("/healthz") || path.equals("/readyz")) {
            chain.proceed();
            return;
        }
        req.context().register(new Caller(project(req)));
        chain.proceed();
    }

    private String project(RoutingRequest req) {
        if (apiKeys.isEmpty()) {
            return Settings.DEFAULT_PROJECT;
        }
        String auth = req.headers().first(HeaderNames.AUTHORIZATION).orElse("").trim();
        if (auth.isEmpty() || !auth.regionMatches(true, 0, "Bearer ", 0, 7) || auth.substring(7).isBlank()) {
            throw new ApiException(ApiException.Kind.AUTHENTICATION,
                    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth "
                            + "(i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're "
                            + "accessing the API from your browser and are prompted for a username and password.",
                    null, null);
        }
        String key = auth.substring(7).trim();
        String project = apiKeys.get(key);
        if (project == null) {
            throw new ApiException(ApiException.Kind.AUTHENTICATION,
                    "Incorrect API key provided: " + mask(key) + ".", null, "invalid_api_key");
        }
        return project;
    }

    /** Shows only the ends of a key, as OpenAI did. */
    private static String mask(String key) {
        if (key.length() <= 8) {
            return "*".repeat(key.length());
        }
        return key.substring(0, 3) + "*".repeat(Math.min(key.length() - 7, 20)) + key.substring(key.length() - 4);
    }
}
