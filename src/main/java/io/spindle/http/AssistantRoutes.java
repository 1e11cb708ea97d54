package io.spindle.http;

import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.spindle.api.ApiException;
import io.spindle.api.AssistantObject;
import io.spindle.api.AssistantRequest;
import io.spindle.api.DeletedObject;
import io.spindle.api.Ids;
import io.spindle.api.WithInlineStore;
import io.spindle.engine.FileSearchStores;
import io.spindle.engine.tools.BuiltInTools;
import io.spindle.store.NewVectorStore;
import io.spindle.store.Store;
import io.spindle.upstream.ModelRouter;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;

/** {@code /v1/assistants}: create, list, retrieve, modify, delete. */
final class AssistantRoutes implements HttpService {
    private final Store store;
    private final FileSearchStores fileSearch;
    private final BuiltInTools tools;
    private final ModelRouter models;
    private final InstantSource clock;

    AssistantRoutes(Store store, FileSearchStores fileSearch, BuiltInTools tools, ModelRouter models, InstantSource clock) {
        this.store = store;
        this.fileSearch = fileSearch;
        this.tools = tools;
        this.models = models;
        this.clock = clock;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/assistants", this::create)
                .get("/assistants", this::list)
                .any("/assistants", Http::methodNotAllowed)
                .get("/assistants/{assistant_id}", this::retrieve)
                .post("/assistants/{assistant_id}", this::modify)
                .delete("/assistants/{assistant_id}", this::delete)
                .any("/assistants/{assistant_id}", Http::methodNotAllowed);
    }

    private void create(ServerRequest req, ServerResponse res) {
        String project = Http.project(req);
        long now = clock.instant().getEpochSecond();
        WithInlineStore<AssistantObject> created = AssistantRequest.create(Http.body(req), Ids.assistant(), now);
        models.require(created.object().model());
        tools.checkAvailable(created.object().tools());
        Optional<NewVectorStore> newStore = fileSearch.forAssistant(project, created.newStore(), now);
        store.insertAssistant(project, created.object(), newStore);
        fileSearch.queued(newStore, List.of());
        Http.send(req, res, created.object());
    }

    private void list(ServerRequest req, ServerResponse res) {
        Http.send(req, res, store.assistants(Http.project(req), Http.listQuery(req)));
    }

    private void retrieve(ServerRequest req, ServerResponse res) {
        Http.send(req, res, find(req));
    }

    private void modify(ServerRequest req, ServerResponse res) {
        String project = Http.project(req);
        AssistantObject current = find(req);
        WithInlineStore<AssistantObject> modified = AssistantRequest.modify(current, Http.body(req));
        // only a new model is checked: an assistant whose model lost its route can still be renamed
        if (!modified.object().model().equals(current.model())) {
            models.require(modified.object().model());
        }
        tools.checkAvailable(modified.object().tools());
        Optional<NewVectorStore> newStore = fileSearch.forAssistant(project, modified.newStore(), clock.instant().getEpochSecond());
        if (!store.updateAssistant(project, modified.object(), newStore)) {
            throw ApiException.notFound("assistant", modified.object().id());
        }
        fileSearch.queued(newStore, List.of());
        Http.send(req, res, modified.object());
    }

    private void delete(ServerRequest req, ServerResponse res) {
        String id = Http.pathId(req, "assistant_id", Ids.ASSISTANT);
        if (!store.deleteAssistant(Http.project(req), id)) {
            throw ApiException.notFound("assistant", id);
        }
        Http.send(req, res, DeletedObject.of(id, "assistant.deleted"));
    }

    private AssistantObject find(ServerRequest req) {
        String id = Http.pathId(req, "assistant_id", Ids.ASSISTANT);
        return store.assistant(Http.project(req), id).orElseThrow(() -> ApiException.notFound("assistant", id));
    }
}
