package io.spindle.search;

import io.spindle.api.AttributeFilter;
import java.util.List;
import java.util.Optional;

/**
 * A search over the chunks of some vector stores. Each part is one query, as text (for keyword search) and as its
 * embedding (for vector search); a chunk scores what its best part gave it. At most {@code maxResults} hits come
 * back, none scored below {@code scoreThreshold}.
 */
public record ChunkQuery(List<String> vectorStoreIds, List<Part> parts, Optional<AttributeFilter> filter, int maxResults,
                         double scoreThreshold, Mode mode) {

    public record Part(String text, float[] vector) {}

    /** Which searches are fused: both (what the API does), or one alone (to compare them). */
    public enum Mode { HYBRID, KEYWORD, VECTOR }
}
