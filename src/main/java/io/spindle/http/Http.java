package io.spindle.http;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import io.helidon.common.buffers.DataReader;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.spindle.api.ApiException;
import io.spindle.api.Ids;
import io.spindle.api.Json;
import io.spindle.api.ListQuery;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.logging.Logger;

/** What every route needs: the caller's project, the JSON body, path ids, and writing JSON back. */
final class Http {
    private static final Logger LOG = Logger.getLogger(Http.class.getName());
    static final HeaderName REQUEST_ID = HeaderNames.create("x-request-id");
    static final String JSON = "application/json";
    /** Reads request bodies; text after the JSON value (e.g. {@code {} x}) makes the body invalid. */
    private static final ObjectReader BODY_READER = Json.MAPPER.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private Http() {}

    /** The project of the API key that made the request (set by {@link AccessFilter}). */
    static String project(ServerRequest req) {
        return req.context().get(Caller.class).orElseThrow().project();
    }

    /** A path id, checked for its prefix before any lookup. */
    static String pathId(ServerRequest req, String name, String prefix) {
        return Ids.require(name, req.path().pathParameters().get(name), prefix);
    }

    static ListQuery listQuery(ServerRequest req) {
        return ListQuery.parse(name -> req.query().first(name).orElse(null));
    }

    static String query(ServerRequest req, String name) {
        return req.query().first(name).orElse(null);
    }

    /**
     * The request body as JSON; an absent body reads as {@code {}}. Bodies must be UTF-8, as JSON on the
     * network must. A body over {@code SPINDLE_MAX_BODY_BYTES} gets 413, read no further than the limit
     * (the server's own limit is the larger one file uploads need).
     */
    static JsonNode body(ServerRequest req) {
        if (!req.content().hasEntity()) {
            return Json.object();
        }
        long limit = req.context().get(BodyLimit.class).orElseThrow().bytes();
        if (req.headers().contentLength().orElse(0) > limit) {
            throw tooLarge();
        }
        byte[] bytes = readBody(req, limit);
        if (bytes.length > limit) {
            throw tooLarge();
        }
        if (isBlank(bytes)) {
            return Json.object();
        }
        // Jackson alone would read overlong forms and encoded surrogates as characters
        if (!Utf8.isValid(bytes)) {
            throw unparseable();
        }
        try {
            return BODY_READER.readTree(bytes);
        } catch (IOException e) {
            // bad syntax, or nesting past Json.MAX_DEPTH
            throw unparseable();
        }
    }

    /** The largest JSON body a route reads, set for each request from the settings. */
    record BodyLimit(long bytes) {}

    private static ApiException tooLarge() {
        return new ApiException(ApiException.Kind.TOO_LARGE, Errors.TOO_LARGE_MESSAGE, null, null);
    }

    private static ApiException unparseable() {
        return ApiException.invalid("We could not parse the JSON body of your request. (HINT: This likely means you aren't "
                + "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not "
                + "valid JSON. If you have trouble figuring out how to fix this, please contact us through our help "
                + "center at help.openai.com.)");
    }

    /**
     * The body's bytes, at most {@code limit + 1} of them. A body whose chunked framing is broken is answered 400, and the connection
     * then closed: where the next request would start is unknown. A client that leaves mid-body, or
     * pauses past the read timeout, has nobody to answer: one line at FINE, and the connection ends.
     * Helidon's own answers (a body over the size limit, a bad last chunk) pass through.
     */
    private static byte[] readBody(ServerRequest req, long limit) {
        try (InputStream in = req.content().inputStream()) {
            return in.readNBytes((int) Math.min(limit + 1, Integer.MAX_VALUE - 8));
        } catch (IllegalArgumentException e) {
            // Helidon 4.5 lets a chunk size that is not hex (e.g. "zz") out as a NumberFormatException
            req.context().register(new CloseAfterAnswer());
            throw ApiException.invalid("We could not read the body of your request: its chunked transfer encoding is malformed.");
        } catch (IOException | UncheckedIOException | DataReader.InsufficientDataAvailableException | CloseConnectionException e) {
            LOG.fine(() -> req.prologue().method().text() + " " + req.prologue().uriPath().rawPath()
                    + ": the client stopped sending the body (" + (e instanceof ReadDeadlines.Expired ? e.getMessage() : e.toString())
                    + "); connection closed");
            throw new CloseConnectionException("request body not received", e);
        }
    }

    /** Marks a request whose connection must close once it is answered. */
    private record CloseAfterAnswer() {}

    static boolean mustClose(ServerRequest req) {
        return req.context().get(CloseAfterAnswer.class).isPresent();
    }

    /** A HEAD request, routed as GET: its answer keeps the headers (Content-Length too) and drops the body. */
    private record Head() {}

    static void markHead(ServerRequest req) {
        req.context().register(new Head());
    }

    /** True for a HEAD request: a route that writes its body itself (a download) sends only the headers. */
    static boolean isHead(ServerRequest req) {
        return req.context().get(Head.class).isPresent();
    }

    static void send(ServerRequest req, ServerResponse res, Object value) {
        send(req, res, Status.OK_200, Json.writeBytes(value));
    }

    static void send(ServerRequest req, ServerResponse res, Status status, byte[] json) {
        res.status(status);
        res.header(HeaderNames.CONTENT_TYPE, JSON);
        if (isHead(req)) {
            res.header(HeaderNames.CONTENT_LENGTH, Integer.toString(json.length));
            res.send();
            return;
        }
        res.send(json);
    }

    static void notFound(ServerRequest req, ServerResponse res) {
        throw new ApiException(ApiException.Kind.NOT_FOUND,
                "Invalid URL (" + req.prologue().method().text() + " " + req.prologue().uriPath().rawPath() + ")", null, null);
    }

    static void methodNotAllowed(ServerRequest req, ServerResponse res) {
        throw new ApiException(ApiException.Kind.METHOD_NOT_ALLOWED,
                "Invalid method for URL (" + req.prologue().method().text() + " " + req.prologue().uriPath().rawPath() + ")", null, null);
    }

    private static boolean isBlank(byte[] bytes) {
        for (byte b : bytes) {
            if (b != ' ' && b != '\n' && b != '\r' && b != '\t') {
                return false;
            }
        }
        return true;
    }
}
