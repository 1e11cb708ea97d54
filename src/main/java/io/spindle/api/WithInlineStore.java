package io.spindle.api;

import java.util.Optional;

/**
 * An assistant or thread as a create or modify body makes it, with the vector store its
 * {@code tool_resources.file_search.vector_stores} asks to create (already named in its {@code vector_store_ids}).
 */
public record WithInlineStore<T>(T object, Optional<VectorStoreRequest.InlineStore> newStore) {}
