package io.spindle.ingest;

import java.nio.file.Path;

/** Plain text, Markdown and source code: the file's text as it is (see {@link TextFiles}). */
final class PlainTextExtractor implements Extractor {

    @Override
    public String format() {
        return "text";
    }

    @Override
    public void extract(Path file, TextSink out) throws Exception {
        TextFiles.read(file, out);
    }
}
