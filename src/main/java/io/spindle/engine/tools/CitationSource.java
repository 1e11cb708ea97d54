package io.spindle.engine.tools;

/** STUB until helper C lands. */
public record CitationSource(int search, int result, String fileId, String fileName) {}
