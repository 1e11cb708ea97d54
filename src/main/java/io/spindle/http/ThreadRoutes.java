package io.spindle.http;

import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.spindle.api.ApiException;
import io.spindle.api.DeletedObject;
import io.spindle.api.Ids;
import io.spindle.api.MessageObject;
import io.spindle.api.ThreadObject;
import io.spindle.api.ThreadRequest;
import io.spindle.api.WithInlineStore;
import io.spindle.engine.FileSearchStores;
import io.spindle.store.NewVectorStore;
import io.spindle.store.Store;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;

/** {@code /v1/threads}: create (with initial messages), retrieve, modify, delete. There is no list. */
final class ThreadRoutes implements HttpService {
    private final Store store;
    private final FileSearchStores fileSearch;
    private final InstantSource clock;

    ThreadRoutes(Store store, FileSearchStores fileSearch, InstantSource clock) {
        this.store = store;
        this.fileSearch = fileSearch;
        this.clock = clock;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/threads", this::create)
                .any("/threads", Http::methodNotAllowed)
                .get("/threads/{thread_id}", this::retrieve)
                .post("/threads/{thread_id}", this::modify)
                .delete("/threads/{thread_id}", this::delete)
                .any("/threads/{thread_id}", Http::methodNotAllowed);
    }

    private void create(ServerRequest req, ServerResponse res) {
        String project = Http.project(req);
        ThreadRequest.Parsed parsed = ThreadRequest.create(Http.body(req));
        long now = clock.instant().getEpochSecond();
        ThreadObject thread = parsed.toThread(Ids.thread(), now);
        List<MessageObject> messages = parsed.messages().stream()
                .map(m -> m.toMessage(Ids.message(), thread.id(), now))
                .toList();
        Optional<NewVectorStore> newStore = fileSearch.forThread(project, parsed.newStore(), now);
        fileSearch.checkAttachments(project, messages, "messages");
        ThreadObject stored = store.insertThread(project, thread, newStore, messages);
        fileSearch.queued(newStore, messages);
        Http.send(req, res, stored);
    }

    private void retrieve(ServerRequest req, ServerResponse res) {
        Http.send(req, res, find(req));
    }

    private void modify(ServerRequest req, ServerResponse res) {
        String project = Http.project(req);
        WithInlineStore<ThreadObject> modified = ThreadRequest.modify(find(req), Http.body(req));
        Optional<NewVectorStore> newStore = fileSearch.forThread(project, modified.newStore(), clock.instant().getEpochSecond());
        if (!store.updateThread(project, modified.object(), newStore)) {
            throw ApiException.notFound("thread", modified.object().id());
        }
        fileSearch.queued(newStore, List.of());
        Http.send(req, res, modified.object());
    }

    private void delete(ServerRequest req, ServerResponse res) {
        String id = Http.pathId(req, "thread_id", Ids.THREAD);
        if (!store.deleteThread(Http.project(req), id)) {
            throw ApiException.notFound("thread", id);
        }
        Http.send(req, res, DeletedObject.of(id, "thread.deleted"));
    }

    private ThreadObject find(ServerRequest req) {
        String id = Http.pathId(req, "thread_id", Ids.THREAD);
        return store.thread(Http.project(req), id).orElseThrow(() -> ApiException.notFound("thread", id));
    }

    /** The id of the thread named in the path, once it is known to exist (else a 404); for the routes below a thread. */
    static String existingId(Store store, ServerRequest req) {
        String id = Http.pathId(req, "thread_id", Ids.THREAD);
        if (!store.threadExists(Http.project(req), id)) {
            throw ApiException.notFound("thread", id);
        }
        return id;
    }
}
