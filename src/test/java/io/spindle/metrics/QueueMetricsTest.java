package io.spindle.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindle.testing.Api;
import io.spindle.testing.PrometheusText;
import io.spindle.testing.PrometheusText.Scrape;
import io.spindle.testing.TestServer;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The figures read from the database at each scrape, on both storages: the queue (on an API-only node, which executes
 * nothing, so runs stay queued) and the connection pool.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(value = TestServer.Storage.class, names = {"SQLITE", "POSTGRESQL"})
class QueueMetricsTest {
    @Parameter
    TestServer.Storage storage;

    private TestServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void queuedRunsAndTheAgeOfTheOldestAreReadFromTheDatabase() throws InterruptedException {
        server = TestServer.start(storage, Map.of("SPINDLE_MAX_CONCURRENT_RUNS", "0"));
        Api api = server.api();
        String metrics = server.rootUrl() + "/metrics";
        assertThat(PrometheusText.scrape(metrics).value("spindle_runs_queued")).isZero();
        String assistant = api.post("/v1/assistants", Map.of("model", "gpt-4o")).ok().path("id").asText();

        for (int i = 0; i < 2; i++) {
            String thread = api.post("/v1/threads", Map.of()).ok().path("id").asText();
            assertThat(api.post("/v1/threads/" + thread + "/runs", Map.of("assistant_id", assistant)).ok().path("status").asText())
                    .isEqualTo("queued");
        }

        Scrape scrape = PrometheusText.scrape(metrics);
        assertThat(scrape.value("spindle_runs_queued")).isEqualTo(2);
        assertThat(scrape.value("spindle_runs_executing")).isZero();
        assertThat(scrape.value("spindle_run_creations_total")).isEqualTo(2);
        Instant deadline = Instant.now().plusSeconds(10);
        while (PrometheusText.scrape(metrics).value("spindle_runs_queued_oldest_age_seconds") < 1) {
            assertThat(Instant.now()).as("the oldest queued run ages").isBefore(deadline);
            Thread.sleep(200);
        }
        String pool = storage == TestServer.Storage.SQLITE ? "spindle-sqlite" : "spindle-postgres";
        int poolSize = storage == TestServer.Storage.SQLITE ? 8 : Integer.parseInt(TestServer.POOL_SIZE);
        assertThat(scrape.value("hikaricp_connections_max", "pool", pool)).isEqualTo(poolSize);
        assertThat(scrape.value("hikaricp_connections_acquire_seconds_count", "pool", pool)).isPositive();
        assertThat(scrape.value("hikaricp_connections_timeout_total", "pool", pool)).isZero();
    }
}
