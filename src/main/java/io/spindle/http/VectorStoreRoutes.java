package io.spindle.http;

import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.spindle.api.ApiException;
import io.spindle.api.DeletedObject;
import io.spindle.api.Ids;
import io.spindle.api.ListQuery;
import io.spindle.api.VectorStoreFileBatchObject;
import io.spindle.api.VectorStoreFileContent;
import io.spindle.api.VectorStoreFileObject;
import io.spindle.api.VectorStoreObject;
import io.spindle.api.VectorStoreRequest;
import io.spindle.engine.FileSearchStores;
import io.spindle.store.VectorStoreRepository;
import java.time.InstantSource;
import java.util.List;

/** {@code /v1/vector_stores}: stores, their files, file batches, and a file's parsed content. */
final class VectorStoreRoutes implements HttpService {
    private static final String STORE = "/vector_stores/{vector_store_id}";
    private static final String FILE = STORE + "/files/{file_id}";
    private static final String BATCH = STORE + "/file_batches/{batch_id}";

    private final VectorStoreRepository stores;
    private final FileSearchStores fileSearch;
    private final InstantSource clock;

    VectorStoreRoutes(VectorStoreRepository stores, FileSearchStores fileSearch, InstantSource clock) {
        this.stores = stores;
        this.fileSearch = fileSearch;
        this.clock = clock;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/vector_stores", this::create)
                .get("/vector_stores", this::list)
                .any("/vector_stores", Http::methodNotAllowed)
                .get(STORE, this::retrieve)
                .post(STORE, this::update)
                .delete(STORE, this::delete)
                .any(STORE, Http::methodNotAllowed)
                .post(STORE + "/files", this::attach)
                .get(STORE + "/files", this::listFiles)
                .any(STORE + "/files", Http::methodNotAllowed)
                .get(FILE, this::retrieveFile)
                .post(FILE, this::updateFile)
                .delete(FILE, this::detach)
                .any(FILE, Http::methodNotAllowed)
                .get(FILE + "/content", this::content)
                .any(FILE + "/content", Http::methodNotAllowed)
                .post(STORE + "/file_batches", this::createBatch)
                .any(STORE + "/file_batches", Http::methodNotAllowed)
                .get(BATCH, this::retrieveBatch)
                .any(BATCH, Http::methodNotAllowed)
                .post(BATCH + "/cancel", this::cancelBatch)
                .any(BATCH + "/cancel", Http::methodNotAllowed)
                .get(BATCH + "/files", this::listBatchFiles)
                .any(BATCH + "/files", Http::methodNotAllowed);
    }

    private void create(ServerRequest req, ServerResponse res) {
        VectorStoreRequest.Create request = VectorStoreRequest.create(Http.body(req));
        Http.send(req, res, fileSearch.create(Http.project(req), request, clock.instant().getEpochSecond()));
    }

    private void list(ServerRequest req, ServerResponse res) {
        Http.send(req, res, stores.list(Http.project(req), Http.listQuery(req)));
    }

    private void retrieve(ServerRequest req, ServerResponse res) {
        String id = storeId(req);
        Http.send(req, res, stores.find(Http.project(req), id).orElseThrow(() -> VectorStoreObject.notFound(id)));
    }

    private void update(ServerRequest req, ServerResponse res) {
        String id = storeId(req);
        VectorStoreRequest.Update update = VectorStoreRequest.update(Http.body(req));
        Http.send(req, res, stores.update(Http.project(req), id, update).orElseThrow(() -> VectorStoreObject.notFound(id)));
    }

    private void delete(ServerRequest req, ServerResponse res) {
        String id = storeId(req);
        if (!stores.delete(Http.project(req), id)) {
            throw VectorStoreObject.notFound(id);
        }
        Http.send(req, res, DeletedObject.of(id, "vector_store.deleted"));
    }

    private void attach(ServerRequest req, ServerResponse res) {
        String project = Http.project(req);
        String id = storeId(req);
        VectorStoreRequest.NewFile file = VectorStoreRequest.file(Http.body(req));
        requireStore(project, id);
        fileSearch.check(project, List.of(file), "file_id");
        VectorStoreFileObject attached = stores.attach(project, id, file).orElseThrow(() -> VectorStoreObject.notFound(id));
        fileSearch.queued();
        Http.send(req, res, attached);
    }

