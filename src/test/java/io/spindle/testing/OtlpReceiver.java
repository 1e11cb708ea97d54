package io.spindle.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Predicate;

/**
 * An OTLP/HTTP collector for tests: accepts {@code POST /v1/traces} (protobuf), decodes every span with the
 * {@code opentelemetry-proto} classes, and keeps them with the resource they came from.
 */
public final class OtlpReceiver implements AutoCloseable {
    /** A span as received, with its ids in hex and its attributes and its resource's as text. */
    public record Received(String name, String traceId, String spanId, String parentSpanId, Span.SpanKind kind,
                           Map<String, String> attributes, Map<String, String> resource, long startNanos, long endNanos,
                           boolean error) {
        public String attribute(String key) {
            return attributes.get(key);
        }
    }

    private final HttpServer server;
    private final ExecutorService executor;
    private final List<Received> spans = new CopyOnWriteArrayList<>();

    private OtlpReceiver(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    public static OtlpReceiver start() {
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
            OtlpReceiver receiver = new OtlpReceiver(server, executor);
            server.createContext("/v1/traces", receiver::receive);
            server.setExecutor(executor);
            server.start();
            return receiver;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The settings that make Spindle export its traces here, soon after each span ends. */
    public Map<String, String> settings() {
        return Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:" + server.getAddress().getPort(),
                "OTEL_BSP_SCHEDULE_DELAY", "50");
    }

    public List<Received> spans() {
        return List.copyOf(spans);
    }

    /** The first span received that matches, waiting for it at most {@code timeout}. */
    public Optional<Received> await(Predicate<Received> wanted, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Optional<Received> found = spans.stream().filter(wanted).findFirst();
            if (found.isPresent() || System.nanoTime() > deadline) {
                return found;
            }
            Thread.sleep(20);
        }
    }

    private void receive(HttpExchange exchange) throws IOException {
        try (exchange; InputStream in = exchange.getRequestBody()) {
            if (!exchange.getRequestMethod().equals("POST")
                    || !exchange.getRequestHeaders().getFirst("Content-Type").equals("application/x-protobuf")) {
                exchange.sendResponseHeaders(415, -1);
                return;
            }
            ExportTraceServiceRequest request = ExportTraceServiceRequest.parseFrom(in);
            for (ResourceSpans resourceSpans : request.getResourceSpansList()) {
                Map<String, String> resource = text(resourceSpans.getResource().getAttributesList());
                for (ScopeSpans scope : resourceSpans.getScopeSpansList()) {
                    for (Span span : scope.getSpansList()) {
                        spans.add(new Received(span.getName(), hex(span.getTraceId().toByteArray()), hex(span.getSpanId().toByteArray()),
                                hex(span.getParentSpanId().toByteArray()), span.getKind(), text(span.getAttributesList()), resource,
                                span.getStartTimeUnixNano(), span.getEndTimeUnixNano(),
                                span.getStatus().getCode() == io.opentelemetry.proto.trace.v1.Status.StatusCode.STATUS_CODE_ERROR));
                    }
                }
            }
            byte[] answer = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
            exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
            exchange.sendResponseHeaders(200, answer.length == 0 ? -1 : answer.length);
            exchange.getResponseBody().write(answer);
        }
    }

    private static Map<String, String> text(List<KeyValue> attributes) {
        Map<String, String> out = new java.util.HashMap<>();
        for (KeyValue kv : attributes) {
            var value = kv.getValue();
            out.put(kv.getKey(), value.hasIntValue() ? Long.toString(value.getIntValue()) : value.getStringValue());
        }
        return Map.copyOf(out);
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
