package io.spindle.search;

import java.util.List;

/**
 * Turns text into vectors for semantic search. Chunks of files are embedded as passages and search queries as
 * queries: some models (bge) want an instruction in front of a query and not in front of a passage. Vectors of one
 * embedder are comparable with each other only; {@link #modelName()} and {@link #dimensions()} tell an index whether
 * its vectors came from the same one. Implementations are thread-safe.
 */
public interface Embedder {

    /** A name that changes whenever the vectors would: the model, and anything that alters its output. */
    String modelName();

    int dimensions();

    /** One vector per text, in order. */
    List<float[]> embedPassages(List<String> texts);

    /** One vector per query, in order. */
    List<float[]> embedQueries(List<String> queries);
}
