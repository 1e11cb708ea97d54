package io.spindle.store;

import io.spindle.api.VectorStoreObject;
import io.spindle.api.VectorStoreRequest;
import java.util.List;

/** A vector store to create, with the files to queue for ingestion in it (each already checked to exist). */
public record NewVectorStore(VectorStoreObject store, List<VectorStoreRequest.NewFile> files) {}
