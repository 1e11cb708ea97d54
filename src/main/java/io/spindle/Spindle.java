package io.spindle;

import io.helidon.webserver.WebServer;
import io.spindle.engine.FileSearchStores;
import io.spindle.engine.Ingestion;
import io.spindle.engine.Retention;
import io.spindle.engine.RunEngine;
import io.spindle.engine.tools.BuiltInTools;
import io.spindle.engine.tools.CodeInterpreterTool;
import io.spindle.engine.tools.FileSearchTool;
import io.spindle.engine.Runs;
import io.spindle.http.ApiServer;
import io.spindle.metrics.Metrics;
import io.spindle.metrics.MicrometerMetrics;
import io.spindle.sandbox.ChosenInBackground;
import io.spindle.sandbox.MeasuredSandbox;
import io.spindle.sandbox.Sandboxes;
import io.spindle.sandbox.SessionPool;
import io.spindle.search.Embedder;
import io.spindle.search.Embedders;
import io.spindle.search.IndexFollower;
import io.spindle.search.VectorStoreSearch;
import io.spindle.store.ChunkRepository;
import io.spindle.store.DataDir;
import io.spindle.store.Database;
import io.spindle.store.FileRepository;
import io.spindle.store.JdbcStore;
import io.spindle.store.LeaseQueue;
import io.spindle.store.Notifications;
import io.spindle.store.OtherNodes;
import io.spindle.store.RetentionRepository;
import io.spindle.store.RunQueue;
import io.spindle.store.Store;
import io.spindle.store.VectorStoreRepository;
import io.spindle.trace.Tracing;
import io.spindle.upstream.ChatClient;
import io.spindle.upstream.ChatModel;
import io.spindle.upstream.MeasuredChatModel;
import io.spindle.upstream.CircuitBreaker;
import io.spindle.upstream.ModelRoute;
import io.spindle.upstream.ModelRouter;
import io.spindle.upstream.ModelRoutes;
import io.spindle.upstream.Redaction;
import io.spindle.upstream.RouteGate;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.logging.Level;
import java.util.logging.Logger;

