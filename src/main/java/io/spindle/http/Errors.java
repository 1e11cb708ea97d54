package io.spindle.http;

import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.HttpException;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.spindle.api.ApiException;
import io.spindle.api.Ids;
import io.spindle.api.Json;
import io.spindle.store.StoreException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/** Turns every failure into OpenAI's error body; internal faults are logged with their stack trace. */
final class Errors {
    private static final Logger LOG = Logger.getLogger(Errors.class.getName());
    static final String TOO_LARGE_MESSAGE = "Request body too large. Reduce the size of the request body and try again.";
    static final String SERVER_ERROR_MESSAGE = "The server had an error processing your request. Sorry about that! "
            + "You can retry your request, or contact us through our help center at help.openai.com if you keep seeing this error.";

    private Errors() {}

    static byte[] body(String message, String type, String param, String code) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("message", message);
        error.put("type", type);
        error.put("param", param);
        error.put("code", code);
        return Json.writeBytes(Map.of("error", error));
    }

    static void api(ServerRequest req, ServerResponse res, ApiException e) {
        if (e.kind() == ApiException.Kind.TOO_LARGE) {
            // as Helidon does for its own 413: close rather than read the rest of a body that may be huge
            res.header(HeaderValues.CONNECTION_CLOSE);
        }
        Http.send(req, res, Status.create(e.kind().status),
                body(e.getMessage(), e.kind().type, e.param(), e.code()));
    }

    /** Helidon's own HTTP errors raised inside routing (e.g. a body over the size limit). */
    static void http(ServerRequest req, ServerResponse res, HttpException e) {
        if (e.status().code() >= 500) {
            internal(req, res, e);
            return;
        }
        Status status = e.status();
        String message = status.code() == 413 ? TOO_LARGE_MESSAGE : e.getMessage();
        Http.send(req, res, status, body(message, "invalid_request_error", null, null));
    }

    /** A database failure: a 503 the SDKs retry when the node was only overloaded, else a 500. */
    static void store(ServerRequest req, ServerResponse res, StoreException e) {
        if (!e.noConnection()) {
            internal(req, res, e);
            return;
        }
        LOG.warning("request " + res.headers().first(Http.REQUEST_ID).orElse("") + " " + req.prologue().method().text() + " "
                + req.prologue().uriPath().rawPath() + " answered 503: " + e.getMessage());
        res.header(HeaderNames.RETRY_AFTER, "1");
        Http.send(req, res, Status.SERVICE_UNAVAILABLE_503, body("Spindle is overloaded: no database connection came free in time. "
                + "Retry the request in a moment.", "server_error", null, null));
    }

    /**
     * The embedding endpoint failed a query's embedding (after its retries): the client hears that, and the log line
     * (without a stack trace) what it answered, redacted.
     */
    static void embedding(ServerRequest req, ServerResponse res, io.spindle.search.EmbeddingException e) {
        LOG.warning("request " + res.headers().first(Http.REQUEST_ID).orElse("") + " " + req.prologue().method().text() + " "
                + req.prologue().uriPath().rawPath() + " failed: " + io.spindle.upstream.Redaction.patterns(e.getMessage()));
        Http.send(req, res, Status.BAD_GATEWAY_502, body("The embedding model could not embed the query. Retry the request in a moment.",
                "server_error", null, null));
    }

    static void internal(ServerRequest req, ServerResponse res, Throwable e) {
        String requestId = res.headers().first(Http.REQUEST_ID).orElse("");
        LOG.log(Level.SEVERE, "request " + requestId + " " + req.prologue().method().text() + " " + req.prologue().uriPath().rawPath() + " failed", e);
        Http.send(req, res, Status.INTERNAL_SERVER_ERROR_500,
                body(SERVER_ERROR_MESSAGE + " (Please include the request ID " + requestId + " in your message.)",
                        "server_error", null, null));
    }

    /**
     * Answers the failures Helidon meets before routing (an unparseable request line or headers, a
     * body over the limit, ...). Helidon files a failure it did not classify as an internal error
     * without a request: before routing that is input it could not parse (e.g. a method with
     * non-ASCII letters, which Helidon 4.5 lets out as an IllegalArgumentException); it is answered
     * 400, and Helidon then logs no stack trace.
     */
    static DirectHandler direct(BrowserAccess browsers) {
        return (request, eventType, status, headers, message) -> {
            boolean unparsed = eventType == DirectHandler.EventType.INTERNAL_ERROR && request == DirectHandler.TransportRequest.empty();
            Status answered = unparsed ? Status.BAD_REQUEST_400 : status;
            String text = answered.code() == 413 ? TOO_LARGE_MESSAGE
                    : unparsed ? "We could not parse your request as HTTP/1.1."
                    : message == null || message.isBlank() ? answered.reasonPhrase() : message;
            headers.set(HeaderNames.CONTENT_TYPE, Http.JSON);
            // AccessFilter never ran for these, so add the headers every answer carries
            headers.set(Http.REQUEST_ID, Ids.request());
            if (browsers.anyOrigin()) {
                headers.set(HeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, "*");
            }
            return DirectHandler.TransportResponse.builder()
                    .status(answered)
                    .headers(headers)
                    .entity(body(text, answered.code() >= 500 ? "server_error" : "invalid_request_error", null, null))
                    .keepAlive(eventType.keepAlive() && !unparsed)
                    .build();
        };
    }
}
