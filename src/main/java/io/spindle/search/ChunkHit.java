package io.spindle.search;

import java.util.Map;

/** A chunk found by a search, scored from 0 to 1. */
public record ChunkHit(String vectorStoreId, String fileId, String fileName, int ordinal, String text,
                       Map<String, Object> attributes, double score) {}
