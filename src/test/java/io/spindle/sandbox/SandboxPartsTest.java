package io.spindle.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spindle.Settings;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The sandbox's pure parts: file names, the bwrap command line, the backend choice. */
class SandboxPartsTest {
    private static final Limits LIMITS = new Limits(1L << 30, 64L << 20, 32L << 20, 64, 3600);

    @ParameterizedTest
    @ValueSource(strings = {"data.csv", "chart 1.png", "résumé.txt", ".hidden", "a..b"})
    void ordinaryNamesPass(String name) {
        assertThat(FileName.check(name)).isEqualTo(name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ".", "..", "../x", "a/b", "/etc/passwd", "bell\u0007", "nul\u0000", "del\u007f"})
    void namesThatCouldLeaveTheFolderOrConfuseAreRefused(String name) {
        assertThatThrownBy(() -> FileName.check(name)).isInstanceOf(SandboxException.class).hasMessageContaining("file name");
    }

    @Test
    void aNameOfMoreThan255BytesIsRefused() {
        assertThat(FileName.check("é".repeat(127))).hasSize(127);
        assertThatThrownBy(() -> FileName.check("é".repeat(128))).isInstanceOf(SandboxException.class);
    }

    @Test
    void asRootTheCommandDropsToTheSessionUidBeforeBwrap() {
        List<String> command = new BubblewrapCommand("/usr/bin/bwrap", LIMITS).command("s-1", OptionalLong.of(2_000_000_123L), 64, "pass");
        assertThat(command.subList(0, 9)).containsExactly("/usr/bin/setpriv", "--reuid", "2000000123", "--regid", "2000000123",
                "--clear-groups", "--inh-caps=-all", "--", "/usr/bin/bwrap");
        assertThat(command).containsSequence("--size", Long.toString(64L << 20), "--tmpfs", "/mnt/data")
                .containsSequence("--size", Long.toString(32L << 20), "--tmpfs", "/tmp")
                .contains("--unshare-all", "--disable-userns", "--die-with-parent", "--new-session", "--clearenv")
                .containsSequence("--cap-drop", "ALL")
                .containsSequence("--setenv", BubblewrapCommand.SESSION_VARIABLE, "s-1")
                .contains("--as=" + (1L << 30), "--nproc=64", "--fsize=" + (64L << 20), "--cpu=3600")
                .endsWith("/usr/bin/python3", "-I", "-c", "pass")
                .doesNotContain("--bind", "--share-net");
    }

    @Test
    void unprivilegedTheCommandStartsWithBwrap() {
        List<String> command = new BubblewrapCommand("/opt/bwrap", LIMITS).command("s-2", OptionalLong.empty(), 300, "pass");
        assertThat(command.getFirst()).isEqualTo("/opt/bwrap");
        assertThat(command).contains("--nproc=300").doesNotContain("/usr/bin/setpriv");
    }

    @Test
    void turnedOffNothingRunsAndTheReasonSaysSo() {
        Settings.Sandboxing off = new Settings.Sandboxing(false, Duration.ofMinutes(20), 20, 1L << 30, 1L << 29, Duration.ofSeconds(120));
        Sandboxes.Choice choice = Sandboxes.choose(off, "/usr/bin:/bin");
        assertThat(choice.probe().works()).isFalse();
        assertThat(choice.probe().reason()).contains("SPINDLE_SANDBOX=off");
        assertThatThrownBy(() -> choice.sandbox().open("s")).isInstanceOf(SandboxException.class).hasMessageContaining("SPINDLE_SANDBOX=off");
    }

    @Test
    void withoutBwrapNothingRunsAndTheReasonSaysHowToInstallIt() {
        Settings.Sandboxing auto = new Settings.Sandboxing(true, Duration.ofMinutes(20), 20, 1L << 30, 1L << 29, Duration.ofSeconds(120));
        Sandboxes.Choice choice = Sandboxes.choose(auto, "/nonexistent");
        assertThat(choice.sandbox()).isInstanceOf(Unavailable.class);
        assertThat(choice.probe().reason()).contains("bwrap is not installed").contains("README");
    }
}