/** One running Spindle: storage opened from the settings and the HTTP server on top. */
public final class Spindle implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Spindle.class.getName());
    private static final String OPENAI_HOST = "api.openai.com";
    /** The operating system's text for EADDRINUSE, as the JDK reports it in a BindException. */
    private static final String ADDRESS_IN_USE = "Address already in use";

    /** How often files past their expires_at are deleted for good (they read as deleted at once). */
    private static final Duration FILE_EXPIRY_SWEEP = Duration.ofMinutes(1);
    /** How often the search index catches up with the database unasked (every search catches up first anyway). */
    private static final Duration INDEX_CATCH_UP = Duration.ofSeconds(1);

    private final Store store;
    private final VectorStoreRepository vectorStores;
    private final Database db;
    private final WebServer server;
    private final ModelRouter models;
    /** What start opened, closed in reverse order by {@link #close}. */
    private final Opened opened;

    private Spindle(Store store, VectorStoreRepository vectorStores, Database db, WebServer server, ModelRouter models,
                    Opened opened) {
        this.store = store;
        this.models = models;
        this.vectorStores = vectorStores;
        this.db = db;
        this.server = server;
        this.opened = opened;
    }

    /**
     * Starts in the order that harms no other Spindle: the port first (a second {@code spindle serve}
     * stops there), then storage (SQLite locks its data directory), then the HTTP server, and the
     * run engine last: only a node that listens claims runs, so one that cannot never touches the
     * runs of the node that can.
     *
     * @throws Settings.Invalid when the port or the data directory cannot be used (one line)
     */
    public static Spindle start(Settings settings, InstantSource clock) {
        return start(settings, clock, UnaryOperator.identity());
    }

    /** As {@link #start(Settings, InstantSource)}, with every model call of runs going through {@code modelCalls}. */
    public static Spindle start(Settings settings, InstantSource clock, UnaryOperator<ChatModel> modelCalls) {
        checkPortFree(settings);
        Opened opened = new Opened();
        try {
            // first opened, last closed: the spans of everything else's closing are still sent
            Tracing tracing = opened.add(openTracing(settings));
            MicrometerMetrics metrics = opened.add(new MicrometerMetrics());
            ModelRouter models = opened.add(openModels(settings, clock));
            Database db = opened.add(openDatabase(settings));
            db.measurePool(metrics.poolTracker());
            FileRepository files = FileRepository.open(db, settings.dataDir(), clock);
            OtherNodes others = db.dialect() == Database.Dialect.POSTGRESQL ? new Notifications(db) : OtherNodes.NONE;
            Embedder embedder = Embedders.from(settings.embedding(), settings.dataDir());
            VectorStoreRepository vectorStores = new VectorStoreRepository(db, clock, embedder.modelName());
            Store store = new JdbcStore(db, vectorStores, clock);
            Ingestion ingestion = new Ingestion(vectorStores, files, embedder, settings.nodeId(), settings.maxConcurrentIngestions(),
                    settings.runs().lease(), settings.dataDir().resolve("scratch"), metrics, clock);
            IndexFollower index = opened.add(openIndex(settings, embedder, new ChunkRepository(db)));
            VectorStoreSearch search = new VectorStoreSearch(vectorStores, index, embedder);
            BuiltInTools tools = new BuiltInTools(List.of(new FileSearchTool(store, vectorStores, search),
                    codeInterpreter(settings, opened, store, files, metrics, clock)));
            RunEngine engine = new RunEngine(store, new RunQueue(db), modelCalls.apply(new MeasuredChatModel(models, metrics)), models,
                    tools, files, others, tracing, settings, metrics, clock);
            FileSearchStores fileSearch = new FileSearchStores(vectorStores, files, ingestion);
            Runs runs = new Runs(store, engine, fileSearch, settings.runs().expiry(), clock);
            WebServer server = listen(settings, store, files, new ApiServer.VectorStores(vectorStores, fileSearch), runs, tools, search,
                    models, metrics, tracing, clock);
            opened.add(server::stop);
            // Only now, with the port ours, does this node claim work: a refused start never touches the runs of a
            // live node with the same id (closing an engine that never started hands nothing back).
            opened.add(engine).start();
            opened.add(ingestion).start();
            opened.add(new Retention(settings.retention(), new RetentionRepository(db), files, new LeaseQueue(db, Retention.WORK),
                    settings.nodeId(), clock)).start();
            ScheduledExecutorService indexing = Executors.newSingleThreadScheduledExecutor(
                    Thread.ofPlatform().daemon().name("index-follower").factory());
            // not interrupted at close: a catch-up under way finishes its commit, and closing the index waits for it
            opened.add(indexing::shutdown);
            indexing.scheduleWithFixedDelay(new CatchUp(index), 0, INDEX_CATCH_UP.toMillis(), TimeUnit.MILLISECONDS);
            ScheduledExecutorService housekeeping = Executors.newSingleThreadScheduledExecutor(
                    Thread.ofPlatform().daemon().name("expiry").factory());
            opened.add(housekeeping::shutdownNow);
            housekeeping.scheduleWithFixedDelay(() -> deleteExpired(files, vectorStores, clock), FILE_EXPIRY_SWEEP.toSeconds(),
                    FILE_EXPIRY_SWEEP.toSeconds(), TimeUnit.SECONDS);
            logStart(settings, server, models);
            return new Spindle(store, vectorStores, db, server, models, opened);
        } catch (RuntimeException e) {
            opened.closeAll();
            throw e;
        }
    }

    /**
     * code_interpreter, on the sandbox {@link Sandboxes#choose} picks (probed in the background: start does not wait),
     * with one session per thread; the pool ends its idle sessions itself, and all of them at close.
     */
    private static CodeInterpreterTool codeInterpreter(Settings settings, Opened opened, Store store, FileRepository files,
                                                       Metrics metrics, InstantSource clock) {
        Settings.Sandboxing sandboxing = settings.sandbox();
        ChosenInBackground sandbox = new ChosenInBackground(() -> Sandboxes.choose(sandboxing,
                Objects.requireNonNullElse(System.getenv("PATH"), "/usr/bin:/bin")));
        sandbox.whenChosen(choice -> LOG.info(choice.probe().works() ? "code_interpreter: " + choice.probe().reason()
                : "code_interpreter is not available: " + choice.probe().reason()));
        SessionPool sessions = opened.add(new SessionPool(new MeasuredSandbox(sandbox, metrics), sandboxing.idle(),
                sandboxing.maxSessions(), clock));
        metrics.gauge("spindle.sandbox.sessions", "code_interpreter sessions (Python processes) alive on this node", sessions::size);
        return new CodeInterpreterTool(store, files, sandbox, sessions, sandboxing.timeout(), clock);
    }

    /** Traces as the OTEL_* variables ask (none set: no traces); a value the OpenTelemetry SDK refuses stops start-up. */
    private static Tracing openTracing(Settings settings) {
        try {
            return Tracing.from(settings.telemetry().otel(), settings.nodeId());
        } catch (IllegalArgumentException e) {
            throw new Settings.Invalid("the OTEL_* variables cannot be used: " + e.getMessage());
        }
    }

    /** The routes of the models file (if any) and the catch-all, a client for each. */
    private static ModelRouter openModels(Settings settings, InstantSource clock) {
        Settings.Upstream up = settings.upstream();
        try {
            return new ModelRouter(settings.models(), route -> new RouteGate(route.name(), new ChatClient(ChatClient.Config.of(route,
                    up.retryBase(), up.maxLineBytes(), up.maxAnswerChars())), route.maxConcurrent(),
                    new CircuitBreaker(up.breakerFailures(), up.breakerCooldown(), clock)), clock.instant().getEpochSecond());
        } catch (ModelRoutes.Invalid e) {
            throw new Settings.Invalid("SPINDLE_MODELS_FILE " + e.getMessage());
        }
    }

    private static void logStart(Settings settings, WebServer server, ModelRouter models) {
        Settings.Upstream up = settings.upstream();
        LOG.info("storage: " + (settings.databaseUrl().isPresent() ? "PostgreSQL" : "SQLite in " + settings.dataDir().toAbsolutePath()));
        if (!settings.authRequired()) {
            LOG.warning("SPINDLE_API_KEYS is not set: every request is accepted without an API key (project 'default')");
        }
        if (settings.models().catchAll().isPresent() && up.url().getHost().equals(OPENAI_HOST) && up.apiKey().isEmpty()) {
            LOG.warning("runs go to " + up.url() + " but neither SPINDLE_UPSTREAM_API_KEY nor OPENAI_API_KEY is set: "
                    + "OpenAI will refuse every model call (401); set one, or point SPINDLE_UPSTREAM_URL at your model endpoint");
        }
        LOG.info("node " + settings.nodeId() + " listening on http://" + settings.host() + ":" + server.port()
                + "/v1; " + routesForLog(models));
    }

    /** The routes, each with its endpoint (no key, no password). */
    private static String routesForLog(ModelRouter models) {
        List<ModelRoute> routes = models.routes();
        if (routes.size() == 1 && routes.getFirst().name().equals(ModelRoutes.CATCH_ALL)) {
            return "model endpoint " + Redaction.url(routes.getFirst().baseUrl());
        }
        return "model routes " + String.join(", ", routes.stream()
                .map(r -> r.name() + " " + r.models() + " -> " + Redaction.url(r.baseUrl())).toList());
    }

    /** The parts a start opened, to close in reverse order: on a failed start, and at {@link #close}. */
    private static final class Opened {
        private final ArrayDeque<AutoCloseable> parts = new ArrayDeque<>();

        <T extends AutoCloseable> T add(T part) {
            parts.push(part);
            return part;
        }

        void closeAll() {
            while (!parts.isEmpty()) {
                AutoCloseable part = parts.pop();
                try {
                    part.close();
                } catch (Exception e) {
                    LOG.log(Level.WARNING, "closing " + part + " failed", e);
                }
            }
        }
    }

    /**
     * Binds the address once and lets it go, so that a port in use stops start-up with one line before
     * anything else opens. {@link #listen} still checks: another process may take the port in between.
     */
    private static void checkPortFree(Settings settings) {
        if (settings.port() == 0) {
            return;
        }
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true); // as the server binds: a port whose last connections are closing is free
            probe.bind(new InetSocketAddress(settings.host(), settings.port()));
        } catch (IOException e) {
            throw cannotListen(settings, e.getMessage());
        }
    }

    /** Starts the HTTP server; Helidon logs a failed bind and returns a server that does not run. */
    private static WebServer listen(Settings settings, Store store, FileRepository files, ApiServer.VectorStores vectorStores, Runs runs,
                                    BuiltInTools tools, VectorStoreSearch search, ModelRouter models, Metrics metrics,
                                    Tracing tracing,                                     InstantSource clock) {
        WebServer server = ApiServer.start(settings, store, files, vectorStores, runs, tools, search, models, metrics, tracing, clock);
        if (!server.isRunning()) {
            server.stop();
            throw cannotListen(settings, "the HTTP server did not start");
        }
        return server;
    }

    private static Settings.Invalid cannotListen(Settings settings, String reason) {
        if (ADDRESS_IN_USE.equals(reason)) {
            return new Settings.Invalid("port " + settings.port() + " on " + settings.host() + " is already in use (SPINDLE_PORT)");
        }
        return new Settings.Invalid("cannot listen on " + settings.host() + ":" + settings.port()
                + " (SPINDLE_HOST, SPINDLE_PORT): " + reason);
    }

    private static Database openDatabase(Settings settings) {
        if (settings.databaseUrl().isPresent()) {
            return Database.postgres(settings.databaseUrl().get(), settings.databasePoolSize(), settings.databaseWait());
        }
        try {
            return Database.sqlite(settings.dataDir());
        } catch (DataDir.Unusable e) {
            throw new Settings.Invalid("SPINDLE_DATA_DIR " + e.getMessage());
        }
    }

    /**
     * This node's search index, in {@code <data dir>/index/<node id>}: nodes that share a data directory (several on
     * one machine, on PostgreSQL) each keep their own.
     */
    private static IndexFollower openIndex(Settings settings, Embedder embedder, ChunkRepository chunks) {
        Path dir = settings.dataDir().resolve("index").resolve(settings.nodeId().replaceAll("[^A-Za-z0-9._-]", "_"));
        try {
            return IndexFollower.open(dir, embedder.modelName(), chunks);
        } catch (IOException e) {
            throw new Settings.Invalid("SPINDLE_DATA_DIR: cannot open the search index: " + e.getMessage()
                    + " (each node needs its own SPINDLE_NODE_ID or SPINDLE_DATA_DIR)");
        }
    }

    /** The background catch-up of the search index; logs a failure once, not every second. */
    private static final class CatchUp implements Runnable {
        private final IndexFollower index;
        private boolean failing;

        CatchUp(IndexFollower index) {
            this.index = index;
        }

        @Override
        public void run() {
            try {
                index.catchUp();
                if (failing) {
                    LOG.info("the search index follows the database again");
                }
                failing = false;
            } catch (RuntimeException e) {
                if (!failing) {
                    LOG.log(Level.WARNING, "the search index could not catch up with the database; trying again every "
                            + INDEX_CATCH_UP.toSeconds() + " s (searches try too)", e);
                }
                failing = true;
            }
        }
    }

    /** Deletes the expired files and marks the expired vector stores; each on its own, so one failing does not stop the other. */
    private static void deleteExpired(FileRepository files, VectorStoreRepository vectorStores, InstantSource clock) {
        try {
            files.deleteExpired();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "deleting expired files failed; trying again in " + FILE_EXPIRY_SWEEP.toSeconds() + " s", e);
        }
        try {
            vectorStores.expire(clock.instant().getEpochSecond());
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "expiring vector stores failed; trying again in " + FILE_EXPIRY_SWEEP.toSeconds() + " s", e);
        }
    }

    /**
     * Reads the models file anew (SIGHUP): its routes take effect for the next model calls, calls under way finish
     * where they started. On an error the routes in use stay, and the error is logged in one line.
     */
    public void reloadModels() {
        try {
            models.reload();
            LOG.info("models file read again; " + routesForLog(models));
        } catch (ModelRoutes.Invalid e) {
            LOG.warning("the models file was not taken, the routes in use stay: " + e.getMessage());
        }
    }

    public int port() {
        return server.port();
    }

    public Store store() {
        return store;
    }

    public VectorStoreRepository vectorStores() {
        return vectorStores;
    }

    /** The database this node uses (for tests that write rows no route writes yet). */
    public Database database() {
        return db;
    }

    /**
     * Stops in the order that loses nothing: stop claiming and hand this node's runs back (another
     * node, or this one after a restart, resumes them), end open streams with an error event, then
     * stop HTTP and storage.
     */
    @Override
    public void close() {
        opened.closeAll();
    }
}