    private void listFiles(ServerRequest req, ServerResponse res) {
        String project = Http.project(req);
        String id = storeId(req);
        ListQuery query = Http.listQuery(req);
        String status = VectorStoreRequest.statusFilter(Http.query(req, "filter"));
        requireStore(project, id);
        Http.send(req, res, stores.files(project, id, null, status, query));
    }

    private void retrieveFile(ServerRequest req, ServerResponse res) {
        Http.send(req, res, findFile(req));
    }

    private void updateFile(ServerRequest req, ServerResponse res) {
        String project = Http.project(req);
        String id = storeId(req);
        String fileId = fileId(req);
        var attributes = VectorStoreRequest.attributes(Http.body(req));
        requireStore(project, id);
        Http.send(req, res, stores.updateAttributes(project, id, fileId, attributes)
                .orElseThrow(() -> VectorStoreFileObject.notFound(fileId)));
    }

    private void detach(ServerRequest req, ServerResponse res) {
        String project = Http.project(req);
        String id = storeId(req);
        String fileId = fileId(req);
        requireStore(project, id);
        if (!stores.detach(project, id, fileId)) {
            throw VectorStoreFileObject.notFound(fileId);
        }
        Http.send(req, res, DeletedObject.of(fileId, "vector_store.file.deleted"));
    }

    /** The file's parsed text: its chunks' texts in order, all on one page (see {@link VectorStoreFileContent}). */
    private void content(ServerRequest req, ServerResponse res) {
        String project = Http.project(req);
        String id = storeId(req);
        String fileId = fileId(req);
        requireStore(project, id);
        List<String> texts = stores.chunkTexts(project, id, fileId).orElseThrow(() -> VectorStoreFileObject.notFound(fileId));
        Http.send(req, res, VectorStoreFileContent.of(texts));
    }

    private void createBatch(ServerRequest req, ServerResponse res) {
        String project = Http.project(req);
        String id = storeId(req);
        List<VectorStoreRequest.NewFile> batch = VectorStoreRequest.batch(Http.body(req));
        requireStore(project, id);
        fileSearch.check(project, batch, "file_ids");
        VectorStoreFileBatchObject created = stores.createBatch(project, id, Ids.fileBatch(), batch)
                .orElseThrow(() -> VectorStoreObject.notFound(id));
        fileSearch.queued();
        Http.send(req, res, created);
    }

    private void retrieveBatch(ServerRequest req, ServerResponse res) {
        String id = storeId(req);
        String batchId = batchId(req);
        Http.send(req, res, stores.batch(Http.project(req), id, batchId).orElseThrow(() -> VectorStoreFileBatchObject.notFound(batchId)));
    }

    private void cancelBatch(ServerRequest req, ServerResponse res) {
        String id = storeId(req);
        String batchId = batchId(req);
        Http.send(req, res, stores.cancelBatch(Http.project(req), id, batchId)
                .orElseThrow(() -> VectorStoreFileBatchObject.notFound(batchId)));
    }

    private void listBatchFiles(ServerRequest req, ServerResponse res) {
        String project = Http.project(req);
        String id = storeId(req);
        String batchId = batchId(req);
        ListQuery query = Http.listQuery(req);
        String status = VectorStoreRequest.statusFilter(Http.query(req, "filter"));
        stores.batch(project, id, batchId).orElseThrow(() -> VectorStoreFileBatchObject.notFound(batchId));
        Http.send(req, res, stores.files(project, id, batchId, status, query));
    }

    private void requireStore(String project, String id) {
        stores.find(project, id).orElseThrow(() -> VectorStoreObject.notFound(id));
    }

    private VectorStoreFileObject findFile(ServerRequest req) {
        String project = Http.project(req);
        String id = storeId(req);
        String fileId = fileId(req);
        requireStore(project, id);
        return stores.file(project, id, fileId).orElseThrow(() -> VectorStoreFileObject.notFound(fileId));
    }

    private static String storeId(ServerRequest req) {
        return Http.pathId(req, "vector_store_id", Ids.VECTOR_STORE);
    }

    private static String batchId(ServerRequest req) {
        return Http.pathId(req, "batch_id", Ids.FILE_BATCH);
    }

    /** File ids are not prefix-checked (as {@code /files}); one with a control character names nothing. */
    private static String fileId(ServerRequest req) {
        String id = req.path().pathParameters().get("file_id");
        if (Ids.hasControlCharacter(id)) {
            throw VectorStoreFileObject.notFound(id.replaceAll("\\p{Cntrl}", "?"));
        }
        return id;
    }
}
