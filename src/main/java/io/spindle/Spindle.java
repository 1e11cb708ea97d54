package io.spindle;

import io.helidon.webserver.WebServer;
import io.spindle.engine.RunEngine;
import io.spindle.engine.Runs;
import io.spindle.http.ApiServer;
import io.spindle.store.Notifications;
import io.spindle.store.RunQueue;
import io.spindle.upstream.ChatClient;
import io.spindle.store.Database;
import io.spindle.store.JdbcStore;
import io.spindle.store.Store;
import io.spindle.store.FileRepository;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/** One running Spindle: storage opened from the settings and the HTTP server on top. */
public final class Spindle implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Spindle.class.getName());

    /** How often files past their expires_at are deleted for good (they read as deleted at once). */
    private static final Duration FILE_EXPIRY_SWEEP = Duration.ofMinutes(1);

    private final Store store;
    private final ChatClient chat;
    private final RunEngine engine;
    private final WebServer server;
    private final ScheduledExecutorService housekeeping;

    private Spindle(Store store, ChatClient chat, RunEngine engine, WebServer server, ScheduledExecutorService housekeeping) {
        this.store = store;
        this.chat = chat;
        this.engine = engine;
        this.server = server;
        this.housekeeping = housekeeping;
    }

    public static Spindle start(Settings settings, InstantSource clock) {
        Database db = settings.databaseUrl()
                .map(url -> Database.postgres(url, settings.databasePoolSize()))
                .orElseGet(() -> Database.sqlite(settings.dataDir()));
        Store store = new JdbcStore(db);
        FileRepository files = FileRepository.open(db, settings.dataDir(), clock);
        Settings.Upstream up = settings.upstream();
        ChatClient chat = new ChatClient(new ChatClient.Config(up.url(), up.apiKey(), up.timeout(), up.retries(), up.retryBase()));
        Notifications cluster = db.dialect() == Database.Dialect.POSTGRESQL ? new Notifications(db) : null;
        RunEngine engine = new RunEngine(store, new RunQueue(db), chat, cluster, settings, clock);
        try {
            engine.start();
            Runs runs = new Runs(store, engine, settings.runs().expiry(), clock);
            WebServer server = ApiServer.start(settings, store, files, runs, clock);
            ScheduledExecutorService housekeeping = Executors.newSingleThreadScheduledExecutor(
                    Thread.ofPlatform().daemon().name("file-expiry").factory());
            housekeeping.scheduleWithFixedDelay(() -> deleteExpired(files), FILE_EXPIRY_SWEEP.toSeconds(),
                    FILE_EXPIRY_SWEEP.toSeconds(), TimeUnit.SECONDS);
            LOG.info("storage: " + (settings.databaseUrl().isPresent() ? "PostgreSQL" : "SQLite in " + settings.dataDir().toAbsolutePath()));
            if (!settings.authRequired()) {
                LOG.warning("SPINDLE_API_KEYS is not set: every request is accepted without an API key (project 'default')");
            }
            LOG.info("node " + settings.nodeId() + " listening on http://" + settings.host() + ":" + server.port()
                    + "/v1; model endpoint " + up.url());
            return new Spindle(store, chat, engine, server, housekeeping);
        } catch (RuntimeException e) {
            engine.close();
            chat.close();
            store.close();
            throw e;
        }
    }

    private static void deleteExpired(FileRepository files) {
        try {
            files.deleteExpired();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "deleting expired files failed; trying again in " + FILE_EXPIRY_SWEEP.toSeconds() + " s", e);
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
        housekeeping.shutdownNow();
        engine.close();
        server.stop();
        chat.close();
        store.close();
    }
}
