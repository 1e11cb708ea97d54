package io.spindle.ingest;

/**
 * A document's plain text. {@code pages} counts the pages of a PDF and the slides of a presentation;
 * formats without pages report 0.
 */
public record ExtractedText(String text, int pages) {}
