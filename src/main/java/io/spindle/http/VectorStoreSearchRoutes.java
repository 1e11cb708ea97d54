package io.spindle.http;

import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.spindle.api.Ids;
import io.spindle.api.VectorStoreSearchRequest;
import io.spindle.search.VectorStoreSearch;

/** {@code POST /v1/vector_stores/{vector_store_id}/search}. */
final class VectorStoreSearchRoutes implements HttpService {
    private final VectorStoreSearch search;

    VectorStoreSearchRoutes(VectorStoreSearch search) {
        this.search = search;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/vector_stores/{vector_store_id}/search", this::search)
                .any("/vector_stores/{vector_store_id}/search", Http::methodNotAllowed);
    }

    private void search(ServerRequest req, ServerResponse res) {
        String project = Http.project(req);
        String id = Http.pathId(req, "vector_store_id", Ids.VECTOR_STORE);
        VectorStoreSearchRequest request = VectorStoreSearchRequest.parse(Http.body(req));
        Http.send(req, res, search.search(project, id, request));
    }
}
