package io.spindle.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A {@code spindle} command run as a user runs it: {@code java io.spindle.Main ARGS} in its own process on the test
 * classpath, with these settings and no other {@code SPINDLE_} variable of the test's environment.
 */
final class SpindleCommand {
    private static final long TIMEOUT_SECONDS = 120;

    /** What a finished command said and its exit status. */
    record Result(int status, List<String> stdout, List<String> stderr) {}

    private SpindleCommand() {}

    static Result run(Map<String, String> settings, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), "io.spindle.Main"));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().keySet().removeIf(name -> name.startsWith("SPINDLE_"));
        builder.environment().putAll(settings);
        Path out = Files.createTempFile("spindle-command", ".out");
        Path err = Files.createTempFile("spindle-command", ".err");
        try {
            Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            boolean finished = process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            if (!finished) {
                process.destroyForcibly().waitFor();
            }
            assertThat(finished).as("spindle %s ended within %d s", String.join(" ", args), TIMEOUT_SECONDS).isTrue();
            return new Result(process.exitValue(), Files.readAllLines(out), Files.readAllLines(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
