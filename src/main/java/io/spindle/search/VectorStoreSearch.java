package io.spindle.search;

import io.spindle.api.ApiException;
import io.spindle.api.VectorStoreSearchPage;
import io.spindle.api.VectorStoreSearchRequest;
import io.spindle.store.VectorStoreRepository;
import java.util.ArrayList;
import java.util.List;

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
        String model = stores.usableEmbeddingModel(project, vectorStoreId)
                .orElseThrow(() -> ApiException.notFound("vector store", vectorStoreId));
        if (!model.equals(embedder.modelName())) {
            throw ApiException.invalid("Vector store '" + vectorStoreId + "' was embedded with the model '" + model
                    + "', but this server embeds with '" + embedder.modelName() + "' (SPINDLE_EMBEDDING_MODEL); "
                    + "it can only be searched by a server using its model.", null, "embedding_model_mismatch");
        }
        List<float[]> vectors = embedder.embedQueries(request.queries());
        List<ChunkQuery.Part> parts = new ArrayList<>(vectors.size());
        for (int i = 0; i < vectors.size(); i++) {
            parts.add(new ChunkQuery.Part(request.queries().get(i), vectors.get(i)));
        }
        List<ChunkHit> hits = follower.search(new ChunkQuery(List.of(vectorStoreId), parts, request.filter(), request.maxNumResults(),
                request.scoreThreshold(), ChunkQuery.Mode.HYBRID));
        List<VectorStoreSearchPage.Item> items = hits.stream()
                .map(hit -> new VectorStoreSearchPage.Item(hit.fileId(), hit.fileName(), Math.clamp(hit.score(), 0.0, 1.0),
                        hit.attributes(), List.of(VectorStoreSearchPage.Content.text(hit.text()))))
                .toList();
        stores.touch(project, vectorStoreId);
        return new VectorStoreSearchPage(request.queries(), items);
    }
}
