package io.spindle.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spindle.Settings;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The models file read through the settings, as at start-up: fields, defaults, matching order and every error. */
class ModelRoutesTest {
    @TempDir
    Path dir;

    private static final String FULL = """
            {"routes": [
              {"name": "azure", "models": ["gpt-4o"], "kind": "azure", "base_url": "https://acme.openai.azure.com",
               "api_key_env": "AZURE_KEY", "upstream_model": "prod-4o", "api_version": "2024-10-21",
               "context_tokens": 64000, "max_concurrent": 8, "timeout_seconds": 30, "retries": 5, "images": "refuse",
               "reasoning": false, "developer_role": true, "sampling": false},
              {"name": "ollama", "models": ["llama*", "qwen2.5:7b"], "base_url": "http://localhost:11434/v1"}
            ]}
            """;

    @Test
    void everyFieldIsReadAndAbsentOnesComeFromTheSettings() throws Exception {
        ModelRoutes routes = load(file("models.json", FULL), Map.of("AZURE_KEY", "az-secret",
                "SPINDLE_UPSTREAM_TIMEOUT_SECONDS", "77", "SPINDLE_UPSTREAM_RETRIES", "3", "SPINDLE_CONTEXT_TOKENS", "9000"));

        ModelRoute azure = routes.routes().get(0);
        assertThat(azure).isEqualTo(new ModelRoute("azure", List.of("gpt-4o"), ModelRoute.Kind.AZURE,
                URI.create("https://acme.openai.azure.com"), Optional.of("az-secret"), Optional.of("prod-4o"),
                Optional.of("2024-10-21"), 64000, 8, Duration.ofSeconds(30), 5, ModelRoute.Images.REFUSE, Optional.of(false),
                true, false));
        ModelRoute ollama = routes.routes().get(1);
        assertThat(ollama).isEqualTo(new ModelRoute("ollama", List.of("llama*", "qwen2.5:7b"), ModelRoute.Kind.OPENAI,
                URI.create("http://localhost:11434/v1"), Optional.empty(), Optional.empty(), Optional.empty(), 9000, 0,
                Duration.ofSeconds(77), 3, ModelRoute.Images.ACCEPT, Optional.empty(), false, true));
        assertThat(routes.routes()).as("no SPINDLE_UPSTREAM_URL: no catch-all").hasSize(2);
    }

    @Test
    void yamlSaysTheSameAsJson() throws Exception {
        Path yaml = file("models.yaml", """
                routes:
                  - name: azure
                    models: [gpt-4o]
                    kind: azure
                    base_url: https://acme.openai.azure.com
                    api_key_env: AZURE_KEY
                    upstream_model: prod-4o
                    api_version: "2024-10-21"
                    context_tokens: 64000
                    max_concurrent: 8
                    timeout_seconds: 30
                    retries: 5
                    images: refuse
                    reasoning: false
                    developer_role: true
                    sampling: false
                  - name: ollama
                    models: ["llama*", "qwen2.5:7b"]
                    base_url: http://localhost:11434/v1
                """);
        Map<String, String> env = Map.of("AZURE_KEY", "az-secret");
        assertThat(load(yaml, env).routes()).isEqualTo(load(file("models.json", FULL), env).routes());
    }

