package io.spindle.engine.tools;

import io.spindle.api.FileCitation;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Turns the citation markers the model wrote in an answer into {@code file_citation} annotations. */
public final class Citations {

    private Citations() {}

    /**
     * The annotations of {@code text}, in text order: one per marker ({@code 【m:c†name】}, or the older
     * {@code 【c†name】}) that cites one of {@code sources}, the results the model saw in this run. A marker cites the
     * source its numbers identify when exactly one source has them (both numbers, or the result number alone in the
     * older form); otherwise the first source whose file name equals the name after {@code †}; otherwise nothing,
     * and the marker stays plain text. Each annotation's {@code text} is the marker and its indices are the marker's
     * span in Unicode code points (end exclusive), as OpenAI counted them.
     */
    public static List<FileCitation> find(String text, List<CitationSource> sources) {
        List<FileCitation> found = new ArrayList<>();
        int counted = 0;
        int codePoints = 0;
        int open = text.indexOf(MarkerSyntax.OPEN);
        while (open >= 0) {
            int end = MarkerSyntax.end(text, open);
            if (end < 0) {
                open = text.indexOf(MarkerSyntax.OPEN, open + 1);
                continue;
            }
            String marker = text.substring(open, end);
            Optional<CitationSource> source = cited(marker, sources);
            if (source.isPresent()) {
                int start = codePoints + text.codePointCount(counted, open);
                int length = marker.codePointCount(0, marker.length());
                found.add(new FileCitation(marker, start, start + length, source.get().fileId()));
                counted = end;
                codePoints = start + length;
            }
            open = text.indexOf(MarkerSyntax.OPEN, end);
        }
        return found;
    }

    /** The source a whole marker cites, by the rules of {@link #find}. */
    static Optional<CitationSource> cited(String marker, List<CitationSource> sources) {
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
