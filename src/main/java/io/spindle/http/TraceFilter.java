package io.spindle.http;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import io.spindle.trace.Traced;
import io.spindle.trace.Tracing;
import io.spindle.trace.WorkContext;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Gives every request a server span (the client's {@code traceparent} its parent) and makes the request known to the log
 * lines written while it is answered: its request id, and the thread and run its path names ({@link AccessFilter} adds
 * the project). Runs after {@link ProtocolFilter}, which made the request id.
 */
final class TraceFilter implements Filter {
    /** A path segment that is an object id ({@code thread_abc…}, {@code file-abc…}): replaced in span names, which must be few. */
    private static final Pattern ID = Pattern.compile("[a-z]+[_-][A-Za-z0-9]{8,}");

    private final Tracing tracing;

    TraceFilter(Tracing tracing) {
        this.tracing = tracing;
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        String path = req.prologue().uriPath().rawPath();
        String requestId = res.headers().first(Http.REQUEST_ID).orElseThrow();
        String[] segments = path.split("/");
        WorkContext work = new WorkContext(requestId, null, idAfter(segments, "threads"), idAfter(segments, "runs"));
        String method = req.prologue().method().text();
        try (WorkContext.Binding bound = WorkContext.bind(work);
             Traced span = tracing.request(method + " " + route(segments),
                     name -> req.headers().first(HeaderNames.create(name)).orElse(null),
                     Map.of("http.request.method", method, "url.path", path, "spindle.request_id", requestId))) {
            try {
                chain.proceed();
            } catch (RuntimeException | Error e) {
                span.failed(e);
                throw e;
            }
            int status = res.status().code();
            span.attribute("http.response.status_code", status);
            if (status >= 500) {
                span.failed("HTTP " + status);
            }
        }
    }

    /** The path with its ids replaced by {@code {id}}: {@code /v1/threads/{id}/runs}. */
    private static String route(String[] segments) {
        StringBuilder route = new StringBuilder();
        for (String segment : segments) {
            if (!segment.isEmpty()) {
                route.append('/').append(ID.matcher(segment).matches() ? "{id}" : segment);
            }
        }
        return route.isEmpty() ? "/" : route.toString();
    }

    /** The segment after {@code name} ({@code threads}, {@code runs}) when it is an id, else null. */
    private static String idAfter(String[] segments, String name) {
        for (int i = 0; i + 1 < segments.length; i++) {
            if (segments[i].equals(name) && ID.matcher(segments[i + 1]).matches()) {
                return segments[i + 1];
            }
        }
        return null;
    }
}
