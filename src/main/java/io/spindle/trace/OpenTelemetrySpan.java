package io.spindle.trace;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Scope;

/** An OpenTelemetry span and the scope that makes it current on its thread. */
record OpenTelemetrySpan(Span span, Scope scope) implements Traced {
    @Override
    public void attribute(String key, long value) {
        span.setAttribute(key, value);
    }

    @Override
    public void attribute(String key, String value) {
        span.setAttribute(key, value);
    }

    @Override
    public void failed(Throwable cause) {
        span.recordException(cause);
        span.setStatus(StatusCode.ERROR, String.valueOf(cause.getMessage()));
    }

    @Override
    public void failed(String description) {
        span.setStatus(StatusCode.ERROR, description);
    }

    @Override
    public void close() {
        scope.close();
        span.end();
    }
}
