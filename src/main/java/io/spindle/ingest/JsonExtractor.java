package io.spindle.ingest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import java.nio.file.Path;

/**
 * JSON: the file's text as it is (indentation and all), once a streaming pass over it has checked
 * that it is JSON. Several top-level values one after the other (JSON Lines named {@code .json}) pass.
 */
final class JsonExtractor implements Extractor {
    private static final JsonFactory FACTORY = new JsonFactory();

    @Override
    public String format() {
        return "JSON";
    }

    @Override
    public void extract(Path file, TextSink out) throws Exception {
        TextFiles.read(file, out);
        try (JsonParser parser = FACTORY.createParser(out.toString())) {
            while (parser.nextToken() != null) {
                // checking only: Jackson throws at the first malformed token
            }
        }
    }
}
