package io.spindle.http;

import io.helidon.http.Method;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import io.spindle.metrics.Metrics;
import java.time.Duration;
import java.util.Set;

/**
 * Counts and times every answer by method, route template (e.g. {@code /v1/threads/{thread_id}/runs}, never the ids
 * in the path) and status, once it is sent, whether a route, an error handler or a filter answered. Requests no route
 * template matched (an unknown path; a request a filter refused, e.g. for its key) are counted as route
 * {@code unmatched}.
 */
final class MetricsFilter implements Filter {
    private static final Set<Method> KNOWN = Set.of(Method.GET, Method.POST, Method.DELETE, Method.OPTIONS);

    private final Metrics metrics;

    MetricsFilter(Metrics metrics) {
        this.metrics = metrics;
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        long started = System.nanoTime();
        // any token is a method to HTTP: labels keep to the ones the API has (HEAD arrives here as GET: ProtocolFilter)
        String method = KNOWN.contains(req.prologue().method()) ? req.prologue().method().text() : "other";
        res.whenSent(() -> metrics.request(method, req.matchingPattern().filter(route -> !route.isEmpty()).orElse("unmatched"), res.status().code(),
                Duration.ofNanos(System.nanoTime() - started)));
        chain.proceed();
    }
}
