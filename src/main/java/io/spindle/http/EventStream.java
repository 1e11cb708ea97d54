package io.spindle.http;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerResponse;
import io.spindle.api.Json;
import io.spindle.api.RunObject;
import io.spindle.api.RunStepObject;
import io.spindle.engine.RunEvents;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Supplier;

/**
 * Writes a run's events as Server-Sent Events with OpenAI's exact framing,
 * {@code event: NAME\ndata: JSON\n\n}, until the run stops or waits for tool outputs, then
 * {@code event: done\ndata: [DONE]\n\n}. A client that goes away only ends its stream: the run goes on.
 */
final class EventStream {
    private static final long QUIET_CHECK_MILLIS = 10_000;

    private EventStream() {}

    /**
     * @param includeResultContent whether steps show their file_search results' content ({@code include[]})
     * @param current reads the run again when the stream has been quiet for a while, in case it
     *                stopped without this node seeing the event (e.g. ended by another node)
     */
    static void send(ServerResponse res, RunEvents.Subscription events, boolean includeResultContent, Supplier<RunObject> current) {
        res.status(Status.OK_200);
        res.header(HeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        try (events; OutputStream out = res.outputStream()) {
            boolean ended = false;
            while (!ended) {
                List<RunEvents.Event> batch;
                try {
                    batch = events.next(QUIET_CHECK_MILLIS);
                } catch (IllegalStateException fellBehind) {
                    write(out, "error", Errors.body(fellBehind.getMessage(), "server_error", null, null));
                    break;
                }
                if (batch.isEmpty()) {
                    RunObject run = current.get();
                    if (run == null) {
                        write(out, "error", Errors.body("The run was deleted with its thread.", "invalid_request_error", null, null));
                        break;
                    }
                    if (run.active() && !run.status().equals(RunObject.REQUIRES_ACTION)) {
                        continue;
                    }
                    batch = List.of(new RunEvents.Event("thread.run." + run.status(), run));
                }
                for (RunEvents.Event event : batch) {
                    Object data = event.data() instanceof RunStepObject step ? step.published(includeResultContent) : event.data();
                    write(out, event.name(), Json.writeBytes(data));
                    if (RunEvents.endsStream(event)) {
                        ended = true;
                        break;
                    }
                }
                out.flush();
            }
            write(out, "done", "[DONE]".getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException | UncheckedIOException clientGone) {
            // the client disconnected; the run is not affected
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One event into the response's buffer; the caller flushes after the events that arrived together. */
    private static void write(OutputStream out, String event, byte[] data) throws IOException {
        out.write(("event: " + event + "\ndata: ").getBytes(StandardCharsets.UTF_8));
        out.write(data);
        out.write(NEWLINES);
    }

    private static final byte[] NEWLINES = "\n\n".getBytes(StandardCharsets.UTF_8);
}