    @Test
    void anExactNameWinsOverAnEarlierPatternThenTheFirstPatternThenTheCatchAll() throws Exception {
        Path models = file("models.json", """
                {"routes": [
                  {"name": "patterns", "models": ["gpt-*", "*-mini"], "base_url": "http://a.example/v1"},
                  {"name": "exact", "models": ["gpt-4o"], "base_url": "http://b.example/v1"},
                  {"name": "later", "models": ["gpt-4*", "o1"], "base_url": "http://c.example/v1"}
                ]}
                """);
        ModelRoutes routes = load(models, Map.of("SPINDLE_UPSTREAM_URL", "http://catch.example/v1"));

        assertThat(routes.route("gpt-4o").orElseThrow().name()).isEqualTo("exact");
        assertThat(routes.route("gpt-4.1").orElseThrow().name()).as("first pattern in file order").isEqualTo("patterns");
        assertThat(routes.route("o4-mini").orElseThrow().name()).isEqualTo("patterns");
        assertThat(routes.route("o1").orElseThrow().name()).isEqualTo("later");
        assertThat(routes.route("o1-preview").orElseThrow().name()).as("a pattern matches whole names only")
                .isEqualTo(ModelRoutes.CATCH_ALL);
        assertThat(routes.route("mistral").orElseThrow().baseUrl()).isEqualTo(URI.create("http://catch.example/v1"));
        assertThat(routes.route("gpt.4o")).as("a dot is no wildcard").map(ModelRoute::name).contains(ModelRoutes.CATCH_ALL);
        assertThat(routes.route("gpt-\nline")).as("* takes line breaks too").map(ModelRoute::name).contains("patterns");
        assertThat(load(file("odd.json", """
                {"routes": [{"name": "odd", "models": ["a\\\\E(*"], "base_url": "http://a.example/v1"}]}
                """), Map.of()).route("a\\E(x)"))
                .as("regex characters in a pattern are plain").map(ModelRoute::name).contains("odd");
        assertThat(routes.named()).as("listable: exact names only, in file order").containsOnlyKeys("gpt-4o", "o1");
        assertThat(List.copyOf(routes.named().keySet())).containsExactly("gpt-4o", "o1");
    }

    @Test
    void withAModelsFileAndNoUpstreamUrlUnknownModelsHaveNoRoute() throws Exception {
        Path models = file("models.json", """
                {"routes": [{"name": "only", "models": ["gpt-4o"], "base_url": "http://a.example/v1"}]}
                """);
        assertThat(load(models, Map.of()).route("mistral")).isEmpty();
        assertThat(load(models, Map.of("SPINDLE_UPSTREAM_URL", "http://catch.example/v1")).route("mistral"))
                .map(ModelRoute::name).contains("default");
    }

    @Test
    void withoutAModelsFileEveryModelGoesToTheUpstreamUrl() throws Exception {
        ModelRoutes routes = Settings.fromEnvironment(Map.of("SPINDLE_UPSTREAM_API_KEY", "sk-x")).models().load();
        ModelRoute route = routes.route("anything-at-all").orElseThrow();
        assertThat(route.name()).isEqualTo("default");
        assertThat(route.baseUrl()).isEqualTo(URI.create("https://api.openai.com/v1"));
        assertThat(route.apiKey()).contains("sk-x");
        assertThat(route.images()).isEqualTo(ModelRoute.Images.ACCEPT);
        assertThat(routes.named()).isEmpty();
    }

    @Test
    void badJsonNamesTheFileAndWhere() throws IOException {
        Path models = file("models.json", "{\"routes\": [\n  {\"name\": \"a\",, }\n]}");
        assertInvalid(models, "models.json is not valid JSON at line 2, column");
    }

    @Test
    void badYamlNamesTheFile() throws IOException {
        assertInvalid(file("models.yml", "routes:\n  - name: [unclosed\n"), "models.yml is not valid YAML at line");
    }

