package io.spindle.metrics;

import com.zaxxer.hikari.metrics.MetricsTrackerFactory;
import com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.function.DoubleSupplier;

/**
 * {@link Metrics} kept in Micrometer's Prometheus registry (the Prometheus Java client writes the text), with the
 * JVM's own figures (memory, GC, threads, classes, CPU, uptime). Latencies are histograms with fixed buckets, so
 * that a scrape stays small whatever the number of routes.
 */
public final class MicrometerMetrics implements Metrics, AutoCloseable {
    /** From a fast API answer to a long model call or a streamed run. */
    private static final Duration[] BUCKETS = {Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
            Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
            Duration.ofMillis(2_500), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30),
            Duration.ofSeconds(60), Duration.ofSeconds(120)};

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private final Counter runsCreated = Counter.builder("spindle.run.creations").description("Runs created on this node")
            .register(registry);

    public MicrometerMetrics() {
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
    }

    /** What makes the database pool (HikariCP) report its connections here. */
    public MetricsTrackerFactory poolTracker() {
        return new MicrometerMetricsTrackerFactory(registry);
    }

    @Override
    public void request(String method, String route, int status, Duration took) {
        timer("spindle.http.requests", "HTTP requests answered, by route template and status")
                .tags("method", method, "route", route, "status", Integer.toString(status))
                .register(registry).record(took);
    }

    @Override
    public void runCreated() {
        runsCreated.increment();
    }

    @Override
    public void runEnded(String status, String errorCode) {
        Counter.builder("spindle.runs.ended").description("Runs that reached a final status, by status and last_error.code")
                .tags("status", status, "error_code", errorCode)
                .register(registry).increment();
    }

    @Override
    public void modelCall(ModelCall call) {
        timer("spindle.upstream.calls", "Model calls, by route, model and outcome, until the answer ended")
                .tags("route", call.route(), "model", call.model(), "outcome", call.outcome())
                .register(registry).record(call.total());
        call.firstToken().ifPresent(wait -> timer("spindle.upstream.first.token", "Time from a model call to its first token")
                .tags("route", call.route(), "model", call.model())
                .register(registry).record(wait));
        tokens(call, "in", call.tokensIn());
        tokens(call, "out", call.tokensOut());
    }

    private void tokens(ModelCall call, String direction, long count) {
        Counter.builder("spindle.upstream.tokens").description("Tokens the model endpoints reported: in (prompt) and out (completion)")
                .tags("route", call.route(), "model", call.model(), "direction", direction)
                .register(registry).increment(count);
    }

    @Override
    public void fileIngested(String outcome, Duration took) {
        timer("spindle.ingestion.files", "Files ingested into vector stores, by outcome (completed, or last_error.code)")
                .tags("outcome", outcome)
                .register(registry).record(took);
    }

    @Override
    public void codeExecuted(String outcome, Duration took) {
        timer("spindle.sandbox.executions", "code_interpreter cells run, by outcome")
                .tags("outcome", outcome)
                .register(registry).record(took);
    }

    @Override
    public void gauge(String name, String description, DoubleSupplier value) {
        Gauge.builder(name, value, DoubleSupplier::getAsDouble).description(description).strongReference(true).register(registry);
    }

    @Override
    public String scrape() {
        return registry.scrape();
    }

    private static Timer.Builder timer(String name, String description) {
        return Timer.builder(name).description(description).serviceLevelObjectives(BUCKETS);
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
