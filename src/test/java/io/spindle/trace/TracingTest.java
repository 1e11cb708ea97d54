package io.spindle.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spindle.Settings;
import io.spindle.testing.OtlpReceiver;
import io.spindle.testing.TestServer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which OTEL_* variables turn traces on, and what a value the SDK refuses does to start-up. */
class TracingTest {
    private static final String ENDPOINT = "http://127.0.0.1:9";

    @Test
    void withoutAnExporterOrEndpointTracingIsOffAndCostsNothing() {
        Tracing tracing = Tracing.from(Map.of("OTEL_SERVICE_NAME", "mine"), "n1");
        assertThat(tracing).isSameAs(Tracing.OFF);
        assertThat(tracing.request("GET /", name -> "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", Map.of()))
                .as("no span, even for a client that sends a traceparent").isSameAs(Traced.NONE);
        assertThat(tracing.traceParent()).isEmpty();
        assertThat(tracing.run(() -> {
            throw new AssertionError("the run's origin is not read when nothing is traced");
        }, Map.of())).isSameAs(Traced.NONE);
        tracing.past("run queued", () -> {
            throw new AssertionError("nor its queue time");
        }, 0);
    }

    @Test
    void anExporterNamedNoneOrADisabledSdkKeepsItOff() {
        assertThat(Tracing.from(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", ENDPOINT, "OTEL_TRACES_EXPORTER", "none"), "n1"))
                .isSameAs(Tracing.OFF);
        assertThat(Tracing.from(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", ENDPOINT, "OTEL_SDK_DISABLED", "true"), "n1"))
                .isSameAs(Tracing.OFF);
    }

    @Test
    void anEndpointOrAnExporterTurnsItOn() {
        try (OtlpReceiver collector = OtlpReceiver.start()) {
            String endpoint = collector.settings().get("OTEL_EXPORTER_OTLP_ENDPOINT");
            for (Map<String, String> otel : List.of(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
                    Map.of("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", endpoint + "/v1/traces"),
                    Map.of("OTEL_TRACES_EXPORTER", "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT", endpoint))) {
                startsSpans(otel);
            }
            assertThat(collector.spans()).as("each exported its span at close").hasSize(3);
        }
    }

    private static void startsSpans(Map<String, String> otel) {
        try (Tracing tracing = Tracing.from(otel, "n1")) {
            assertThat(tracing).as(otel.toString()).isNotSameAs(Tracing.OFF);
            try (Traced span = tracing.request("GET /", name -> null, Map.of())) {
                assertThat(tracing.traceParent()).as("the current span, to keep with a run").hasValueSatisfying(
                        parent -> assertThat(parent).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-0[13]"));
            }
            assertThat(tracing.traceParent()).as("no span once it is closed").isEmpty();
        }
    }

    @Test
    void grpcIsRefusedForWhatItIs() {
        assertThatThrownBy(() -> Tracing.from(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", ENDPOINT, "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"), "n1"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported: Spindle exports OTLP over HTTP "
                        + "(http/protobuf, the default, or http/json)");
    }

    @Test
    void aValueTheSdkRefusesStopsStartWithOneLine() {
        assertThatThrownBy(() -> TestServer.start(TestServer.Storage.SQLITE,
                Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", ENDPOINT, "OTEL_TRACES_SAMPLER", "sometimes")).close())
                .isInstanceOf(Settings.Invalid.class)
                .hasMessageStartingWith("the OTEL_* variables cannot be used: ")
                .hasMessageContaining("sometimes")
                .hasMessageNotContaining("\n");
    }
}
