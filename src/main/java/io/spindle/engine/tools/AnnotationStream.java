package io.spindle.engine.tools;

import io.spindle.api.Annotation;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads an answer, whole or as it arrives in deltas, for the references an {@link Annotator} finds, and cuts it into
 * pieces a message delta can carry, so that the SDKs, which concatenate delta values and append delta annotations,
 * rebuild exactly the message a GET returns.
 *
 * <p>Contract:
 * <ul>
 *   <li>the texts of all pieces, concatenated, are exactly the fed deltas concatenated;</li>
 *   <li>a piece is either plain text without annotations, or exactly one reference together with its one annotation,
 *       whose indices are code-point offsets in the whole message text;</li>
 *   <li>the annotations of all pieces, in order, are {@link #annotations} of the whole text, however it was split;</li>
 *   <li>nothing is held back except text that may still become a reference (until it is one, can no longer become
 *       one, or {@link #finish} is called) and a trailing high surrogate (until its pair arrives); so no piece splits
 *       a surrogate pair.</li>
 * </ul>
 *
 * <p>One stream covers one message's text from its start: a run that writes a message again (after a crash) starts a
 * new stream. Not thread-safe.
 */
public final class AnnotationStream {

    /**
     * Text to append to the message part, with the annotations it brings.
     *
     * @param firstIndex the position in the part's annotation list of this piece's first annotation (numbered 0, 1,
     *                   2… over the whole message); for a piece without annotations, the position the next one will get
     */
    public record Piece(String text, List<Annotation> annotations, int firstIndex) {}

    private final Annotator annotator;
    private final StringBuilder unsent = new StringBuilder();
    private int sentCodePoints;
    private int annotations;

    public AnnotationStream(Annotator annotator) {
        this.annotator = annotator;
    }

    /** The annotations of a whole text, in text order. */
    public static List<Annotation> annotations(String text, Annotator annotator) {
        AnnotationStream stream = new AnnotationStream(annotator);
        List<Annotation> found = new ArrayList<>();
        for (List<Piece> pieces : List.of(stream.feed(text), stream.finish())) {
            pieces.forEach(p -> found.addAll(p.annotations()));
        }
        return found;
    }

    /** The pieces {@code delta} completes, in order; often one, none while a possible reference is still open. */
    public List<Piece> feed(String delta) {
        unsent.append(delta);
        return drain(false);
    }

    /** The rest of the text at the end of the answer, possible references that never completed included. */
    public List<Piece> finish() {
        return drain(true);
    }

    private List<Piece> drain(boolean finished) {
        String text = unsent.toString();
        List<Piece> pieces = new ArrayList<>();
        int plainFrom = 0;
        int sendTo = text.length();
        int start = annotator.nextStart(text, 0);
        while (start >= 0) {
            Annotator.Reading reading = annotator.read(text, start, finished);
            if (reading == Annotator.Reading.UNFINISHED) {
                sendTo = start;
                break;
            }
            if (reading.found()) {
                plain(pieces, text, plainFrom, start);
                annotated(pieces, text.substring(start, reading.end()), reading);
                plainFrom = reading.end();
                start = annotator.nextStart(text, reading.end());
            } else {
                start = annotator.nextStart(text, start + 1);
            }
        }
        if (!finished && sendTo == text.length() && sendTo > plainFrom && Character.isHighSurrogate(text.charAt(sendTo - 1))) {
            sendTo--;
        }
        plain(pieces, text, plainFrom, sendTo);
        unsent.delete(0, sendTo);
        return pieces;
    }

    private void plain(List<Piece> pieces, String text, int from, int to) {
        if (from < to) {
            send(pieces, new Piece(text.substring(from, to), List.of(), annotations));
        }
    }

    private void annotated(List<Piece> pieces, String reference, Annotator.Reading reading) {
        int length = reference.codePointCount(0, reference.length());
        Annotation annotation = new Annotation(reading.type(), reference, sentCodePoints, sentCodePoints + length, reading.fileId());
        send(pieces, new Piece(reference, List.of(annotation), annotations++));
    }

    private void send(List<Piece> pieces, Piece piece) {
        pieces.add(piece);
        sentCodePoints += piece.text().codePointCount(0, piece.text().length());
    }
}
