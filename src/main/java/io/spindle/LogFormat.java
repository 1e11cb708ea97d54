package io.spindle;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.spindle.trace.WorkContext;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Collection;
import java.util.List;
import java.util.logging.Formatter;
import java.util.logging.LogRecord;

/**
 * One event per line, naming this node, so that the logs of several nodes can be read together: readable text, or a JSON
 * object with what the thread was working on ({@link WorkContext}) and its trace. It runs on the thread that logs, which
 * is what lets it read that context. The configured secrets ({@link Settings#secrets}) are masked in every line, whoever
 * wrote them.
 */
final class LogFormat extends Formatter {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS");
    private static final JsonFactory JSON = new JsonFactory();
    private static final String MASK = "[redacted]";
    /** A secret shorter than this is not searched for: it would mask ordinary words (as in upstream/Redaction). */
    private static final int MIN_SECRET_CHARS = 6;

    private final String node;
    private final boolean json;
    private final List<String> secrets;

    LogFormat(String node, boolean json, Collection<String> secrets) {
        this.node = node;
        this.json = json;
        this.secrets = secrets.stream().filter(s -> s.length() >= MIN_SECRET_CHARS).toList();
    }

    static LogFormat of(Settings settings) {
        return new LogFormat(settings.nodeId(), settings.telemetry().jsonLogs(), settings.secrets());
    }

    @Override
    public String format(LogRecord r) {
        return masked(json ? json(r) : text(r)) + '\n';
    }

    private String text(LogRecord r) {
        StringBuilder line = new StringBuilder()
                .append(TIME.format(LocalDateTime.ofInstant(r.getInstant(), ZoneId.systemDefault())))
                .append(' ').append(String.format("%-7s", r.getLevel().getName()))
                .append(" [").append(node).append("] ")
                .append(r.getLoggerName()).append(": ").append(formatMessage(r));
        if (r.getThrown() != null) {
            line.append('\n').append(stackTrace(r.getThrown()));
        }
        return line.toString();
    }

    private String json(LogRecord r) {
        StringWriter out = new StringWriter();
        WorkContext work = WorkContext.current();
        SpanContext span = Span.current().getSpanContext();
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("time", r.getInstant().toString());
            g.writeStringField("level", r.getLevel().getName());
            g.writeStringField("logger", r.getLoggerName());
            g.writeStringField("message", formatMessage(r));
            if (r.getThrown() != null) {
                g.writeStringField("thrown", stackTrace(r.getThrown()));
            }
            g.writeStringField("node", node);
            optional(g, "request_id", work.requestId());
            optional(g, "project", work.project());
            optional(g, "thread_id", work.threadId());
            optional(g, "run_id", work.runId());
            if (span.isValid()) {
                g.writeStringField("trace_id", span.getTraceId());
                g.writeStringField("span_id", span.getSpanId());
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringWriter does not fail
        }
        return out.toString();
    }

    private static void optional(JsonGenerator g, String name, String value) throws IOException {
        if (value != null) {
            g.writeStringField(name, value);
        }
    }

    private static String stackTrace(Throwable thrown) {
        StringWriter trace = new StringWriter();
        thrown.printStackTrace(new PrintWriter(trace));
        return trace.toString().stripTrailing();
    }

    private String masked(String line) {
        for (String secret : secrets) {
            line = line.replace(secret, MASK);
        }
        return line;
    }
}
