package io.spindle.trace;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigurationException;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Tracing with the OpenTelemetry SDK, configured by its own autoconfiguration from the {@code OTEL_*} variables. Spindle
 * changes only defaults: the service is called {@code spindle}, the node id is {@code service.instance.id}, and the SDK
 * exports no metrics or logs unless asked ({@code /metrics} and the log lines serve those). The W3C {@code traceparent}
 * is the one format read from clients and kept with runs.
 */
final class OpenTelemetryTracing implements Tracing {
    private static final String SCOPE = "io.spindle";
    private static final W3CTraceContextPropagator W3C = W3CTraceContextPropagator.getInstance();
    private static final String TRACEPARENT = "traceparent";
    private static final TextMapGetter<Function<String, String>> HEADERS = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Function<String, String> headers) {
            return List.of(TRACEPARENT, "tracestate");
        }

        @Override
        public String get(Function<String, String> headers, String key) {
            return headers == null ? null : headers.apply(key);
        }
    };

    private final OpenTelemetrySdk sdk;
    private final Tracer tracer;

    private OpenTelemetryTracing(OpenTelemetrySdk sdk) {
        this.sdk = sdk;
        this.tracer = sdk.getTracer(SCOPE);
    }

    static boolean wanted(Map<String, String> otel) {
        if ("true".equalsIgnoreCase(otel.getOrDefault("OTEL_SDK_DISABLED", "").trim())) {
            return false;
        }
        String exporter = otel.getOrDefault("OTEL_TRACES_EXPORTER", "").trim();
        if (!exporter.isEmpty()) {
            return !exporter.equalsIgnoreCase("none");
        }
        return otel.containsKey("OTEL_EXPORTER_OTLP_ENDPOINT") || otel.containsKey("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    }

    static OpenTelemetryTracing start(Map<String, String> otel, String node) {
        for (String name : List.of("OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")) {
            if (otel.getOrDefault(name, "").equalsIgnoreCase("grpc")) {
                throw new IllegalArgumentException(name + "=grpc is not supported: Spindle exports OTLP over HTTP "
                        + "(http/protobuf, the default, or http/json)");
            }
        }
        try {
            OpenTelemetrySdk sdk = AutoConfiguredOpenTelemetrySdk.builder()
                    .addPropertiesSupplier(() -> properties(otel, node))
                    .disableShutdownHook()
                    .build()
                    .getOpenTelemetrySdk();
            return new OpenTelemetryTracing(sdk);
        } catch (ConfigurationException e) {
            throw new IllegalArgumentException(rootMessage(e), e);
        }
    }

    /**
     * The variables as the SDK's property names ({@code OTEL_EXPORTER_OTLP_ENDPOINT} is {@code otel.exporter.otlp.endpoint})
     * over Spindle's defaults. The protocol is OTLP/HTTP: the JDK's HttpClient sends it, and gRPC would need OkHttp.
     */
    private static Map<String, String> properties(Map<String, String> otel, String node) {
        Map<String, String> properties = new HashMap<>(Map.of(
                "otel.service.name", "spindle",
                "otel.exporter.otlp.protocol", "http/protobuf",
                "otel.metrics.exporter", "none",
                "otel.logs.exporter", "none"));
        otel.forEach((name, value) -> properties.put(name.toLowerCase(Locale.ROOT).replace('_', '.'), value));
        // the node names the instance unless the variables name it otherwise (a later entry of the list wins)
        properties.merge("otel.resource.attributes", "service.instance.id=" + node, (given, ours) -> ours + "," + given);
        return properties;
    }

    /** The SDK wraps what went wrong ("Unexpected configuration error"): the innermost message says what. */
    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        return root.getMessage();
    }

    @Override
    public Traced request(String name, Function<String, String> headers, Map<String, Object> attributes) {
        Context parent = W3C.extract(Context.root(), headers, HEADERS);
        return started(tracer.spanBuilder(name).setParent(parent).setSpanKind(SpanKind.SERVER), attributes);
    }

    @Override
    public Optional<String> traceParent() {
        Map<String, String> carrier = new HashMap<>();
        W3C.inject(Context.current(), carrier, Map::put);
        return Optional.ofNullable(carrier.get(TRACEPARENT));
    }

    @Override
    public Traced run(Supplier<Optional<String>> traceParent, Map<String, Object> attributes) {
        Context parent = traceParent.get()
                .map(value -> W3C.extract(Context.root(), (Function<String, String>) key -> key.equals(TRACEPARENT) ? value : null, HEADERS))
                .orElse(Context.root());
        return started(tracer.spanBuilder("run").setParent(parent).setSpanKind(SpanKind.CONSUMER), attributes);
    }

    @Override
    public Traced child(String name, Kind kind, Map<String, Object> attributes) {
        return started(tracer.spanBuilder(name).setSpanKind(kind == Kind.CLIENT ? SpanKind.CLIENT : SpanKind.INTERNAL), attributes);
    }

    @Override
    public void past(String name, LongSupplier startMillis, long endMillis) {
        tracer.spanBuilder(name).setStartTimestamp(startMillis.getAsLong(), TimeUnit.MILLISECONDS).startSpan()
                .end(endMillis, TimeUnit.MILLISECONDS);
    }

    private static Traced started(SpanBuilder builder, Map<String, Object> attributes) {
        builder.setAllAttributes(attributes(attributes));
        Span span = builder.startSpan();
        return new OpenTelemetrySpan(span, span.makeCurrent());
    }

    private static Attributes attributes(Map<String, Object> values) {
        AttributesBuilder out = Attributes.builder();
        values.forEach((key, value) -> {
            if (value instanceof Number number) {
                out.put(key, number.longValue());
            } else if (value != null) {
                out.put(key, value.toString());
            }
        });
        return out.build();
    }

    @Override
    public void close() {
        sdk.shutdown().join(10, TimeUnit.SECONDS);
    }
}
