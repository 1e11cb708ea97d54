package io.spindle.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.spindle.Settings;
import io.spindle.api.Json;
import io.spindle.testing.PrometheusText;
import io.spindle.testing.TestServer;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Who may read {@code GET /metrics}: loopback clients always (no API key needed), others with an admin key, or anyone
 * when it is public. The servers listen on every address and the "remote" client connects through this machine's
 * non-loopback address, so the server sees a non-loopback peer.
 */
class MetricsAccessTest {
    private static final String API_KEY = "sk-api-key-for-projects-0123";
    private static final String ADMIN_KEY = "adm-key-for-metrics-4567";

    @Test
    void loopbackReadsFreelyOthersNeedAnAdminKeyWhichOpensNothingElse() throws Exception {
        try (TestServer server = start(Map.of("SPINDLE_ADMIN_KEYS", "adm-other-key, " + ADMIN_KEY))) {
            String remote = remoteUrl(server);

            assertThat(PrometheusText.scrape(server.rootUrl() + "/metrics").families()).containsKey("spindle_runs_queued");
            assertRefused(PrometheusText.get(remote + "/metrics", null), 401, "missing_admin_key");
            assertRefused(PrometheusText.get(remote + "/metrics", API_KEY), 401, "invalid_admin_key");
            assertRefused(PrometheusText.get(remote + "/metrics", ADMIN_KEY + "x"), 401, "invalid_admin_key");
            HttpResponse<String> admitted = PrometheusText.get(remote + "/metrics", ADMIN_KEY);
            assertThat(admitted.statusCode()).isEqualTo(200);
            PrometheusText.Scrape figures = PrometheusText.parse(admitted.body());
            assertThat(figures.value("spindle_http_requests_seconds_count", "route", "/metrics", "status", "401")).isEqualTo(3);
            assertThat(PrometheusText.get(remote + "/v1/assistants", ADMIN_KEY).statusCode()).as("an admin key is no API key")
                    .isEqualTo(401);
            assertThat(PrometheusText.get(remote + "/v1/assistants", API_KEY).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void withoutAdminKeysOnlyLoopbackReads() throws Exception {
        try (TestServer server = start(Map.of())) {
            String remote = remoteUrl(server);

            assertRefused(PrometheusText.get(remote + "/metrics", null), 403, "metrics_not_public");
            assertRefused(PrometheusText.get(remote + "/metrics", API_KEY), 403, "metrics_not_public");
            assertThat(PrometheusText.get(server.rootUrl() + "/metrics", null).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void publicMetricsAnswerAnyone() {
        try (TestServer server = start(Map.of("SPINDLE_METRICS_PUBLIC", "true"))) {
            HttpResponse<String> response = PrometheusText.get(remoteUrl(server) + "/metrics", null);

            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(PrometheusText.parse(response.body()).families()).containsKey("spindle_runs_executing");
        }
    }

    @Test
    void theSettingIsTrueOrFalse() {
        assertThatThrownBy(() -> Settings.fromEnvironment(Map.of("SPINDLE_METRICS_PUBLIC", "yes")))
                .isInstanceOf(Settings.Invalid.class).hasMessage("SPINDLE_METRICS_PUBLIC must be true or false, got 'yes'");
        assertThat(Settings.fromEnvironment(Map.of("SPINDLE_ADMIN_KEYS", " a, b ,,")).metrics().adminKeys())
                .containsExactlyInAnyOrder("a", "b");
    }

    private static TestServer start(Map<String, String> env) {
        Map<String, String> settings = new java.util.HashMap<>(env);
        settings.put("SPINDLE_HOST", "0.0.0.0");
        settings.put("SPINDLE_API_KEYS", API_KEY);
        return TestServer.start(TestServer.Storage.SQLITE, settings);
    }

    private static void assertRefused(HttpResponse<String> response, int status, String code) throws Exception {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("content-type").orElse("")).startsWith("application/json");
        JsonNode error = Json.MAPPER.readTree(response.body()).path("error");
        assertThat(error.path("type").asText()).isEqualTo("invalid_request_error");
        assertThat(error.path("code").asText()).isEqualTo(code);
        assertThat(error.path("message").asText()).contains("SPINDLE_");
        assertThat(error.has("param")).isTrue();
    }

    /** The server's root through this machine's first non-loopback IPv4 address. */
    private static String remoteUrl(TestServer server) {
        try {
            InetAddress address = NetworkInterface.networkInterfaces().filter(MetricsAccessTest::usable)
                    .flatMap(NetworkInterface::inetAddresses)
                    .filter(a -> a instanceof Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress())
                    .findFirst().orElseThrow(() -> new AssertionError("this machine has no non-loopback IPv4 address"));
            return "http://" + address.getHostAddress() + ":" + server.spindle().port();
        } catch (SocketException e) {
            throw new AssertionError(e);
        }
    }

    private static boolean usable(NetworkInterface nic) {
        try {
            return nic.isUp() && !nic.isLoopback();
        } catch (SocketException e) {
            return false;
        }
    }
}
