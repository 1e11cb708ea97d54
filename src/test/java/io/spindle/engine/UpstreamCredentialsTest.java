package io.spindle.engine;

import static io.spindle.testing.SdkRuns.assistant;
import static io.spindle.testing.SdkRuns.createRun;
import static io.spindle.testing.SdkRuns.pollFor;
import static io.spindle.testing.SdkThreads.threadWith;
import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.OpenAIClient;
import com.openai.models.beta.threads.runs.Run;
import com.openai.models.beta.threads.runs.RunStatus;
import io.spindle.testing.LogCapture;
import io.spindle.testing.TestServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.Map;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;

/**
 * Credentials in {@code SPINDLE_UPSTREAM_URL} and the upstream's address stay out of what clients see, and the
 * credentials out of the log, even when the model endpoint cannot be reached.
 */
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
class UpstreamCredentialsTest {
    private static final String PASSWORD = "url-secret-pw";

    @Test
    void anUnreachableEndpointWithCredentialsInItsUrlShowsNeither() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        String url = "http://alice:" + PASSWORD + "@127.0.0.1:" + closedPort + "/v1";
        Map<String, String> env = Map.of("SPINDLE_UPSTREAM_URL", url, "SPINDLE_UPSTREAM_API_KEY", "k9-Plain-Secret",
                "SPINDLE_UPSTREAM_RETRIES", "0");

        String logged;
        Run failed;
        String runJson;
        try (LogCapture startup = LogCapture.of("io.spindle.Spindle", Level.INFO);
             LogCapture engine = LogCapture.of("io.spindle", Level.WARNING);
             TestServer server = TestServer.start(TestServer.Storage.SQLITE, env)) {
            OpenAIClient sdk = server.sdk();
            assertThat(startup.text()).as("the start-up line names the endpoint without its credentials")
                    .contains("model endpoint http://127.0.0.1:" + closedPort + "/v1").doesNotContain(PASSWORD).doesNotContain("alice");
            String threadId = threadWith(sdk, "Hello?");
            failed = pollFor(sdk, createRun(sdk, threadId, assistant(sdk, null).id()), RunStatus.FAILED);
            runJson = server.api().get("/v1/threads/" + threadId + "/runs/" + failed.id()).body();
            logged = startup.text() + engine.text();
            sdk.close();
        }

        Run.LastError error = failed.lastError().orElseThrow();
        assertThat(error.code()).isEqualTo(Run.LastError.Code.SERVER_ERROR);
        assertThat(error.message()).isEqualTo("the model endpoint could not be reached");
        assertThat(runJson).doesNotContain(PASSWORD).doesNotContain("alice").doesNotContain(String.valueOf(closedPort))
                .doesNotContain("Exception").doesNotContain("java.");
        assertThat(logged).as("the failure is logged, with its cause").contains(failed.id()).contains("could not be reached")
                .contains("ConnectException");
        assertThat(logged).doesNotContain(PASSWORD).doesNotContain("alice:").doesNotContain("k9-Plain-Secret");
    }
}
