package io.spindle;

import java.net.URI;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Every setting Spindle reads, in one place. Values come from environment variables; a bad value
 * stops start-up with one line naming the variable.
 */
public record Settings(
        String host,
        int port,
        Path dataDir,
        Optional<String> databaseUrl,
        Map<String, String> apiKeys,
        URI upstreamUrl,
        Optional<String> upstreamApiKey,
        long maxBodyBytes) {

    /** A documented environment variable; the list below feeds {@code --help} and the README table. */
    public record Variable(String name, String defaultValue, String description) {}

    public static final List<Variable> VARIABLES = List.of(
            new Variable("SPINDLE_HOST", "127.0.0.1", "Address to listen on. A non-loopback address requires SPINDLE_API_KEYS."),
            new Variable("SPINDLE_PORT", "8080", "Port to listen on."),
            new Variable("SPINDLE_DATA_DIR", "./spindle-data", "Directory for the SQLite database and stored blobs."),
            new Variable("SPINDLE_DATABASE_URL", "(unset)", "PostgreSQL URL (postgresql://user:pass@host:5432/db or jdbc:postgresql://...); switches storage from SQLite to PostgreSQL."),
            new Variable("SPINDLE_API_KEYS", "(unset)", "Comma-separated `key` or `key:project` entries. Unset: no authentication (loopback only). A key without a project belongs to project `default`."),
            new Variable("SPINDLE_UPSTREAM_URL", "https://api.openai.com/v1", "Base URL of the OpenAI-compatible Chat Completions endpoint runs call."),
            new Variable("SPINDLE_UPSTREAM_API_KEY", "(unset; falls back to OPENAI_API_KEY)", "API key sent to the upstream model endpoint."),
            new Variable("SPINDLE_MAX_BODY_BYTES", "16777216", "Largest accepted request body in bytes; larger bodies get 413."));

    public static final String DEFAULT_PROJECT = "default";

    /** Thrown for a setting that cannot be used; the message is the single line shown to the user. */
    public static final class Invalid extends RuntimeException {
        public Invalid(String message) {
            super(message);
        }
    }

    public static Settings fromEnvironment(Map<String, String> env) {
        String host = value(env, "SPINDLE_HOST").orElse("127.0.0.1");
        int port = intValue(env, "SPINDLE_PORT", 8080, 0, 65535);
        Path dataDir = Path.of(value(env, "SPINDLE_DATA_DIR").orElse("./spindle-data"));
        Optional<String> databaseUrl = value(env, "SPINDLE_DATABASE_URL");
        databaseUrl.ifPresent(Settings::checkDatabaseUrl);
        Map<String, String> apiKeys = apiKeys(value(env, "SPINDLE_API_KEYS").orElse(""));
        if (apiKeys.isEmpty() && !isLoopback(host)) {
            throw new Invalid("SPINDLE_API_KEYS must be set to listen on the non-loopback address SPINDLE_HOST=" + host);
        }
        URI upstreamUrl = upstreamUrl(value(env, "SPINDLE_UPSTREAM_URL").orElse("https://api.openai.com/v1"));
        Optional<String> upstreamKey = value(env, "SPINDLE_UPSTREAM_API_KEY").or(() -> value(env, "OPENAI_API_KEY"));
        long maxBody = intValue(env, "SPINDLE_MAX_BODY_BYTES", 16 * 1024 * 1024, 1024, Integer.MAX_VALUE);
        return new Settings(host, port, dataDir, databaseUrl, apiKeys, upstreamUrl, upstreamKey, maxBody);
    }

    public boolean authRequired() {
        return !apiKeys.isEmpty();
    }

    private static Optional<String> value(Map<String, String> env, String name) {
        String v = env.get(name);
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.trim());
    }

    private static int intValue(Map<String, String> env, String name, int fallback, int min, int max) {
        Optional<String> raw = value(env, name);
        if (raw.isEmpty()) {
            return fallback;
        }
        try {
            int v = Integer.parseInt(raw.get());
            if (v < min || v > max) {
                throw new Invalid(name + " must be between " + min + " and " + max + ", got " + v);
            }
            return v;
        } catch (NumberFormatException e) {
            throw new Invalid(name + " must be a whole number, got '" + raw.get() + "'");
        }
    }

    private static Map<String, String> apiKeys(String raw) {
        Map<String, String> keys = new LinkedHashMap<>();
        for (String entry : raw.split(",")) {
            String e = entry.trim();
            if (e.isEmpty()) {
                continue;
            }
            int colon = e.indexOf(':');
            String key = colon < 0 ? e : e.substring(0, colon).trim();
            String project = colon < 0 ? DEFAULT_PROJECT : e.substring(colon + 1).trim();
            if (key.isEmpty() || project.isEmpty()) {
                throw new Invalid("SPINDLE_API_KEYS has an empty key or project in entry '" + e + "'");
            }
            keys.put(key, project);
        }
        return Map.copyOf(keys);
    }

    private static void checkDatabaseUrl(String url) {
        if (!url.startsWith("postgresql://") && !url.startsWith("postgres://") && !url.startsWith("jdbc:postgresql://")) {
            throw new Invalid("SPINDLE_DATABASE_URL must start with postgresql:// or jdbc:postgresql://");
        }
        if (url.startsWith("jdbc:")) {
            return;
        }
        // Database.postgres takes this form apart. The message leaves the URL out: it may hold a password.
        String expected = "SPINDLE_DATABASE_URL is not a valid URL; expected postgresql://user:pass@host:5432/db";
        try {
            if (URI.create(url).getHost() == null) {
                throw new Invalid(expected);
            }
        } catch (IllegalArgumentException e) {
            throw new Invalid(expected);
        }
    }

    private static URI upstreamUrl(String raw) {
        try {
            URI uri = URI.create(raw);
            if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
                throw new Invalid("SPINDLE_UPSTREAM_URL must be an http(s) URL, got '" + raw + "'");
            }
            return uri;
        } catch (IllegalArgumentException e) {
            throw new Invalid("SPINDLE_UPSTREAM_URL is not a valid URL: '" + raw + "'");
        }
    }

    private static boolean isLoopback(String host) {
        return host.equals("localhost") || host.startsWith("127.") || host.equals("::1") || host.equals("[::1]");
    }
}
