package io.spindle.ingest;

/**
 * One chunk of a document's text: {@code text} is {@code document.substring(start, end)} (offsets
 * in UTF-16 code units, never splitting a character), {@code tokens} the tokens it was cut as.
 */
public record Chunk(String text, int tokens, int start, int end) {}
