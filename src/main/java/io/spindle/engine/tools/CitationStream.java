package io.spindle.engine.tools;

import io.spindle.api.FileCitation;
import java.util.List;

/** STUB until helper C lands. */
public final class CitationStream {
    public record Piece(String text, List<FileCitation> annotations, int firstIndex) {}

    public CitationStream(List<CitationSource> sources) {}

    public List<Piece> feed(String delta) {
        return List.of(new Piece(delta, List.of(), 0));
    }

    public List<Piece> finish() {
        return List.of();
    }
}
