package io.spindle.engine.tools;

import io.spindle.api.Annotation;
import java.util.List;
import java.util.Optional;

/**
 * The citation markers ({@code 【m:c†name】}, or the older {@code 【c†name】}) by which an answer cites the file_search
 * results the model saw in this run: each becomes a {@code file_citation} annotation whose {@code text} is the marker.
 * A marker cites the source its numbers identify when exactly one source has them (both numbers, or the result number
 * alone in the older form); otherwise the first source whose file name equals the name after {@code †}; otherwise
 * nothing, and the marker stays plain text. With no sources nothing is a marker, so nothing waits for one to close.
 */
final class CitationMarkers implements Annotator {
    private static final String OPEN = String.valueOf(MarkerSyntax.OPEN);

    private final List<CitationSource> sources;

    CitationMarkers(List<CitationSource> sources) {
        this.sources = List.copyOf(sources);
    }

    static Annotator of(List<CitationSource> sources) {
        return sources.isEmpty() ? NOTHING : new CitationMarkers(sources);
    }

    @Override
    public int nextStart(String text, int from) {
        return text.indexOf(OPEN, from);
    }

    @Override
    public Reading read(String text, int start, boolean finished) {
        if (text.charAt(start) != MarkerSyntax.OPEN) {
            return Reading.NONE;
        }
        int end = MarkerSyntax.end(text, start);
        if (end == MarkerSyntax.UNFINISHED) {
            return finished ? Reading.NONE : Reading.UNFINISHED;
        }
        if (end < 0) {
            return Reading.NONE;
        }
        return cited(text.substring(start, end))
                .map(source -> new Reading(end, Annotation.FILE_CITATION, source.fileId()))
                .orElse(Reading.NONE);
    }

    /** The source a whole marker cites. */
    private Optional<CitationSource> cited(String marker) {
        MarkerSyntax.Marker parts = MarkerSyntax.parse(marker);
        List<CitationSource> numbered = sources.stream()
                .filter(s -> s.result() == parts.result())
                .filter(s -> parts.search().isEmpty() || parts.search().getAsInt() == s.search())
                .toList();
        if (numbered.size() == 1) {
            return Optional.of(numbered.getFirst());
        }
        return sources.stream().filter(s -> s.fileName().equals(parts.fileName())).findFirst();
    }
}
