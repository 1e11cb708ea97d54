package io.spindle.engine.tools;

import io.spindle.api.FileCitation;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@link Citations#find} for an answer that arrives in deltas: it cuts the streamed text into pieces a message delta
 * can carry, so that the SDKs, which concatenate delta values and append delta annotations, rebuild exactly the
 * message a GET returns.
 *
 * <p>Contract:
 * <ul>
 *   <li>the texts of all pieces, concatenated, are exactly the fed deltas concatenated;</li>
 *   <li>a piece is either plain text without annotations, or exactly one marker that cites a source together with
 *       its one annotation, whose indices are code-point offsets in the whole message text;</li>
 *   <li>the annotations of all pieces, in order, are {@code Citations.find} of the whole text;</li>
 *   <li>nothing is held back except text from a {@code 【} that may still become a marker (until it closes, can no
 *       longer become one, or {@link #finish} is called) and a trailing high surrogate (until its pair arrives);
 *       so no piece splits a surrogate pair. With no sources nothing can be cited, and no marker is held back.</li>
 * </ul>
 *
 * <p>One stream covers one message's text from its start: a run that writes a message again (after a crash) starts a
 * new stream. Not thread-safe.
 */
public final class CitationStream {

    /**
     * Text to append to the message part, with the annotations it brings.
     *
     * @param firstIndex the position in the part's annotation list of this piece's first annotation (numbered 0, 1,
     *                   2… over the whole message); for a piece without annotations, the position the next one will get
     */
    public record Piece(String text, List<FileCitation> annotations, int firstIndex) {}

    private static final String OPEN = String.valueOf(MarkerSyntax.OPEN);

    private final List<CitationSource> sources;
    private final StringBuilder unsent = new StringBuilder();
    private int sentCodePoints;
    private int annotations;

    /** A stream for one message, citing {@code sources}: the results the model saw in this run so far. */
    public CitationStream(List<CitationSource> sources) {
        this.sources = List.copyOf(sources);
    }

    /** The pieces {@code delta} completes, in order; often one, none while a possible marker is still open. */
    public List<Piece> feed(String delta) {
        unsent.append(delta);
        return drain(false);
    }

    /** The rest of the text at the end of the answer, possible markers that never closed included. */
    public List<Piece> finish() {
        return drain(true);
    }

    private List<Piece> drain(boolean finished) {
        List<Piece> pieces = new ArrayList<>();
        int plainFrom = 0;
        int sendTo = unsent.length();
        int open = unsent.indexOf(OPEN);
        while (open >= 0) {
            int end = sources.isEmpty() ? MarkerSyntax.NOT_A_MARKER : MarkerSyntax.end(unsent, open);
            if (end == MarkerSyntax.UNFINISHED && !finished) {
                sendTo = open;
                break;
            }
            if (end < 0) {
                open = unsent.indexOf(OPEN, open + 1);
                continue;
            }
            String marker = unsent.substring(open, end);
            Optional<CitationSource> source = Citations.cited(marker, sources);
            if (source.isPresent()) {
                plain(pieces, plainFrom, open);
                cited(pieces, marker, source.get());
                plainFrom = end;
            }
            open = unsent.indexOf(OPEN, end);
        }
        if (!finished && sendTo == unsent.length() && sendTo > plainFrom && Character.isHighSurrogate(unsent.charAt(sendTo - 1))) {
            sendTo--;
        }
        plain(pieces, plainFrom, sendTo);
        unsent.delete(0, sendTo);
        return pieces;
    }

    private void plain(List<Piece> pieces, int from, int to) {
        if (from < to) {
            send(pieces, new Piece(unsent.substring(from, to), List.of(), annotations));
        }
    }

    private void cited(List<Piece> pieces, String marker, CitationSource source) {
        int length = marker.codePointCount(0, marker.length());
        FileCitation citation = new FileCitation(marker, sentCodePoints, sentCodePoints + length, source.fileId());
        send(pieces, new Piece(marker, List.of(citation), annotations++));
    }

    private void send(List<Piece> pieces, Piece piece) {
        pieces.add(piece);
        sentCodePoints += piece.text().codePointCount(0, piece.text().length());
    }
}
