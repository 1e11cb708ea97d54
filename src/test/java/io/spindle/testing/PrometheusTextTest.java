package io.spindle.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The test parser of the text format reads what the format allows and refuses what it does not. */
class PrometheusTextTest {
    private static final String HISTOGRAM = """
            # HELP t_seconds Time taken
            # TYPE t_seconds histogram
            t_seconds_bucket{route="/a",le="0.1"} 1
            t_seconds_bucket{route="/a",le="1.0"} 3
            t_seconds_bucket{route="/a",le="+Inf"} 3
            t_seconds_count{route="/a"} 3
            t_seconds_sum{route="/a"} 1.25
            """;

    @Test
    void readsFamiliesLabelsEscapesAndSpecialValues() {
        PrometheusText.Scrape scrape = PrometheusText.parse(HISTOGRAM + """
                # TYPE g gauge
                g{path="a\\"b\\\\c\\nd",x="1"} NaN
                g{path="e",x="2"} -Inf 1700000000000
                # TYPE c_total counter
                c_total 4.5e2
                """);

        assertThat(scrape.families().get("t_seconds").help()).isEqualTo("Time taken");
        assertThat(scrape.value("t_seconds_bucket", "route", "/a", "le", "1.0")).isEqualTo(3);
        assertThat(scrape.samples("g", "path", "a\"b\\c\nd")).hasSize(1);
        assertThat(scrape.value("g", "x", "2")).isEqualTo(Double.NEGATIVE_INFINITY);
        assertThat(scrape.value("c_total")).isEqualTo(450);
        assertThat(scrape.value("c_total", "absent", "label")).isZero();
        assertThatThrownBy(() -> scrape.value("g")).isInstanceOf(AssertionError.class);
    }

    @Test
    void refusesWhatTheFormatDoesNotAllow() {
        String[] broken = {
            "no_type 1\n",
            "# TYPE a gauge\na 1",
            "# TYPE a gauge\na one\n",
            "# TYPE a gauge\na{b=\"1\"\n",
            "# TYPE a gauge\na{b=1} 1\n",
            "# TYPE a gauge\na{1b=\"1\"} 1\n",
            "# TYPE a gauge\na{b=\"\\t\"} 1\n",
            "# TYPE a gauge\na 1\na 2\n",
            "# TYPE a gauge\n# TYPE a gauge\na 1\n",
            "# TYPE a gauge\n# TYPE b gauge\nb 1\na 1\n",
            "# TYPE a meter\na 1\n",
            "# TYPE 1a gauge\n",
            HISTOGRAM.replace("le=\"1.0\"} 3", "le=\"1.0\"} 0"),
            HISTOGRAM.replace("t_seconds_count{route=\"/a\"} 3", "t_seconds_count{route=\"/a\"} 4"),
            HISTOGRAM.replace("t_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3\n", ""),
        };
        for (String text : broken) {
            assertThatThrownBy(() -> PrometheusText.parse(text)).as(text).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
