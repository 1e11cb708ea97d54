package io.spindle.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindle.metrics.MicrometerMetrics;
import io.spindle.testing.PrometheusText;
import io.spindle.testing.PrometheusText.Scrape;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Cells run in the real sandbox through {@link MeasuredSandbox}: each counted by its outcome, with how long it took. */
class MeasuredSandboxTest {
    private static final Duration LIMIT = Duration.ofSeconds(60);

    @Test
    void everyCellIsCountedByItsOutcomeWithItsDuration() {
        BubblewrapSandbox sandbox = RealSandbox.start();
        try (MicrometerMetrics metrics = new MicrometerMetrics()) {
            try (Session session = new MeasuredSandbox(sandbox, metrics).open("measured-cells")) {
                assertThat(session.execute("print(1 + 1)", LIMIT).logs()).isEqualTo("2\n");
                assertThat(session.execute("1 / 0", LIMIT).error()).isPresent();
                assertThat(session.execute("import time\ntime.sleep(30)", Duration.ofSeconds(1)).timedOut()).isTrue();
            }

            Scrape scrape = PrometheusText.parse(metrics.scrape());
            assertThat(scrape.value("spindle_sandbox_executions_seconds_count", "outcome", "ok")).isEqualTo(1);
            assertThat(scrape.value("spindle_sandbox_executions_seconds_count", "outcome", "error")).isEqualTo(1);
            assertThat(scrape.value("spindle_sandbox_executions_seconds_count", "outcome", "timed_out")).isEqualTo(1);
            assertThat(scrape.value("spindle_sandbox_executions_seconds_sum", "outcome", "timed_out")).isGreaterThanOrEqualTo(1);
        }
    }
}
