package io.spindle.engine;

import com.openai.client.OpenAIClient;
import io.helidon.webserver.WebServer;
import io.spindle.Settings;
import io.spindle.http.ApiServer;
import io.spindle.store.Database;
import io.spindle.store.JdbcStore;
import io.spindle.store.Notifications;
import io.spindle.store.RunQueue;
import io.spindle.store.Store;
import io.spindle.testing.Sdk;
import io.spindle.testing.TestPostgres;
import io.spindle.testing.TestServer;
import io.spindle.upstream.ChatClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * One Spindle node wired as {@code Spindle.start} wires it, except that the engine's model call (the real
 * {@link ChatClient}) is passed through {@code wrap} first: how a test makes an execution die of an {@link Error} or
 * hang where no cancellation reaches it, which no upstream answer can do.
 */
final class ChatSeamServer implements AutoCloseable {
    private final String databaseUrl;
    private final ChatClient chat;
    private final Store store;
    private final RunEngine engine;
    private final WebServer server;

    private ChatSeamServer(String databaseUrl, ChatClient chat, Store store, RunEngine engine, WebServer server) {
        this.databaseUrl = databaseUrl;
        this.chat = chat;
        this.store = store;
        this.engine = engine;
        this.server = server;
    }

    /** SQLite or PostgreSQL (a fresh database, dropped at close); {@code env} adds settings. */
    static ChatSeamServer start(TestServer.Storage storage, Map<String, String> env, UnaryOperator<RunEngine.Chat> wrap) {
        Map<String, String> values = new HashMap<>();
        values.put("SPINDLE_PORT", "0");
        values.put("SPINDLE_NODE_ID", "seam-node");
        values.put("SPINDLE_POLL_AFTER_MS", "50");
        values.put("SPINDLE_DATABASE_POOL_SIZE", "4");
        try {
            values.put("SPINDLE_DATA_DIR", Files.createTempDirectory("spindle-test").toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String databaseUrl = storage == TestServer.Storage.SQLITE ? null : TestPostgres.freshDatabase();
        if (databaseUrl != null) {
            values.put("SPINDLE_DATABASE_URL", databaseUrl);
        }
        values.putAll(env);
        Settings settings = Settings.fromEnvironment(values);
        Database db = databaseUrl == null ? Database.sqlite(settings.dataDir()) : Database.postgres(databaseUrl, settings.databasePoolSize());
        Store store = new JdbcStore(db);
        Settings.Upstream up = settings.upstream();
        ChatClient chat = new ChatClient(new ChatClient.Config(up.url(), up.apiKey(), up.timeout(), up.retries(), up.retryBase()));
        Notifications cluster = databaseUrl == null ? null : new Notifications(db);
        InstantSource clock = InstantSource.system();
        RunEngine engine = new RunEngine(store, new RunQueue(db), wrap.apply(chat::complete), cluster, settings, clock);
        engine.start();
        WebServer server = ApiServer.start(settings, store, new Runs(store, engine, settings.runs().expiry(), clock), clock);
        return new ChatSeamServer(databaseUrl, chat, store, engine, server);
    }

    OpenAIClient sdk() {
        return Sdk.client("http://127.0.0.1:" + server.port() + "/v1", null);
    }

    @Override
    public void close() {
        engine.close();
        server.stop();
        chat.close();
        store.close();
        if (databaseUrl != null) {
            TestPostgres.dropDatabase(databaseUrl);
        }
    }
}
