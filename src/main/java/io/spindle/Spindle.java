package io.spindle;

import io.helidon.webserver.WebServer;
import io.spindle.http.ApiServer;
import io.spindle.store.Database;
import io.spindle.store.JdbcStore;
import io.spindle.store.Store;
import java.time.InstantSource;
import java.util.logging.Logger;

/** One running Spindle: storage opened from the settings and the HTTP server on top. */
public final class Spindle implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Spindle.class.getName());

    private final Store store;
    private final WebServer server;

    private Spindle(Store store, WebServer server) {
        this.store = store;
        this.server = server;
    }

    public static Spindle start(Settings settings, InstantSource clock) {
        Database db = settings.databaseUrl()
                .map(url -> Database.postgres(url, 16))
                .orElseGet(() -> Database.sqlite(settings.dataDir()));
        Store store = new JdbcStore(db);
        try {
            WebServer server = ApiServer.start(settings, store, clock);
            LOG.info("storage: " + (settings.databaseUrl().isPresent() ? "PostgreSQL" : "SQLite in " + settings.dataDir().toAbsolutePath()));
            if (!settings.authRequired()) {
                LOG.warning("SPINDLE_API_KEYS is not set: every request is accepted without an API key (project 'default')");
            }
            LOG.info("listening on http://" + settings.host() + ":" + server.port() + "/v1");
            return new Spindle(store, server);
        } catch (RuntimeException e) {
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

    @Override
    public void close() {
        server.stop();
        store.close();
    }
}
