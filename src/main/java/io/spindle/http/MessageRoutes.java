package io.spindle.http;

import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.spindle.api.ApiException;
import io.spindle.api.DeletedObject;
import io.spindle.api.Ids;
import io.spindle.api.MessageObject;
import io.spindle.api.MessageRequest;
import io.spindle.api.StoredJson;
import io.spindle.engine.FileSearchStores;
import io.spindle.store.Store;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;

/** {@code /v1/threads/{thread_id}/messages}: create, list, retrieve, modify, delete. */
final class MessageRoutes implements HttpService {
    private final Store store;
    private final FileSearchStores fileSearch;
    private final InstantSource clock;

    MessageRoutes(Store store, FileSearchStores fileSearch, InstantSource clock) {
        this.store = store;
        this.fileSearch = fileSearch;
        this.clock = clock;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/threads/{thread_id}/messages", this::create)
                .get("/threads/{thread_id}/messages", this::list)
                .any("/threads/{thread_id}/messages", Http::methodNotAllowed)
                .get("/threads/{thread_id}/messages/{message_id}", this::retrieve)
                .post("/threads/{thread_id}/messages/{message_id}", this::modify)
                .delete("/threads/{thread_id}/messages/{message_id}", this::delete)
                .any("/threads/{thread_id}/messages/{message_id}", Http::methodNotAllowed);
    }

    private void create(ServerRequest req, ServerResponse res) {
        String threadId = ThreadRoutes.existingId(store, req);
        MessageRequest.Parsed parsed = MessageRequest.parse(Http.body(req));
        MessageObject message = parsed.toMessage(Ids.message(), threadId, clock.instant().getEpochSecond());
        String project = Http.project(req);
        fileSearch.checkAttachments(project, List.of(message), "attachments");
        StoredJson stored = store.insertMessage(project, message);
        fileSearch.queued(Optional.empty(), List.of(message));
        Http.send(req, res, stored);
    }

    private void list(ServerRequest req, ServerResponse res) {
        String threadId = ThreadRoutes.existingId(store, req);
        String runId = Http.query(req, "run_id");
        if (runId != null) {
            Ids.require("run_id", runId, Ids.RUN);
        }
        Http.send(req, res, store.messages(Http.project(req), threadId, runId, Http.listQuery(req)));
    }

    private void retrieve(ServerRequest req, ServerResponse res) {
        String threadId = ThreadRoutes.existingId(store, req);
        String id = Http.pathId(req, "message_id", Ids.MESSAGE);
        Http.send(req, res, store.messageJson(Http.project(req), threadId, id).orElseThrow(() -> ApiException.notFound("message", id)));
    }

    private void modify(ServerRequest req, ServerResponse res) {
        MessageObject current = find(req);
        MessageObject modified = current.withMetadata(MessageRequest.modifyMetadata(Http.body(req), current.metadata()));
        if (!store.updateMessage(Http.project(req), modified)) {
            throw ApiException.notFound("message", modified.id());
        }
        Http.send(req, res, modified);
    }

    private void delete(ServerRequest req, ServerResponse res) {
        String threadId = ThreadRoutes.existingId(store, req);
        String id = Http.pathId(req, "message_id", Ids.MESSAGE);
        if (!store.deleteMessage(Http.project(req), threadId, id)) {
            throw ApiException.notFound("message", id);
        }
        Http.send(req, res, DeletedObject.of(id, "thread.message.deleted"));
    }

    private MessageObject find(ServerRequest req) {
        String threadId = ThreadRoutes.existingId(store, req);
        String id = Http.pathId(req, "message_id", Ids.MESSAGE);
        return store.message(Http.project(req), threadId, id).orElseThrow(() -> ApiException.notFound("message", id));
    }
}
