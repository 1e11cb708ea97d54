package io.spindle.testing;

import io.spindle.Settings;
import io.spindle.Spindle;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.Map;

/** A Spindle server inside the test JVM, on a free port, with its own SQLite directory or PostgreSQL database. */
public final class TestServer implements AutoCloseable {
    private final Spindle spindle;
    private final String apiKey;

    private TestServer(Spindle spindle, String apiKey) {
        this.spindle = spindle;
        this.apiKey = apiKey;
    }

    public enum Storage { SQLITE, POSTGRESQL }

    public static TestServer start(Storage storage) {
        return start(storage, Map.of());
    }

    /**
     * Starts a server; {@code env} adds or overrides settings (e.g. SPINDLE_API_KEYS). On PostgreSQL, a fresh database
     * is made unless {@code env} names one (SPINDLE_DATABASE_URL): several nodes of one cluster share it.
     */
    public static TestServer start(Storage storage, Map<String, String> env) {
        Map<String, String> settings = new HashMap<>();
        settings.put("SPINDLE_PORT", "0");
        try {
            settings.put("SPINDLE_DATA_DIR", Files.createTempDirectory("spindle-test").toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (storage == Storage.POSTGRESQL && !env.containsKey("SPINDLE_DATABASE_URL")) {
            settings.put("SPINDLE_DATABASE_URL", TestPostgres.freshDatabase());
        }
        settings.putAll(env);
        String firstKey = settings.getOrDefault("SPINDLE_API_KEYS", "").split("[,:]")[0].trim();
        return new TestServer(Spindle.start(Settings.fromEnvironment(settings), InstantSource.system()),
                firstKey.isEmpty() ? null : firstKey);
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + spindle.port() + "/v1";
    }

    public String rootUrl() {
        return "http://127.0.0.1:" + spindle.port();
    }

    /** A raw client; with auth on, it uses the first configured key. */
    public Api api() {
        return new Api(rootUrl(), apiKey);
    }

    public com.openai.client.OpenAIClient sdk() {
        return Sdk.client(baseUrl(), apiKey);
    }

    public Spindle spindle() {
        return spindle;
    }

    @Override
    public void close() {
        spindle.close();
    }
}
