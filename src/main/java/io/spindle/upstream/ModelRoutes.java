package io.spindle.upstream;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The routes runs' models go by, in order: the models file's routes, then the catch-all (if any). A model goes to the
 * first route that names it exactly; else to the first route with a pattern ({@code *}: any characters) it matches.
 */
public final class ModelRoutes {

    /** The name of the catch-all route made from {@code SPINDLE_UPSTREAM_URL}. */
    public static final String CATCH_ALL = "default";

    /** What a route of the file says when it leaves a field out: the global settings. */
    public record Defaults(Duration timeout, int retries, int contextTokens) {}

    /**
     * Where the routes come from: the models file (if any), what its routes default to, the environment its
     * {@code api_key_env} fields name (a lookup answering null for an unset variable), and the catch-all.
     */
    public record Source(Optional<Path> file, Defaults defaults, Function<String, String> environment,
                         Optional<ModelRoute> catchAll) {

        /** Reads the file anew. */
        public ModelRoutes load() throws Invalid {
            List<ModelRoute> routes = new ArrayList<>();
            if (file.isPresent()) {
                routes.addAll(parse(file.get(), this));
            }
            catchAll.ifPresent(routes::add);
            return new ModelRoutes(routes);
        }
    }

    /** A models file that cannot be used; the message names the file, the route and the field. */
    public static final class Invalid extends Exception {
        public Invalid(String message) {
            super(message);
        }
    }

    private static final Set<String> FIELDS = Set.of("name", "models", "kind", "base_url", "api_key", "api_key_env",
            "upstream_model", "api_version", "context_tokens", "max_concurrent", "timeout_seconds", "retries", "images",
            "reasoning", "developer_role", "sampling");

    private record Wildcard(Pattern pattern, ModelRoute route) {}

    private final List<ModelRoute> routes;
    private final Map<String, ModelRoute> exact = new LinkedHashMap<>();
    private final List<Wildcard> wildcards = new ArrayList<>();

    public ModelRoutes(List<ModelRoute> routes) {
        this.routes = List.copyOf(routes);
        for (ModelRoute route : this.routes) {
            for (String model : route.models()) {
                if (model.contains("*")) {
                    wildcards.add(new Wildcard(wildcard(model), route));
                } else {
                    exact.putIfAbsent(model, route);
                }
            }
        }
    }

    /** The catch-all route: every model the file does not route goes to {@code url}. */
    public static ModelRoute catchAll(URI url, Optional<String> apiKey, Defaults defaults) {
        return new ModelRoute(CATCH_ALL, List.of("*"), ModelRoute.Kind.OPENAI, url, apiKey, Optional.empty(),
                Optional.empty(), defaults.contextTokens(), 0, defaults.timeout(), defaults.retries(),
                ModelRoute.Images.ACCEPT, Optional.empty(), false, true);
    }

    /** Every route, in order. */
    public List<ModelRoute> routes() {
        return routes;
    }

    /** The route {@code model}'s runs go to, if any. */
    public Optional<ModelRoute> route(String model) {
        ModelRoute named = exact.get(model);
        if (named != null) {
            return Optional.of(named);
        }
        return wildcards.stream().filter(w -> w.pattern().matcher(model).matches()).map(Wildcard::route).findFirst();
    }

    /** The models named exactly, in file order, each with the route it goes to (patterns cannot be listed). */
    public Map<String, ModelRoute> named() {
        return Collections.unmodifiableMap(exact);
    }

    private static Pattern wildcard(String model) {
        return Pattern.compile(Arrays.stream(model.split("\\*", -1)).map(Pattern::quote).collect(Collectors.joining(".*")),
                Pattern.DOTALL);
    }

    // ---- the file ----

