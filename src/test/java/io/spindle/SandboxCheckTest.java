package io.spindle;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindle.sandbox.RealSandbox;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code spindle sandbox-check} as a user runs it ({@code java io.spindle.Main sandbox-check}, a separate process):
 * one line on stdout saying whether code_interpreter works here and why not, exit status 0 or 1.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SandboxCheckTest {

    /** What the command printed and its exit status. */
    private record Checked(int status, String stdout, String stderr) {}

    @Test
    void whereTheSandboxWorksItSaysWhatItUsesAndExitsZero() throws Exception {
        RealSandbox.assumeWorks();

        Checked checked = sandboxCheck(Map.of());

        assertThat(checked.stdout()).startsWith("code_interpreter works here: bubblewrap ")
                .contains("Python with numpy, pandas, matplotlib, scipy, openpyxl and PIL").hasLineCount(1);
        assertThat(checked.status()).as("stderr: %s", checked.stderr()).isZero();
    }

    @Test
    void turnedOffItSaysSoAndExitsOne() throws Exception {
        Checked checked = sandboxCheck(Map.of("SPINDLE_SANDBOX", "off"));

        assertThat(checked.stdout()).isEqualTo("code_interpreter does not work here: it is turned off (SPINDLE_SANDBOX=off)\n");
        assertThat(checked.status()).isEqualTo(1);
    }

    @Test
    void withoutBwrapItSaysHowToInstallItAndExitsOne() throws Exception {
        Checked checked = sandboxCheck(Map.of("PATH", "/nonexistent"));

        assertThat(checked.stdout()).isEqualTo("code_interpreter does not work here: bwrap is not installed; install the "
                + "sandbox's Debian packages (README, code_interpreter)\n");
        assertThat(checked.status()).isEqualTo(1);
    }

    @Test
    void aBadSettingIsOneLineAndExitTwo() throws Exception {
        Checked checked = sandboxCheck(Map.of("SPINDLE_SANDBOX", "maybe"));

        assertThat(checked.stderr()).contains("spindle: SPINDLE_SANDBOX must be auto or off, got 'maybe'\n");
        assertThat(checked.stdout()).isEmpty();
        assertThat(checked.status()).isEqualTo(2);
    }

    /** Runs the command with these variables over the test's environment, every other {@code SPINDLE_} one removed. */
    private static Checked sandboxCheck(Map<String, String> env) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), "io.spindle.Main", "sandbox-check"));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().keySet().removeIf(name -> name.startsWith("SPINDLE_"));
        builder.environment().putAll(env);
        builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process process = builder.start();
        // read stderr aside, so that neither stream can fill its pipe and block the command
        var stderr = new java.util.concurrent.CompletableFuture<String>();
        Thread.ofVirtual().start(() -> {
            try {
                stderr.complete(new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                stderr.completeExceptionally(e);
            }
        });
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(90, TimeUnit.SECONDS)).as("sandbox-check ended").isTrue();
        return new Checked(process.exitValue(), out, stderr.join());
    }
}
