package io.spindle.http;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.spindle.Settings;
import io.spindle.api.ApiException;
import io.spindle.metrics.Metrics;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * {@code GET /metrics}: the figures in Prometheus' text format. Loopback clients (a Prometheus or an agent on the same
 * machine) read them freely, as does anyone when {@code SPINDLE_METRICS_PUBLIC=true}; other clients need an admin key.
 * API keys open nothing here: they belong to projects, and the figures are the whole node's.
 */
final class MetricsRoutes implements HttpService {
    private static final String TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8";

    private final Settings.MetricsAccess access;
    private final Metrics metrics;

    MetricsRoutes(Settings.MetricsAccess access, Metrics metrics) {
        this.access = access;
        this.metrics = metrics;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/metrics", this::scrape);
    }

    private void scrape(ServerRequest req, ServerResponse res) {
        if (!access.open() && !isLoopback(req.remotePeer().address())) {
            checkAdminKey(req);
        }
        byte[] text = metrics.scrape().getBytes(StandardCharsets.UTF_8);
        res.header(HeaderNames.CONTENT_TYPE, TEXT_FORMAT);
        if (Http.isHead(req)) {
            res.header(HeaderNames.CONTENT_LENGTH, Integer.toString(text.length));
            res.send();
            return;
        }
        res.send(text);
    }

    private static boolean isLoopback(SocketAddress peer) {
        return peer instanceof InetSocketAddress inet && inet.getAddress() != null && inet.getAddress().isLoopbackAddress();
    }

    private void checkAdminKey(ServerRequest req) {
        if (access.adminKeys().isEmpty()) {
            throw new ApiException(ApiException.Kind.FORBIDDEN, "GET /metrics answers only loopback clients here: set "
                    + "SPINDLE_ADMIN_KEYS and send one as 'Authorization: Bearer KEY', or set SPINDLE_METRICS_PUBLIC=true.",
                    null, "metrics_not_public");
        }
        String auth = req.headers().first(HeaderNames.AUTHORIZATION).orElse("").trim();
        if (!auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw new ApiException(ApiException.Kind.AUTHENTICATION, "GET /metrics needs an admin key (SPINDLE_ADMIN_KEYS) "
                    + "in an Authorization header using Bearer auth.", null, "missing_admin_key");
        }
        byte[] given = auth.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        // compared in constant time, each key, so the answer's timing tells nothing about a key
        boolean known = false;
        for (String key : access.adminKeys()) {
            known |= MessageDigest.isEqual(given, key.getBytes(StandardCharsets.UTF_8));
        }
        if (!known) {
            throw new ApiException(ApiException.Kind.AUTHENTICATION,
                    "Incorrect admin key provided: GET /metrics takes a key of SPINDLE_ADMIN_KEYS.", null, "invalid_admin_key");
        }
    }
}
