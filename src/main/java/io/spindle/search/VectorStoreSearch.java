package io.spindle.search;

import io.spindle.api.ApiException;
import io.spindle.api.AttributeFilter;
import io.spindle.api.VectorStoreSearchPage;
import io.spindle.api.VectorStoreSearchRequest;
import io.spindle.store.VectorStoreRepository;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Searches one vector store of a project: checks the store can be searched here (it exists, has not expired, and was
 * embedded with this node's model), embeds the queries, and asks the {@link IndexFollower} (which catches up first). A
 * search is a use of the store: it moves the store's {@code last_active_at}, and with it an expiry anchored there.
 */
public final class VectorStoreSearch {
    private final VectorStoreRepository stores;
    private final IndexFollower follower;
    private final Embedder embedder;

    public VectorStoreSearch(VectorStoreRepository stores, IndexFollower follower, Embedder embedder) {
        this.stores = stores;
        this.follower = follower;
        this.embedder = embedder;
    }

    public VectorStoreSearchPage search(String project, String vectorStoreId, VectorStoreSearchRequest request) {
        List<ChunkHit> hits = hits(project, List.of(vectorStoreId), request.queries(), request.filter(), request.maxNumResults(),
                request.scoreThreshold());
        List<VectorStoreSearchPage.Item> items = hits.stream()
                .map(hit -> new VectorStoreSearchPage.Item(hit.fileId(), hit.fileName(), hit.score(),
                        hit.attributes(), List.of(VectorStoreSearchPage.Content.text(hit.text()))))
                .toList();
        return new VectorStoreSearchPage(request.queries(), items);
    }

    /**
     * Searches several stores of a project as one ranking (a run searches its assistant's and its thread's store),
     * with every query; scores are clamped to 0–1.
     */
    public List<ChunkHit> search(String project, List<String> vectorStoreIds, List<String> queries, int maxResults,
                                 double scoreThreshold) {
        return hits(project, vectorStoreIds, queries, Optional.empty(), maxResults, scoreThreshold);
    }

    private List<ChunkHit> hits(String project, List<String> vectorStoreIds, List<String> queries, Optional<AttributeFilter> filter,
                                int maxResults, double scoreThreshold) {
        for (String id : vectorStoreIds) {
            String model = stores.usableEmbeddingModel(project, id).orElseThrow(() -> ApiException.notFound("vector store", id));
            if (!model.equals(embedder.modelName())) {
                throw ApiException.invalid("Vector store '" + id + "' was embedded with the model '" + model
                        + "', but this server embeds with '" + embedder.modelName() + "' (SPINDLE_EMBEDDING_MODEL); "
                        + "it can only be searched by a server using its model.", null, "embedding_model_mismatch");
            }
        }
        List<float[]> vectors = embedder.embedQueries(queries);
        List<ChunkQuery.Part> parts = new ArrayList<>(vectors.size());
        for (int i = 0; i < vectors.size(); i++) {
            parts.add(new ChunkQuery.Part(queries.get(i), vectors.get(i)));
        }
        List<ChunkHit> hits = follower.search(new ChunkQuery(vectorStoreIds, parts, filter, maxResults, scoreThreshold,
                ChunkQuery.Mode.HYBRID));
        vectorStoreIds.forEach(id -> stores.touch(project, id));
        return hits.stream().map(h -> new ChunkHit(h.vectorStoreId(), h.fileId(), h.fileName(), h.ordinal(), h.text(),
                h.attributes(), Math.clamp(h.score(), 0.0, 1.0))).toList();
    }
}
