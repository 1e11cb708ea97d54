package io.spindle.http;

import io.helidon.http.DirectHandler;
import io.helidon.http.HttpException;
import io.helidon.http.Status;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http1.Http1Config;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.DirectHandlers;
import io.spindle.Settings;
import io.spindle.api.ApiException;
import io.spindle.api.Json;
import io.spindle.engine.Runs;
import io.spindle.engine.tools.BuiltInTools;
import io.spindle.engine.FileSearchStores;
import io.spindle.metrics.Metrics;
import io.spindle.search.EmbeddingException;
import io.spindle.search.VectorStoreSearch;
import io.spindle.store.FileRepository;
import io.spindle.store.VectorStoreRepository;
import io.spindle.store.Store;
import io.spindle.store.StoreException;
import io.spindle.trace.Tracing;
import io.spindle.upstream.ModelRouter;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Map;

/** The HTTP surface: every route Spindle answers, in one readable table. */
public final class ApiServer {
    private ApiServer() {}

    /** Room a file upload's form may take beyond the file itself: boundaries, part headers, the text fields. */
    private static final long FORM_ROOM = 1024 * 1024;

    public static WebServer start(Settings settings, Store store, FileRepository files, VectorStores vectorStores, Runs runs,
                                  BuiltInTools tools, VectorStoreSearch search, ModelRouter models, Metrics metrics, Tracing tracing,
                                  InstantSource clock) {
        Settings.Web web = settings.web();
        BrowserAccess browsers = BrowserAccess.of(settings);
        ReadDeadlines deadlines = new ReadDeadlines(web.readTimeout());
        WebServer server = WebServer.builder()
                .host(settings.host())
                .port(settings.port())
                // the limit file uploads need; JSON bodies keep theirs (SPINDLE_MAX_BODY_BYTES), checked in Http.body
                .maxPayloadSize(Math.max(settings.maxBodyBytes(), settings.maxFileBytes() + FORM_ROOM))
                // Without TCP_NODELAY, an answer written in two segments waits ~40 ms for a delayed ACK.
                .connectionOptions(socket -> socket.tcpNoDelay(true))
                // past the limit, connections wait in the listen backlog instead of costing a thread and buffers each
                .maxTcpConnections(web.maxConnections())
                .idleConnectionTimeout(web.idleTimeout())
                .idleConnectionPeriod(idleCheckPeriod(web.idleTimeout()))
                // OpenAI's .NET client sends include[]=… with literal brackets, which Helidon's strict query check
                // (part of its prologue check) refuses; ProtocolFilter still refuses what is not UTF-8 once decoded
                .addProtocol(Http1Config.builder().validatePrologue(false).addReceiveListener(deadlines).build())
                .shutdownHook(false)
                .directHandlers(directHandlers(browsers))
                .routing(routing -> routes(routing, settings, store, files, vectorStores, runs, tools, search, models, metrics, tracing, clock,
                        browsers, deadlines))
                .build()
                .start();
        deadlines.sweepWhile(server::isRunning);
        return server;
    }

    /** Helidon measures idle time to the second; checking four times per timeout closes within a quarter of it. */
    private static Duration idleCheckPeriod(Duration idleTimeout) {
        return Duration.ofMillis(Math.max(1_000, idleTimeout.toMillis() / 4));
    }

    /** What the vector store routes work with: the stores, and the way files go into them. */
    public record VectorStores(VectorStoreRepository repository, FileSearchStores fileSearch) {}

    static void routes(HttpRouting.Builder routing, Settings settings, Store store, FileRepository files, VectorStores vectorStores,
                       Runs runs, BuiltInTools tools, VectorStoreSearch search, ModelRouter models, Metrics metrics, Tracing tracing,
                       InstantSource clock,
                       BrowserAccess browsers,
                       ReadDeadlines deadlines) {
        Http.BodyLimit bodyLimit = new Http.BodyLimit(settings.maxBodyBytes());
        routing.addFilter(new ProtocolFilter(deadlines))
                .addFilter(new MetricsFilter(metrics))
                .addFilter(new TraceFilter(tracing))
                .addFilter(new AccessFilter(settings, browsers))
                .addFilter((chain, req, res) -> {
                    req.context().register(bodyLimit);
                    chain.proceed();
                })
                .get("/healthz", (req, res) -> Http.send(req, res, Map.of("status", "ok", "node", settings.nodeId())))
                .get("/readyz", (req, res) -> {
                    boolean ready = store.ping();
                    Http.send(req, res, ready ? Status.OK_200 : Status.SERVICE_UNAVAILABLE_503, Json.writeBytes(
                            Map.of("status", ready ? "ready" : "storage unreachable", "node", settings.nodeId())));
                })
                .register(new MetricsRoutes(settings.metrics(), metrics))
                .register("/v1",
                        // before ThreadRoutes: POST /threads/runs must not read as POST /threads/{thread_id}
                        new RunRoutes(store, runs, settings.runs().pollAfterMillis()),
                        new AssistantRoutes(store, vectorStores.fileSearch(), tools, models, clock),
                        new ThreadRoutes(store, vectorStores.fileSearch(), clock),
                        new MessageRoutes(store, vectorStores.fileSearch(), clock),
                        new FileRoutes(files, clock, settings.maxFileBytes()),
                        new VectorStoreRoutes(vectorStores.repository(), vectorStores.fileSearch(), clock),
                        new VectorStoreSearchRoutes(search),
                        new ModelListRoutes(models))
                .any(Http::notFound)
                .error(ApiException.class, Errors::api)
                .error(HttpException.class, Errors::http)
                .error(StoreException.class, Errors::store)
                .error(EmbeddingException.class, Errors::embedding)
                .error(Throwable.class, Errors::internal);
    }

    private static DirectHandlers directHandlers(BrowserAccess browsers) {
        DirectHandlers.Builder builder = DirectHandlers.builder();
        DirectHandler handler = Errors.direct(browsers);
        for (DirectHandler.EventType type : DirectHandler.EventType.values()) {
            builder.addHandler(type, handler);
        }
        return builder.build();
    }
}
