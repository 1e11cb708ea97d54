package io.spindle.http;

import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.HttpPrologue;
import io.helidon.http.Method;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import io.spindle.api.ApiException;
import io.spindle.api.Ids;

/**
 * The outermost filter: HTTP/1.1 matters every exchange needs, before access rules and routes.
 * Every answer gets its request id. {@code HEAD} is routed as {@code GET} and answered without the
 * body ({@link Http#send}). A request or answer saying {@code Connection: close} ends the connection
 * once answered (Helidon 4.5 would keep reading). The path and query must be valid UTF-8 once
 * percent-decoded. Body reads are watched by the {@link ReadDeadlines}.
 */
final class ProtocolFilter implements Filter {
    private static final HeaderName OPENAI_VERSION = HeaderNames.create("openai-version");
    private static final HeaderName PROCESSING_MS = HeaderNames.create("openai-processing-ms");

    private final ReadDeadlines deadlines;

    ProtocolFilter(ReadDeadlines deadlines) {
        this.deadlines = deadlines;
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        long started = System.nanoTime();
        res.header(Http.REQUEST_ID, Ids.request());
        res.header(OPENAI_VERSION, "2020-10-01");
        res.beforeSend(() -> {
            res.header(PROCESSING_MS, Long.toString((System.nanoTime() - started) / 1_000_000));
            if (Http.mustClose(req)) {
                res.header(HeaderValues.CONNECTION_CLOSE);
            }
        });
        HttpPrologue prologue = req.prologue();
        if (prologue.method() == Method.HEAD) {
            Http.markHead(req);
            req.prologue(HttpPrologue.create(prologue.rawProtocol(), prologue.protocol(), prologue.protocolVersion(),
                    Method.GET, prologue.uriPath(), prologue.query(), prologue.fragment()));
        }
        // before anything touches req.content(): the entity takes the filters set when it is first asked for
        req.streamFilter(deadlines::guard);
        if (Utf8.isValidEscaped(prologue.uriPath().rawPath()) && Utf8.isValidEscaped(prologue.query().rawValue())) {
            chain.proceed();
        } else {
            // answered here, not thrown: the connection check below must run after every answer
            Errors.api(req, res, ApiException.invalid("Invalid URL (" + prologue.method().text() + " " + prologue.uriPath().rawPath()
                    + "): the path and query must be valid UTF-8 once percent-decoded.", null, "invalid_encoding"));
        }
        if (req.headers().containsToken(HeaderValues.CONNECTION_CLOSE) || res.headers().containsToken(HeaderValues.CONNECTION_CLOSE)) {
            throw new CloseConnectionException("the request or its answer asked to close the connection");
        }
    }
}
