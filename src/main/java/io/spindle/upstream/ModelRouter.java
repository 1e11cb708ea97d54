package io.spindle.upstream;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindle.api.ApiException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The model calls of runs, each sent to the endpoint of its model's route ({@link ModelRoutes}), in the shape that
 * route takes ({@link RequestShape}). The routes can be read anew ({@link #reload}) while calls go on: a call
 * finishes on the client it started with, a route that did not change keeps its client, and the client of a route
 * that changed or went away is closed once its last call has ended.
 */
public final class ModelRouter implements ChatModel, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ModelRouter.class.getName());

    /** The routes in use and a client for each. */
    private record Table(ModelRoutes routes, Map<ModelRoute, Client> clients) {}

    private final ModelRoutes.Source source;
    private final Function<ModelRoute, ChatModel> clients;
    private final long created;
    private final AtomicReference<Table> table = new AtomicReference<>();

    /**
     * @param clients makes the client of a route (closed, when it is {@link AutoCloseable}, once the route is
     *                replaced and its calls have ended)
     * @param created the {@code created} time of every listed model (seconds)
     */
    public ModelRouter(ModelRoutes.Source source, Function<ModelRoute, ChatModel> clients, long created) throws ModelRoutes.Invalid {
        this.source = source;
        this.clients = clients;
        this.created = created;
        swap(source.load());
    }

    @Override
    public ChatResult complete(ObjectNode body, ChatListener listener, Cancellation cancellation) throws UpstreamException {
        String model = body.path("model").asText();
        while (true) {
            Table current = table.get();
            Optional<ModelRoute> route = current.routes().route(model);
            if (route.isEmpty()) {
                throw new UpstreamException(UpstreamException.Kind.INVALID_PROMPT, "there is no route for model '" + model
                        + "' (the models file changed since the run was created)");
            }
            Client client = current.clients().get(route.get());
            if (client.enter()) {
                try {
                    return client.chat.complete(RequestShape.adapt(body, route.get()), listener, cancellation);
                } finally {
                    client.leave();
                }
            }
            // a reload retired this client between reading the table and entering: read the new table
        }
    }

    /** The route {@code model}'s runs go to now, if any. */
    public Optional<ModelRoute> route(String model) {
        return table.get().routes().route(model);
    }

    /**
     * The route of {@code model}, the model of a run or assistant being created (or changed).
     *
     * @throws ApiException 400 naming {@code model} when no route takes it
     */
    public ModelRoute require(String model) {
        return route(model).orElseThrow(() -> ApiException.invalid("The requested model '" + model + "' does not exist.",
                "model", "model_not_found"));
    }

    /** The routes in use, in order. */
    public List<ModelRoute> routes() {
        return table.get().routes().routes();
    }

    /** The models that can be listed (named exactly by a route), each with its route, in file order. */
    public Map<String, ModelRoute> listed() {
        return table.get().routes().named();
    }

    /** When the listed models were "created": this router's start, the same for every model. */
    public long created() {
        return created;
    }

    /**
     * Reads the models file anew and takes its routes; on an error the routes in use stay.
     *
     * @throws ModelRoutes.Invalid when the file cannot be used (the message names the route and field)
     */
    public void reload() throws ModelRoutes.Invalid {
        swap(source.load());
    }

    private synchronized void swap(ModelRoutes routes) {
        Table old = table.get();
        Map<ModelRoute, Client> next = new LinkedHashMap<>();
        for (ModelRoute route : routes.routes()) {
            Client kept = old == null ? null : old.clients().get(route);
            next.put(route, kept != null ? kept : new Client(route.name(), clients.apply(route)));
        }
        table.set(new Table(routes, next));
        if (old != null) {
            old.clients().values().stream().filter(c -> !next.containsValue(c)).forEach(Client::retire);
        }
    }

    @Override
    public synchronized void close() {
        table.get().clients().values().forEach(Client::retire);
    }

    /** A route's client and the calls on it; once retired, it closes when the last call leaves. */
    private static final class Client {
        private final String route;
        private final ChatModel chat;
        private int calls;
        private boolean retired;

        Client(String route, ChatModel chat) {
            this.route = route;
            this.chat = chat;
        }

        synchronized boolean enter() {
            if (retired) {
                return false;
            }
            calls++;
            return true;
        }

        void leave() {
            boolean last;
            synchronized (this) {
                calls--;
                last = retired && calls == 0;
            }
            if (last) {
                closeClient();
            }
        }

        void retire() {
            boolean idle;
            synchronized (this) {
                if (retired) {
                    return;
                }
                retired = true;
                idle = calls == 0;
            }
            if (idle) {
                closeClient();
            }
        }

        private void closeClient() {
            if (chat instanceof AutoCloseable closeable) {
                try {
                    closeable.close();
                } catch (Exception e) {
                    LOG.log(Level.WARNING, "closing the client of route '" + route + "' failed", e);
                }
            }
        }
    }
}
