package io.spindle.http;

import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import io.spindle.Settings;
import io.spindle.api.ApiException;
import io.spindle.trace.WorkContext;
import java.util.Map;
import java.util.Optional;

/**
 * Runs before every route: refuses requests addressed to a foreign host or sent by a page of a
 * foreign origin ({@link BrowserAccess}), gives answers their CORS headers, answers CORS preflights,
 * and resolves the API key to a project ({@link Caller}), or answers 401. It answers refusals itself
 * rather than throwing, so that {@link ProtocolFilter} sees every answer go out.
 */
final class AccessFilter implements Filter {
    private final Map<String, String> apiKeys;
    private final BrowserAccess browsers;

    AccessFilter(Settings settings, BrowserAccess browsers) {
        this.apiKeys = settings.apiKeys();
        this.browsers = browsers;
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        String host = req.headers().first(HeaderNames.HOST).orElse("");
        if (!browsers.allowsHost(host)) {
            Http.send(req, res, Status.FORBIDDEN_403, Errors.body("Host '" + host + "' is not served: without SPINDLE_API_KEYS "
                    + "this server answers only requests addressed to localhost, 127.0.0.1 or [::1], or to a name listed in "
                    + "SPINDLE_ALLOWED_HOSTS.", "invalid_request_error", null, "host_not_allowed"));
            return;
        }
        Optional<String> origin = req.headers().first(HeaderNames.ORIGIN);
        if (origin.isPresent() && !browsers.allowsOrigin(origin.get())) {
            Http.send(req, res, Status.FORBIDDEN_403, Errors.body("Origin '" + origin.get() + "' may not call this server: "
                    + "list it in SPINDLE_CORS_ORIGINS.", "invalid_request_error", null, "origin_not_allowed"));
            return;
        }
        if (browsers.anyOrigin()) {
            res.header(HeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, "*");
        } else if (origin.isPresent()) {
            res.header(HeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, origin.get());
            res.header(HeaderNames.VARY, "Origin");
        }
        res.header(HeaderNames.ACCESS_CONTROL_EXPOSE_HEADERS, "x-request-id, openai-processing-ms, openai-poll-after-ms");
        if (req.prologue().method() == Method.OPTIONS) {
            res.header(HeaderNames.ACCESS_CONTROL_ALLOW_METHODS, "GET, HEAD, POST, DELETE, OPTIONS");
            res.header(HeaderNames.ACCESS_CONTROL_ALLOW_HEADERS,
                    req.headers().first(HeaderNames.ACCESS_CONTROL_REQUEST_HEADERS).orElse("*"));
            res.header(HeaderNames.ACCESS_CONTROL_MAX_AGE, "86400");
            res.status(Status.NO_CONTENT_204).send();
            return;
        }
        String path = req.path().rawPath();
        // health checks answer anyone; /metrics has access rules of its own (MetricsRoutes)
        if (path.equals("/healthz") || path.equals("/readyz") || path.equals("/metrics")) {
            chain.proceed();
            return;
        }
        try {
            String project = project(req);
            req.context().register(new Caller(project));
            WorkContext.update(work -> work.withProject(project));
        } catch (ApiException e) {
            Errors.api(req, res, e);
            return;
        }
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