    private static List<ModelRoute> parse(Path file, Source source) throws Invalid {
        String where = file.toString();
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new Invalid(where + " does not exist");
        } catch (IOException e) {
            throw new Invalid(where + " cannot be read: " + e.getMessage());
        }
        boolean yaml = isYaml(file);
        JsonNode root;
        try {
            root = mapper(yaml).readTree(text);
        } catch (JsonProcessingException e) {
            String line = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr();
            throw new Invalid(where + " is not valid " + (yaml ? "YAML" : "JSON") + line + ": " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject() || !root.has("routes")) {
            throw new Invalid(where + " must be an object with a list of routes under \"routes\"");
        }
        for (Iterator<String> names = root.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!name.equals("routes")) {
                throw new Invalid(where + ": unknown field '" + name + "' (the file holds \"routes\" only)");
            }
        }
        JsonNode list = root.get("routes");
        if (!list.isArray()) {
            throw new Invalid(where + ": \"routes\" must be a list of routes");
        }
        List<ModelRoute> routes = new ArrayList<>();
        Set<String> names = new HashSet<>();
        source.catchAll().ifPresent(c -> names.add(c.name()));
        for (int i = 0; i < list.size(); i++) {
            ModelRoute route = new RouteReader(where, i, list.get(i), source).read();
            if (!names.add(route.name())) {
                throw new Invalid(where + ": route '" + route.name() + "': name is used twice"
                        + (route.name().equals(CATCH_ALL) && source.catchAll().isPresent()
                        ? " (\"default\" is the SPINDLE_UPSTREAM_URL catch-all)" : ""));
            }
            routes.add(route);
        }
        return routes;
    }

    private static boolean isYaml(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return name.endsWith(".yaml") || name.endsWith(".yml");
    }

    private static ObjectMapper mapper(boolean yaml) {
        return (yaml ? YAMLMapper.builder() : JsonMapper.builder())
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                .build();
    }

    /** One route of the file, each error naming it and the field. */
    private static final class RouteReader {
        private final String file;
        private final JsonNode node;
        private final Source source;
        /** How errors name the route: by its place until its name is known. */
        private String label;

        RouteReader(String file, int index, JsonNode node, Source source) {
            this.file = file;
            this.node = node;
            this.source = source;
            this.label = file + ": route #" + (index + 1);
        }

        ModelRoute read() throws Invalid {
            if (!node.isObject()) {
                throw new Invalid(label + " must be an object");
            }
            String name = text("name").orElseThrow(() -> new Invalid(label + ": name is required"));
            label = file + ": route '" + name + "'";
            for (Iterator<String> fields = node.fieldNames(); fields.hasNext(); ) {
                String field = fields.next();
                if (!FIELDS.contains(field)) {
                    throw new Invalid(label + ": unknown field '" + field + "' (fields: "
                            + FIELDS.stream().sorted().collect(Collectors.joining(", ")) + ")");
                }
            }
            ModelRoute.Kind kind = choice("kind", ModelRoute.Kind.class, ModelRoute.Kind.OPENAI);
            Optional<String> apiVersion = text("api_version");
            if (kind == ModelRoute.Kind.AZURE && apiVersion.isEmpty()) {
                throw new Invalid(label + ": api_version is required for kind azure (e.g. \"2024-10-21\")");
            }
            Optional<String> upstreamModel = text("upstream_model");
            if (kind == ModelRoute.Kind.AZURE && upstreamModel.isEmpty()) {
                throw new Invalid(label + ": upstream_model is required for kind azure (the deployment's name)");
            }
            if (kind == ModelRoute.Kind.OPENAI && apiVersion.isPresent()) {
                throw new Invalid(label + ": api_version is only for kind azure");
            }
            Defaults defaults = source.defaults();
            return new ModelRoute(name, models(), kind, baseUrl(), apiKey(), upstreamModel, apiVersion,
                    number("context_tokens", defaults.contextTokens(), 1_000, 100_000_000),
                    number("max_concurrent", 0, 0, 100_000),
                    Duration.ofSeconds(number("timeout_seconds", (int) defaults.timeout().toSeconds(), 1, 86_400)),
                    number("retries", defaults.retries(), 0, 10),
                    choice("images", ModelRoute.Images.class, ModelRoute.Images.ACCEPT),
                    flag("reasoning"), flag("developer_role").orElse(false), flag("sampling").orElse(true));
        }

        private List<String> models() throws Invalid {
            JsonNode models = node.get("models");
            if (models == null || models.isNull()) {
                throw new Invalid(label + ": models is required (model names, or patterns such as \"llama*\")");
            }
            if (!models.isArray() || models.isEmpty()) {
                throw new Invalid(label + ": models must be a non-empty list of model names or patterns");
            }
            List<String> names = new ArrayList<>();
            for (JsonNode model : models) {
                if (!model.isTextual() || model.asText().isBlank()) {
                    throw new Invalid(label + ": models must hold names (non-empty strings), got " + model);
                }
                names.add(model.asText().trim());
            }
            return names;
        }

        private URI baseUrl() throws Invalid {
            String raw = text("base_url").orElseThrow(() -> new Invalid(label + ": base_url is required"));
            try {
                URI uri = new URI(raw);
                if (("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null) {
                    return uri;
                }
            } catch (java.net.URISyntaxException e) {
                // answered below, without the value: it may hold a password
            }
            throw new Invalid(label + ": base_url must be an http(s) URL such as http://localhost:11434/v1");
        }

        private Optional<String> apiKey() throws Invalid {
            Optional<String> key = text("api_key");
            Optional<String> variable = text("api_key_env");
            if (key.isPresent() && variable.isPresent()) {
                throw new Invalid(label + ": give api_key or api_key_env, not both");
            }
            if (variable.isEmpty()) {
                return key;
            }
            String value = source.environment().apply(variable.get());
            if (value == null || value.isBlank()) {
                throw new Invalid(label + ": api_key_env names the environment variable " + variable.get()
                        + ", which is not set");
            }
            return Optional.of(value.trim());
        }

        private Optional<String> text(String field) throws Invalid {
            JsonNode value = node.get(field);
            if (value == null || value.isNull()) {
                return Optional.empty();
            }
            if (!value.isTextual() || value.asText().isBlank()) {
                throw new Invalid(label + ": " + field + " must be a non-empty string");
            }
            return Optional.of(value.asText().trim());
        }

        private int number(String field, int fallback, int min, int max) throws Invalid {
            JsonNode value = node.get(field);
            if (value == null || value.isNull()) {
                return fallback;
            }
            if (!value.isIntegralNumber() || !value.canConvertToLong() || value.asLong() < min || value.asLong() > max) {
                throw new Invalid(label + ": " + field + " must be a whole number between " + min + " and " + max
                        + ", got " + value);
            }
            return value.asInt();
        }

        private Optional<Boolean> flag(String field) throws Invalid {
            JsonNode value = node.get(field);
            if (value == null || value.isNull()) {
                return Optional.empty();
            }
            if (!value.isBoolean()) {
                throw new Invalid(label + ": " + field + " must be true or false, got " + value);
            }
            return Optional.of(value.asBoolean());
        }

        private <E extends Enum<E>> E choice(String field, Class<E> type, E fallback) throws Invalid {
            Optional<String> value = text(field);
            if (value.isEmpty()) {
                return fallback;
            }
            for (E option : type.getEnumConstants()) {
                if (option.name().equalsIgnoreCase(value.get())) {
                    return option;
                }
            }
            String options = Arrays.stream(type.getEnumConstants()).map(e -> e.name().toLowerCase(Locale.ROOT))
                    .collect(Collectors.joining(", "));
            throw new Invalid(label + ": " + field + " must be one of " + options + ", got '" + value.get() + "'");
        }
    }
}
