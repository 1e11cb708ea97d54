package io.spindle.testing;

import com.openai.client.OpenAIClient;
import com.openai.core.RequestOptions;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Base of the end-to-end test classes. Each subclass runs twice, once per storage (SQLite and
 * PostgreSQL), and each run talks to one server of its own: started on first use, stopped when
 * the run ends. The tests of a run share that server, so they must not assume an empty database.
 *
 * <p>The server and clients are static because JUnit creates a test instance per test method;
 * test classes run one after another, never in parallel. Surefire reports the two runs of a test
 * under one name, as "Run 1" (SQLite) and "Run 2" (PostgreSQL).
 */
@ParameterizedClass(name = "{0}")
@EnumSource(TestServer.Storage.class)
public abstract class EndToEnd {
    /**
     * For SDK calls whose answer may be an empty list. There the live API (and Spindle) send
     * {@code "first_id": null, "last_id": null}; the SDK models both as required strings, so its
     * response validation (on in tests, off by default in apps) would reject the page. The body
     * is still checked against the OpenAI schema.
     */
    protected static final RequestOptions MAY_BE_EMPTY = RequestOptions.builder().responseValidation(false).build();

    /** The key under which {@link #CLIENTS} holds the client with the server's own (first) key. */
    private static final String SERVER_KEY = "";

    private static TestServer server;
    private static final Map<String, OpenAIClient> CLIENTS = new HashMap<>();

    @Parameter
    protected TestServer.Storage storage;

    /** Settings added to the server's environment; override to turn on API keys. */
    protected Map<String, String> env() {
        return Map.of();
    }

    protected final TestServer server() {
        if (server == null) {
            server = TestServer.start(storage, env());
        }
        return server;
    }

    /** The official SDK, with the server's first API key (if any). */
    protected final OpenAIClient sdk() {
        return CLIENTS.computeIfAbsent(SERVER_KEY, ignored -> server().sdk());
    }

    /** The official SDK with a given API key. */
    protected final OpenAIClient sdk(String apiKey) {
        return CLIENTS.computeIfAbsent(apiKey, key -> Sdk.client(server().baseUrl(), key));
    }

    /** The raw HTTP client, for what the SDK hides (e.g. a list's first_id and last_id). */
    protected final Api api() {
        return server().api();
    }

    @AfterParameterizedClassInvocation
    static void stopServer() {
        CLIENTS.values().forEach(OpenAIClient::close);
        CLIENTS.clear();
        if (server != null) {
            server.close();
            server = null;
        }
    }
}
