package io.spindle.trace;

import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Spindle's traces: a span per HTTP request, and a trace per run (its executions, the queue wait, model calls, tool
 * executions and database changes). {@link #from} picks the OpenTelemetry SDK when the {@code OTEL_*} variables ask for
 * an exporter, else {@link #OFF}, which does nothing at all. Child spans take the span current on the calling thread
 * as their parent.
 */
public interface Tracing extends AutoCloseable {
    /** No traces: every span is {@link Traced#NONE}, and nothing is read or kept. */
    Tracing OFF = new Tracing() {
        @Override
        public Traced request(String name, Function<String, String> headers, Map<String, Object> attributes) {
            return Traced.NONE;
        }

        @Override
        public Optional<String> traceParent() {
            return Optional.empty();
        }

        @Override
        public Traced run(Supplier<Optional<String>> traceParent, Map<String, Object> attributes) {
            return Traced.NONE;
        }

        @Override
        public Traced child(String name, Kind kind, Map<String, Object> attributes) {
            return Traced.NONE;
        }

        @Override
        public void past(String name, LongSupplier startMillis, long endMillis) {}

        @Override
        public void close() {}
    };

    /** What a child span stands for: work in this process, or a call to another service (the model). */
    enum Kind { INTERNAL, CLIENT }

    /**
     * Tracing as the {@code OTEL_*} variables say: on when they name an exporter or an OTLP endpoint (and
     * {@code OTEL_SDK_DISABLED} is not {@code true}), else {@link #OFF}.
     *
     * @throws IllegalArgumentException when the OpenTelemetry SDK refuses the variables (the message names the problem)
     */
    static Tracing from(Map<String, String> otelVariables, String node) {
        return OpenTelemetryTracing.wanted(otelVariables) ? OpenTelemetryTracing.start(otelVariables, node) : OFF;
    }

    /**
     * The server span of an HTTP request, current until closed; its parent is the client's {@code traceparent} (read by
     * {@code headers}, a header's value by its name, or null), if it sent one.
     */
    Traced request(String name, Function<String, String> headers, Map<String, Object> attributes);

    /** The current span as a W3C {@code traceparent}, kept with a run so that its spans join the request's trace. */
    Optional<String> traceParent();

    /**
     * A run's execution, current until closed: a child of the span that {@code traceParent} (read only when tracing)
     * names, so that a run is one trace with the request that created it, on whichever node executes it.
     */
    Traced run(Supplier<Optional<String>> traceParent, Map<String, Object> attributes);

    /** A child of the current span, current until closed. */
    Traced child(String name, Kind kind, Map<String, Object> attributes);

    /** A span of the past, ended already, under the current span: e.g. the time a run waited in the queue. */
    void past(String name, LongSupplier startMillis, long endMillis);

    /** Sends the spans not sent yet, and stops. */
    @Override
    void close();
}
