package io.spindle.search;

import java.util.List;
import java.util.Map;

/**
 * All chunks of one file in one vector store, with what a search returns beside them: the file's name and its
 * attributes (strings, numbers, booleans), on which searches filter.
 */
public record FileChunks(String vectorStoreId, String fileId, String fileName, Map<String, Object> attributes, List<Chunk> chunks) {}
