package io.spindle;

import io.helidon.webserver.WebServer;
import io.spindle.engine.RunEngine;
import io.spindle.engine.Runs;
import io.spindle.http.ApiServer;
import io.spindle.store.Notifications;
import io.spindle.store.RunQueue;
import io.spindle.upstream.ChatClient;
import io.spindle.upstream.Redaction;
import io.spindle.store.Database;
import io.spindle.store.JdbcStore;
import io.spindle.store.Store;
import java.time.InstantSource;
import java.util.logging.Logger;

/** One running Spindle: storage opened from the settings and the HTTP server on top. */
public final class Spindle implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Spindle.class.getName());

    private final Store store;
    private final ChatClient chat;
    private final RunEngine engine;
    private final WebServer server;

    private Spindle(Store store, ChatClient chat, RunEngine engine, WebServer server) {
        this.store = store;
        this.chat = chat;
        this.engine = engine;
        this.server = server;
    }

    public static Spindle start(Settings settings, InstantSource clock) {
        Database db = settings.databaseUrl()
                .map(url -> Database.postgres(url, settings.databasePoolSize()))
                .orElseGet(() -> Database.sqlite(settings.dataDir()));
        Store store = new JdbcStore(db);
        Settings.Upstream up = settings.upstream();
        ChatClient chat = new ChatClient(new ChatClient.Config(up.url(), up.apiKey(), up.timeout(), up.retries(), up.retryBase(),
                up.maxLineBytes(), up.maxAnswerChars()));
        Notifications cluster = db.dialect() == Database.Dialect.POSTGRESQL ? new Notifications(db) : null;
        RunEngine engine = new RunEngine(store, new RunQueue(db), chat, cluster, settings, clock);
        try {
            engine.start();
            Runs runs = new Runs(store, engine, settings.runs().expiry(), clock);
            WebServer server = ApiServer.start(settings, store, runs, clock);
            LOG.info("storage: " + (settings.databaseUrl().isPresent() ? "PostgreSQL" : "SQLite in " + settings.dataDir().toAbsolutePath()));
            if (!settings.authRequired()) {
                LOG.warning("SPINDLE_API_KEYS is not set: every request is accepted without an API key (project 'default')");
            }
            LOG.info("node " + settings.nodeId() + " listening on http://" + settings.host() + ":" + server.port()
                    + "/v1; model endpoint " + Redaction.url(up.url()));
            return new Spindle(store, chat, engine, server);
        } catch (RuntimeException e) {
            engine.close();
            chat.close();
            store.close();
            throw e;
        }
    }

    public int port() {
        return server.port();
    }

    public Store store() {
        return store;
    }

    /**
     * Stops in the order that loses nothing: stop claiming and hand this node's runs back (another
     * node, or this one after a restart, resumes them), end open streams with an error event, then
     * stop HTTP and storage.
     */
    @Override
    public void close() {
        engine.close();
        server.stop();
        chat.close();
        store.close();
    }
}
