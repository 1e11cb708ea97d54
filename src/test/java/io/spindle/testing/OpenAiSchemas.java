/*
 * Spindle - Apache-2.0 project code.
 *
 * Test helper: validates a JSON body against one of OpenAI's component schemas (for example
 * "RunObject"), taken from the derived copy src/test/resources/openai-schemas.json (regenerate
 * it with scripts/derive-schemas.py). JUnit-independent: failures are plain AssertionErrors.
 */
package io.spindle.testing;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonMetaSchema;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.NonValidationKeyword;
import com.networknt.schema.PathType;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Validates JSON bodies against the OpenAI component schemas in {@code /openai-schemas.json}
 * (JSON Schema 2020-12; {@code #/components/schemas/X} references resolve inside that file).
 *
 * <pre>{@code
 * OpenAiSchemas.assertValid("RunObject", responseBody);
 * }</pre>
 *
 * <p>Formats the validator does not know (such as the spec's {@code unixtime}) are ignored, and
 * extra properties are allowed wherever the spec allows them (almost everywhere).
 * Thread-safe; each component's schema is compiled once and cached.
 */
public final class OpenAiSchemas {

    /** Classpath resource holding the derived schemas. */
    public static final String RESOURCE = "/openai-schemas.json";

    /** Made-up IRI under which the validator sees the resource; nothing is fetched from it. */
    private static final String DOCUMENT_IRI = "https://schemas.spindle.invalid/openai-schemas.json";

    private static final String COMPONENTS_POINTER = "#/components/schemas/";

    private static final int MAX_BODY_CHARS = 4096;

    private static final ObjectMapper MAPPER =
            new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private static final ConcurrentHashMap<String, JsonSchema> SCHEMAS = new ConcurrentHashMap<>();

    private OpenAiSchemas() {}

    /**
     * Asserts that {@code body} is valid against the component schema {@code componentName}.
     *
     * @throws AssertionError listing every validation message and the (truncated) body if not
     * @throws IllegalArgumentException if the file has no such component schema
     */
    public static void assertValid(String componentName, JsonNode body) {
        JsonSchema schema = schema(componentName);
        if (body == null) {
            throw new AssertionError("Expected a " + componentName + " JSON body but got Java null");
        }
        Set<ValidationMessage> messages = schema.validate(body);
        if (messages.isEmpty()) {
            return;
        }
        StringBuilder text = new StringBuilder()
                .append("JSON body is not a valid OpenAI ").append(componentName)
                .append(" (").append(messages.size())
                .append(messages.size() == 1 ? " problem" : " problems").append("):\n");
        for (ValidationMessage message : messages) {
            text.append("  - ").append(message.getMessage()).append('\n');
        }
        text.append("Body:\n").append(truncate(pretty(body)));
        throw new AssertionError(text.toString());
    }

    /**
     * Parses {@code json} and asserts that it is valid against the component schema
     * {@code componentName}.
     *
     * @throws AssertionError if {@code json} is not a single JSON value or is invalid
     * @throws IllegalArgumentException if the file has no such component schema
     */
    public static void assertValid(String componentName, String json) {
        if (json == null) {
            throw new AssertionError("Expected a " + componentName + " JSON body but got Java null");
        }
        JsonNode body;
        try {
            body = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new AssertionError("Expected a " + componentName + " JSON body but it does not parse: "
                    + e.getOriginalMessage() + "\nBody:\n" + truncate(json), e);
        }
        if (body == null || body.isMissingNode()) {
            throw new AssertionError("Expected a " + componentName + " JSON body but it is empty");
        }
        assertValid(componentName, body);
    }

    /** Names of all component schemas in the file, sorted. */
    public static Set<String> componentNames() {
        Set<String> names = new TreeSet<>();
        Holder.COMPONENTS.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static JsonSchema schema(String componentName) {
        if (componentName == null || !Holder.COMPONENTS.has(componentName)) {
            throw new IllegalArgumentException("No component schema named '" + componentName + "' in "
                    + RESOURCE + "; known: " + componentNames());
        }
        return SCHEMAS.computeIfAbsent(componentName, name -> {
            JsonSchema compiled = Holder.FACTORY.getSchema(
                    SchemaLocation.of(DOCUMENT_IRI + COMPONENTS_POINTER + name), Holder.CONFIG);
            // Compile every (transitively) referenced schema now, not lazily during validation.
            compiled.initializeValidators();
            return compiled;
        });
    }

    private static String pretty(JsonNode body) {
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(body);
        } catch (JsonProcessingException e) {
            return body.toString();
        }
    }

    private static String truncate(String text) {
        if (text.length() <= MAX_BODY_CHARS) {
            return text;
        }
        return text.substring(0, MAX_BODY_CHARS) + "\n... (truncated; " + text.length() + " chars in all)";
    }

    /** Loaded on first use: the resource text, its components, the factory and the config. */
    private static final class Holder {
        static final String TEXT = readResource();
        static final JsonNode COMPONENTS = components(TEXT);
        static final JsonSchemaFactory FACTORY = JsonSchemaFactory.getInstance(
                SpecVersion.VersionFlag.V202012,
                builder -> builder
                        // The 2020-12 meta-schema, told that the file's top-level "components"
                        // key is no keyword (otherwise the validator logs a warning about it).
                        .metaSchema(JsonMetaSchema.builder(JsonMetaSchema.getV202012())
                                .keyword(new NonValidationKeyword("components"))
                                .build())
                        .schemaLoaders(loaders -> loaders.schemas(Map.of(DOCUMENT_IRI, TEXT))));
        static final SchemaValidatorsConfig CONFIG = SchemaValidatorsConfig.builder()
                .locale(Locale.ENGLISH)
                .pathType(PathType.JSON_PATH) // messages read "$.data[0].status: ..."
                // Known formats (the spec uses "uri") are checked; unknown ones ("unixtime") are
                // ignored, as the validator is not in strict mode.
                .formatAssertionsEnabled(true)
                .build();

        private static String readResource() {
            try (InputStream in = OpenAiSchemas.class.getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    throw new IllegalStateException(RESOURCE + " is not on the classpath"
                            + " (it lives in src/test/resources; regenerate with scripts/derive-schemas.py)");
                }
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot read " + RESOURCE, e);
            }
        }

        private static JsonNode components(String text) {
            try {
                JsonNode schemas = MAPPER.readTree(text).path("components").path("schemas");
                if (!schemas.isObject() || schemas.isEmpty()) {
                    throw new IllegalStateException(RESOURCE + " has no components.schemas object");
                }
                return schemas;
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(RESOURCE + " is not valid JSON", e);
            }
        }
    }
}