    @Test
    void eachErrorNamesTheRouteAndTheField() throws IOException {
        assertRouteInvalid("{\"name\": \"x\", \"models\": [\"m\"], \"kind\": \"bedrock\", \"base_url\": \"http://a/v1\"}",
                "route 'x': kind must be one of openai, azure, got 'bedrock'");
        assertRouteInvalid("{\"name\": \"x\", \"models\": [\"m\"]}", "route 'x': base_url is required");
        assertRouteInvalid("{\"name\": \"x\", \"models\": [\"m\"], \"base_url\": \"ftp://a/v1\"}",
                "route 'x': base_url must be an http(s) URL");
        assertRouteInvalid("{\"models\": [\"m\"], \"base_url\": \"http://a/v1\"}", "route #1: name is required");
        assertRouteInvalid("{\"name\": \"x\", \"base_url\": \"http://a/v1\"}", "route 'x': models is required");
        assertRouteInvalid("{\"name\": \"x\", \"models\": [], \"base_url\": \"http://a/v1\"}",
                "route 'x': models must be a non-empty list");
        assertRouteInvalid("{\"name\": \"x\", \"models\": [\"m\"], \"base_url\": \"http://a/v1\", \"timeout\": 5}",
                "route 'x': unknown field 'timeout'");
        assertRouteInvalid("{\"name\": \"x\", \"models\": [\"m\"], \"base_url\": \"http://a/v1\", \"retries\": \"3\"}",
                "route 'x': retries must be a whole number between 0 and 10, got \"3\"");
        assertRouteInvalid("{\"name\": \"x\", \"models\": [\"m\"], \"base_url\": \"http://a/v1\", \"sampling\": \"no\"}",
                "route 'x': sampling must be true or false");
        assertRouteInvalid("{\"name\": \"x\", \"models\": [\"m\"], \"base_url\": \"http://a/v1\", \"images\": \"maybe\"}",
                "route 'x': images must be one of accept, refuse, placeholder, got 'maybe'");
        assertRouteInvalid("{\"name\": \"x\", \"models\": [\"m\"], \"kind\": \"azure\", \"base_url\": \"https://a\"}",
                "route 'x': api_version is required for kind azure");
        assertRouteInvalid("{\"name\": \"x\", \"models\": [\"m\"], \"kind\": \"azure\", \"base_url\": \"https://a\", "
                + "\"api_version\": \"2024-10-21\"}", "route 'x': upstream_model is required for kind azure");
        assertRouteInvalid("{\"name\": \"x\", \"models\": [\"m\"], \"base_url\": \"http://a/v1\", \"api_key\": \"k\", "
                + "\"api_key_env\": \"K\"}", "route 'x': give api_key or api_key_env, not both");
        assertRouteInvalid("{\"name\": \"x\", \"models\": [\"m\"], \"base_url\": \"http://a/v1\", \"api_key_env\": \"NOT_SET_HERE\"}",
                "route 'x': api_key_env names the environment variable NOT_SET_HERE, which is not set");
    }

    @Test
    void fileLevelMistakesAreNamed() throws IOException {
        assertInvalid(file("models.json", "[]"), "must be an object with a list of routes under \"routes\"");
        assertInvalid(file("models.json", "{\"routes\": {}}"), "\"routes\" must be a list of routes");
        assertInvalid(file("models.json", "{\"routes\": [], \"extra\": 1}"), "unknown field 'extra'");
        assertInvalid(file("models.json", "{\"routes\": [], \"routes\": []}"), "Duplicate field 'routes'");
        assertInvalid(file("models.json", """
                {"routes": [{"name": "a", "models": ["m"], "base_url": "http://a/v1"},
                            {"name": "a", "models": ["n"], "base_url": "http://b/v1"}]}
                """), "route 'a': name is used twice");
        assertInvalid(dir.resolve("missing.json"), "missing.json does not exist");
        assertInvalid(dir, "cannot be read");
    }

    @Test
    void theMessageNeverHoldsTheBaseUrlsPassword() throws IOException {
        Path models = file("models.json", """
                {"routes": [{"name": "x", "models": ["m"], "base_url": "htp://user:hunter2@a/v1"}]}
                """);
        assertThatThrownBy(() -> load(models, Map.of())).isInstanceOf(ModelRoutes.Invalid.class)
                .message().doesNotContain("hunter2");
    }

    private void assertRouteInvalid(String route, String expected) throws IOException {
        assertInvalid(file("models.json", "{\"routes\": [" + route + "]}"), expected);
    }

    private void assertInvalid(Path models, String expected) {
        assertThatThrownBy(() -> load(models, Map.of())).isInstanceOf(ModelRoutes.Invalid.class)
                .hasMessageStartingWith(models.toString()).hasMessageContaining(expected);
    }

    private Path file(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    private static ModelRoutes load(Path models, Map<String, String> env) throws ModelRoutes.Invalid {
        Map<String, String> all = new HashMap<>(env);
        all.put("SPINDLE_MODELS_FILE", models.toString());
        return Settings.fromEnvironment(all).models().load();
    }
}
