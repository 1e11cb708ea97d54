package io.spindle.http;

import io.helidon.http.DirectHandler;
import io.helidon.http.HttpException;
import io.helidon.http.Status;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.DirectHandlers;
import io.spindle.Settings;
import io.spindle.api.ApiException;
import io.spindle.api.Json;
import io.spindle.engine.Runs;
import io.spindle.store.FileRepository;
import io.spindle.store.Store;
import io.spindle.store.StoreException;
import java.time.InstantSource;
import java.util.Map;

/** The HTTP surface: every route Spindle answers, in one readable table. */
public final class ApiServer {
    private ApiServer() {}

    /** Room a file upload's form may take beyond the file itself: boundaries, part headers, the text fields. */
    private static final long FORM_ROOM = 1024 * 1024;

    public static WebServer start(Settings settings, Store store, FileRepository files, Runs runs, InstantSource clock) {
        return WebServer.builder()
                .host(settings.host())
                .port(settings.port())
                // the limit file uploads need; JSON bodies keep theirs (SPINDLE_MAX_BODY_BYTES), checked in Http.body
                .maxPayloadSize(Math.max(settings.maxBodyBytes(), settings.maxFileBytes() + FORM_ROOM))
                // Without TCP_NODELAY, an answer written in two segments waits ~40 ms for a delayed ACK.
                .connectionOptions(socket -> socket.tcpNoDelay(true))
                .shutdownHook(false)
                .directHandlers(directHandlers())
                .routing(routing -> routes(routing, settings, store, files, runs, clock))
                .build()
                .start();
    }

    static void routes(HttpRouting.Builder routing, Settings settings, Store store, FileRepository files, Runs runs,
                       InstantSource clock) {
        Http.BodyLimit bodyLimit = new Http.BodyLimit(settings.maxBodyBytes());
        routing.addFilter(new AccessFilter(settings))
                .addFilter((chain, req, res) -> {
                    req.context().register(bodyLimit);
                    chain.proceed();
                })
                .get("/healthz", (req, res) -> Http.send(res, Map.of("status", "ok", "node", settings.nodeId())))
                .get("/readyz", (req, res) -> {
                    boolean ready = store.ping();
                    Http.send(res, ready ? Status.OK_200 : Status.SERVICE_UNAVAILABLE_503, Json.writeBytes(
                            Map.of("status", ready ? "ready" : "storage unreachable", "node", settings.nodeId())));
                })
                .register("/v1",
                        // before ThreadRoutes: POST /threads/runs must not read as POST /threads/{thread_id}
                        new RunRoutes(store, runs, settings.runs().pollAfterMillis()),
                        new AssistantRoutes(store, clock),
                        new ThreadRoutes(store, clock),
                        new MessageRoutes(store, clock),
                        new FileRoutes(files, clock, settings.maxFileBytes()))
                .any(Http::notFound)
                .error(ApiException.class, Errors::api)
                .error(HttpException.class, Errors::http)
                .error(StoreException.class, Errors::store)
                .error(Throwable.class, Errors::internal);
    }

    private static DirectHandlers directHandlers() {
        DirectHandlers.Builder builder = DirectHandlers.builder();
        for (DirectHandler.EventType type : DirectHandler.EventType.values()) {
            builder.addHandler(type, Errors.DIRECT);
        }
        return builder.build();
    }
}
