package io.spindle.testing;

import io.spindle.Settings;
import io.spindle.Spindle;
import io.spindle.upstream.ChatModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.Optional;

/**
 * A Spindle server inside the test JVM, on a free port, with its own SQLite directory or PostgreSQL
 * database; or, as {@link Storage#CLUSTER}, three nodes on one PostgreSQL database whose SDK client
 * sends each request to the next node in turn. PostgreSQL nodes keep small pools ({@link #POOL_SIZE}): the suite shares
 * one PostgreSQL and its limit of 100 connections with whatever else uses it.
 */
public final class TestServer implements AutoCloseable {
    private static final int CLUSTER_NODES = 3;
    /** PostgreSQL connections per node (SPINDLE_DATABASE_POOL_SIZE), unless a test sets its own. */
    public static final String POOL_SIZE = ServerProcesses.POOL_SIZE;

    private final List<Spindle> nodes;
    private final Spindle spindle;
    private final String apiKey;
    /** The database this server made for itself, dropped by {@link #close}. */
    private final Optional<String> ownDatabase;

    private TestServer(List<Spindle> nodes, String apiKey, Optional<String> ownDatabase) {
        this.nodes = nodes;
        this.spindle = nodes.getFirst();
        this.apiKey = apiKey;
        this.ownDatabase = ownDatabase;
    }

    /** SQLite, PostgreSQL, or three nodes sharing one PostgreSQL database. */
    public enum Storage { SQLITE, POSTGRESQL, CLUSTER }

    public static TestServer start(Storage storage) {
        return start(storage, Map.of());
    }

    /**
     * Starts a server; {@code env} adds or overrides settings (e.g. SPINDLE_API_KEYS). On PostgreSQL, a fresh database
     * is made (and dropped by {@link #close}) unless {@code env} names one (SPINDLE_DATABASE_URL): several nodes of one
     * cluster share it.
     */
    public static TestServer start(Storage storage, Map<String, String> env) {
        return start(storage, env, UnaryOperator.identity());
    }

    /** As {@link #start(Storage, Map)}, with the runs' model calls passed through {@code modelCalls} (see {@link Spindle#start}). */
    public static TestServer start(Storage storage, Map<String, String> env, UnaryOperator<ChatModel> modelCalls) {
        Map<String, String> settings = new HashMap<>();
        settings.put("SPINDLE_PORT", "0");
        settings.put("SPINDLE_DATABASE_POOL_SIZE", POOL_SIZE);
        try {
            settings.put("SPINDLE_DATA_DIR", Files.createTempDirectory("spindle-test").toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Optional<String> ownDatabase = storage != Storage.SQLITE && !env.containsKey("SPINDLE_DATABASE_URL")
                ? Optional.of(TestPostgres.freshDatabase()) : Optional.empty();
        ownDatabase.ifPresent(url -> settings.put("SPINDLE_DATABASE_URL", url));
        settings.putAll(env);
        String firstKey = settings.getOrDefault("SPINDLE_API_KEYS", "").split("[,:]")[0].trim();
        List<Spindle> nodes = new ArrayList<>();
        int count = storage == Storage.CLUSTER ? CLUSTER_NODES : 1;
        try {
            for (int i = 1; i <= count; i++) {
                Map<String, String> node = new HashMap<>(settings);
                node.putIfAbsent("SPINDLE_NODE_ID", "test-node-" + i);
                nodes.add(Spindle.start(Settings.fromEnvironment(node), InstantSource.system(), modelCalls));
            }
        } catch (RuntimeException e) {
            nodes.forEach(Spindle::close);
            ownDatabase.ifPresent(TestPostgres::dropDatabase);
            throw e;
        }
        return new TestServer(List.copyOf(nodes), firstKey.isEmpty() ? null : firstKey, ownDatabase);
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

    /** The official SDK; on a cluster, each request goes to the next node in turn. */
    public com.openai.client.OpenAIClient sdk() {
        if (nodes.size() == 1) {
            return Sdk.client(baseUrl(), apiKey);
        }
        List<String> urls = nodes.stream().map(n -> "http://127.0.0.1:" + n.port() + "/v1").toList();
        return Sdk.roundRobin(urls, apiKey, java.util.Collections.synchronizedList(new ArrayList<>()));
    }

    /** The official SDK once per node, each sending every request to its own node (one on SQLite and PostgreSQL, three in a cluster). */
    public List<com.openai.client.OpenAIClient> nodeSdks() {
        return nodes.stream().map(n -> Sdk.client("http://127.0.0.1:" + n.port() + "/v1", apiKey)).toList();
    }

    public Spindle spindle() {
        return spindle;
    }

    /** A raw client per node (one on SQLite and PostgreSQL, three in a cluster). */
    public List<Api> nodeApis() {
        return nodes.stream().map(n -> new Api("http://127.0.0.1:" + n.port(), apiKey)).toList();
    }

    @Override
    public void close() {
        nodes.forEach(Spindle::close);
        ownDatabase.ifPresent(TestPostgres::dropDatabase);
    }
}
