package io.spindle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SettingsTest {

    private static Settings settings(String... namesAndValues) {
        Map<String, String> env = new HashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            env.put(namesAndValues[i], namesAndValues[i + 1]);
        }
        return Settings.fromEnvironment(env);
    }

    /** Asserts the settings are refused with one line that names {@code variable}. */
    private static void assertInvalid(String variable, String... namesAndValues) {
        assertThatThrownBy(() -> settings(namesAndValues))
                .isInstanceOfSatisfying(Settings.Invalid.class, e -> {
                    assertThat(e.getMessage()).contains(variable).doesNotContain("\n");
                });
    }

    @Test
    void defaults() {
        Settings s = settings();

        assertThat(s.host()).isEqualTo("127.0.0.1");
        assertThat(s.port()).isEqualTo(8080);
        assertThat(s.dataDir()).isEqualTo(Path.of("./spindle-data"));
        assertThat(s.databaseUrl()).isEmpty();
        assertThat(s.apiKeys()).isEmpty();
        assertThat(s.authRequired()).isFalse();
        assertThat(s.upstream().url()).isEqualTo(URI.create("https://api.openai.com/v1"));
        assertThat(s.upstream().apiKey()).isEmpty();
        assertThat(s.maxBodyBytes()).isEqualTo(16L * 1024 * 1024);
        assertThat(s.maxFileBytes()).isEqualTo(512L * 1024 * 1024);
    }

    @Test
    void maxFileBytesMayExceedTheJsonLimitAndTwoGigabytes() {
        assertThat(settings("SPINDLE_MAX_FILE_BYTES", "1").maxFileBytes()).isEqualTo(1);
        assertThat(settings("SPINDLE_MAX_FILE_BYTES", "10737418240").maxFileBytes()).isEqualTo(10L * 1024 * 1024 * 1024);
    }

    @ParameterizedTest
    @ValueSource(strings = {"big", "0", "-1", "1.5", "2199023255553"})
    void badMaxFileBytesIsRefusedByName(String value) {
        assertInvalid("SPINDLE_MAX_FILE_BYTES", "SPINDLE_MAX_FILE_BYTES", value);
    }

    @Test
    void embeddingsRunInProcessUnlessAnEndpointIsSet() {
        Settings.Embedding local = settings().embedding();
        assertThat(local.url()).isEmpty();
        assertThat(io.spindle.search.Embedders.from(local, Path.of("target")).modelName()).isEqualTo("bge-small-en-v1.5-q");

        Settings.Embedding remote = settings("SPINDLE_EMBEDDING_URL", "http://127.0.0.1:9/v1", "SPINDLE_EMBEDDING_MODEL",
                "text-embedding-3-small", "SPINDLE_EMBEDDING_DIMENSIONS", "256", "SPINDLE_EMBEDDING_API_KEY", "k").embedding();
        io.spindle.search.Embedder embedder = io.spindle.search.Embedders.from(remote, Path.of("target"));
        assertThat(embedder.modelName()).isEqualTo("text-embedding-3-small@256");
        assertThat(embedder.dimensions()).isEqualTo(256);
        assertThat(remote.apiKey()).contains("k");
    }

    @Test
    void anEmbeddingEndpointNeedsAModelAndSaneValues() {
        assertInvalid("SPINDLE_EMBEDDING_MODEL", "SPINDLE_EMBEDDING_URL", "http://127.0.0.1:9/v1");
        assertInvalid("SPINDLE_EMBEDDING_URL", "SPINDLE_EMBEDDING_URL", "ftp://x", "SPINDLE_EMBEDDING_MODEL", "m");
        assertInvalid("SPINDLE_EMBEDDING_DIMENSIONS", "SPINDLE_EMBEDDING_URL", "http://127.0.0.1:9/v1",
                "SPINDLE_EMBEDDING_MODEL", "m", "SPINDLE_EMBEDDING_DIMENSIONS", "0");
    }

    @Test
    void everyVariableIsDescribedInHelpAndInTheReadme() throws java.io.IOException {
        String readme = java.nio.file.Files.readString(java.nio.file.Path.of("README.md"));
        assertThat(Settings.VARIABLES).extracting(Settings.Variable::name).doesNotHaveDuplicates()
                .allSatisfy(name -> assertThat(name).startsWith("SPINDLE_"))
                .contains("SPINDLE_HOST", "SPINDLE_PORT", "SPINDLE_DATA_DIR", "SPINDLE_DATABASE_URL", "SPINDLE_API_KEYS",
                        "SPINDLE_UPSTREAM_URL", "SPINDLE_UPSTREAM_API_KEY", "SPINDLE_MAX_BODY_BYTES");
        assertThat(Settings.VARIABLES).allSatisfy(v -> {
            assertThat(v.description()).isNotBlank();
            assertThat(Main.help()).contains(v.name());
            assertThat(readme).as("README settings table").contains("| `" + v.name() + "` |");
        });
        assertThat(Main.help()).contains("default: 8080");
    }

    @Test
    void blankValuesMeanUnsetAndValuesAreTrimmed() {
        Settings blank = settings("SPINDLE_HOST", " ", "SPINDLE_PORT", "", "SPINDLE_DATABASE_URL", "  ", "SPINDLE_API_KEYS", "\t");
        assertThat(blank.host()).isEqualTo("127.0.0.1");
        assertThat(blank.port()).isEqualTo(8080);
        assertThat(blank.databaseUrl()).isEmpty();
        assertThat(blank.authRequired()).isFalse();

        Settings trimmed = settings("SPINDLE_PORT", " 9090 ", "SPINDLE_DATA_DIR", " /var/lib/spindle ",
                "SPINDLE_MAX_BODY_BYTES", "2048");
        assertThat(trimmed.port()).isEqualTo(9090);
        assertThat(trimmed.dataDir()).isEqualTo(Path.of("/var/lib/spindle"));
        assertThat(trimmed.maxBodyBytes()).isEqualTo(2048);
    }

    @Test
    void portZeroAndTheBoundsAreAccepted() {
        assertThat(settings("SPINDLE_PORT", "0").port()).isZero();
        assertThat(settings("SPINDLE_PORT", "1").port()).isEqualTo(1);
        assertThat(settings("SPINDLE_PORT", "65535").port()).isEqualTo(65535);
    }

    @ParameterizedTest
    @ValueSource(strings = {"abc", "-1", "65536", "80.5", "8080x", "99999999999", "0x50"})
    void badPortIsRefusedByName(String port) {
        assertInvalid("SPINDLE_PORT", "SPINDLE_PORT", port);
        assertThatThrownBy(() -> settings("SPINDLE_PORT", port)).hasMessageContaining(port);
    }

    @ParameterizedTest
    @ValueSource(strings = {"lots", "1023", "-5", "1.5"})
    void badMaxBodyBytesIsRefusedByName(String value) {
        assertInvalid("SPINDLE_MAX_BODY_BYTES", "SPINDLE_MAX_BODY_BYTES", value);
    }

    @Test
    void apiKeyWithoutProjectBelongsToDefault() {
        Settings s = settings("SPINDLE_API_KEYS", "sk-one");

        assertThat(s.apiKeys()).containsExactly(Map.entry("sk-one", Settings.DEFAULT_PROJECT));
        assertThat(s.authRequired()).isTrue();
    }

    @Test
    void apiKeysWithProjectsSpacesAndEmptyEntries() {
        Settings s = settings("SPINDLE_API_KEYS", " k1:alpha , k2,, k3 : beta ,k4:alpha,");

        assertThat(s.apiKeys()).containsOnly(
                Map.entry("k1", "alpha"), Map.entry("k2", "default"), Map.entry("k3", "beta"), Map.entry("k4", "alpha"));
    }

    @Test
    void onlyEmptyEntriesMeansNoKeys() {
        assertThat(settings("SPINDLE_API_KEYS", " , ,").apiKeys()).isEmpty();
        assertInvalid("SPINDLE_API_KEYS", "SPINDLE_API_KEYS", ",", "SPINDLE_HOST", "0.0.0.0");
    }

    @ParameterizedTest
    @ValueSource(strings = {":proj", " : proj", "k:", "k: ", "good:p, :other", "good, bad:"})
    void emptyKeyOrProjectIsRefused(String keys) {
        assertInvalid("SPINDLE_API_KEYS", "SPINDLE_API_KEYS", keys);
    }

    @ParameterizedTest
    @ValueSource(strings = {"0.0.0.0", "192.168.1.10", "::", "example.com"})
    void nonLoopbackHostNeedsApiKeys(String host) {
        assertInvalid("SPINDLE_API_KEYS", "SPINDLE_HOST", host);
        assertThatThrownBy(() -> settings("SPINDLE_HOST", host)).hasMessageContaining(host);

        Settings withKeys = settings("SPINDLE_HOST", host, "SPINDLE_API_KEYS", "k:p");
        assertThat(withKeys.host()).isEqualTo(host);
        assertThat(withKeys.authRequired()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"})
    void loopbackHostNeedsNoKeys(String host) {
        Settings s = settings("SPINDLE_HOST", host);
        assertThat(s.host()).isEqualTo(host);
        assertThat(s.authRequired()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql://spindle:secret@db.internal:5432/spindle", "postgres://db/spindle",
            "postgresql://localhost/spindle?sslmode=disable", "jdbc:postgresql://127.0.0.1:5432/spindle?user=x"})
    void postgresUrlsAreAccepted(String url) {
        assertThat(settings("SPINDLE_DATABASE_URL", url).databaseUrl()).contains(url);
    }

    @ParameterizedTest
    @ValueSource(strings = {"mysql://db/spindle", "jdbc:mysql://db/spindle", "db.internal:5432/spindle", "spindle.db",
            "postgresql://spindle:secret@db.internal:port/spindle", "postgresql://spindle:se cret@db/spindle",
            "postgresql:///spindle"})
    void badDatabaseUrlIsRefusedByName(String url) {
        assertInvalid("SPINDLE_DATABASE_URL", "SPINDLE_DATABASE_URL", url);
        // The URL may carry a password: the message does not repeat it.
        assertThatThrownBy(() -> settings("SPINDLE_DATABASE_URL", url)).message().doesNotContain("secret").doesNotContain("cret@");
    }

    @ParameterizedTest
    @ValueSource(strings = {"ftp://example.com/v1", "not a url", "localhost:8000/v1", "http://",
            "ftp://alice:secret@example.com/v1", "http://alice:se cret@example.com/v1"})
    void badUpstreamUrlIsRefusedByName(String url) {
        assertInvalid("SPINDLE_UPSTREAM_URL", "SPINDLE_UPSTREAM_URL", url);
        // The URL may carry a password: the message does not repeat it.
        assertThatThrownBy(() -> settings("SPINDLE_UPSTREAM_URL", url)).message().doesNotContain("secret").doesNotContain("cret@");
    }

    @Test
    void upstreamUrlIsRead() {
        assertThat(settings("SPINDLE_UPSTREAM_URL", "http://127.0.0.1:11434/v1").upstream().url())
                .isEqualTo(URI.create("http://127.0.0.1:11434/v1"));
    }

    @Test
    void upstreamApiKeyFallsBackToOpenAiApiKey() {
        assertThat(settings("SPINDLE_UPSTREAM_API_KEY", "sk-spindle", "OPENAI_API_KEY", "sk-openai").upstream().apiKey())
                .contains("sk-spindle");
        assertThat(settings("OPENAI_API_KEY", "sk-openai").upstream().apiKey()).contains("sk-openai");
        assertThat(settings("SPINDLE_UPSTREAM_API_KEY", "  ", "OPENAI_API_KEY", "sk-openai").upstream().apiKey())
                .contains("sk-openai");
        assertThat(settings("SPINDLE_UPSTREAM_API_KEY", "sk-spindle").upstream().apiKey()).contains("sk-spindle");
        assertThat(settings("OPENAI_API_KEY", "").upstream().apiKey()).isEqualTo(Optional.empty());
    }

    // ---- the command line

    @Test
    void helpNamesEveryCommandAndTheLaunchersOwnVariable() {
        assertThat(Main.help()).contains("spindle serve", "spindle test", "spindle bench", "spindle --version", "spindle --help",
                "SPINDLE_JAVA_OPTS", "-Xmx1g");
    }

    @Test
    void versionPrintsTheMavenProjectVersion() throws Exception {
        String pom = Files.readString(Path.of("pom.xml"));
        String version = pom.replaceFirst("(?s).*?<artifactId>spindle</artifactId>\\s*<version>([^<]+)</version>.*", "$1");
        assertThat(version).matches("[0-9][0-9A-Za-z.-]*");
        Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "io.spindle.Main", "--version").redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();

        assertThat(process.exitValue()).isZero();
        assertThat(out).isEqualTo("spindle " + version + System.lineSeparator());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "SPINDLE_PORT           | not-a-port",
            "SPINDLE_DATABASE_URL   | mysql://db/spindle",
            "SPINDLE_DATABASE_URL   | postgresql://spindle:secret@db:port/spindle",
            "SPINDLE_API_KEYS       | key:",
            "SPINDLE_HOST           | 0.0.0.0"})
    void serveWithABadSettingExitsWithStatus2AndOneLine(String name, String value, @TempDir Path dataDir) throws Exception {
        Path logs = Files.createDirectories(targetDir().resolve("settings-logs"));
        String log = "serve-" + name + "-" + Integer.toHexString(value.hashCode());
        Path out = logs.resolve(log + ".out");
        Path err = logs.resolve(log + ".err");
        ProcessBuilder builder = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"),
                "io.spindle.Main", "serve");
        builder.environment().keySet().removeIf(n -> n.startsWith("SPINDLE_"));
        builder.environment().put("SPINDLE_DATA_DIR", dataDir.toString());
        builder.environment().put("SPINDLE_PORT", "0");
        builder.environment().put(name, value);
        builder.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process process = builder.start();
        try {
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("spindle serve exited").isTrue();
        } finally {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }

        List<String> errLines = Files.readAllLines(err);
        assertThat(process.exitValue()).as("exit status; stderr: %s", errLines).isEqualTo(2);
        assertThat(Files.readString(out)).isEmpty();
        assertThat(errLines).hasSize(1);
        assertThat(errLines.getFirst()).startsWith("spindle: ").contains(name).doesNotContain("secret");
    }

    private static Path targetDir() throws URISyntaxException {
        return Path.of(SettingsTest.class.getProtectionDomain().getCodeSource().getLocation().toURI()).getParent();
    }
}
