package io.spindle.ingest;

import java.nio.file.Path;

/**
 * Reads one document format into text. An implementation is stateless (one instance serves every
 * thread), writes only into {@code out}, and throws whatever its library throws on a bad document:
 * {@link TextExtraction} alone decides what an exception means for the client.
 */
interface Extractor {

    /** A short name of the format for messages, e.g. {@code "PDF"}. */
    String format();

    void extract(Path file, TextSink out) throws Exception;
}
