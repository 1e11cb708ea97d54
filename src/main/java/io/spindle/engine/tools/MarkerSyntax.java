package io.spindle.engine.tools;

import java.util.OptionalInt;

/**
 * What a citation marker looks like: {@code 【m:c†name】} as OpenAI's models write it today, or the older
 * {@code 【c†name】}. Numbers are 1 to {@value #MAX_DIGITS} ASCII digits; the name is anything up to the first
 * {@code 】} without a line break or another {@code 【} (it may be empty); a marker is at most {@value #MAX_LENGTH}
 * characters (UTF-16 units) long, brackets included. {@link CitationMarkers} reads markers
 * here.
 */
final class MarkerSyntax {
    static final char OPEN = '【';
    static final char DAGGER = '†';
    static final char CLOSE = '】';
    static final int MAX_LENGTH = 256;
    static final int MAX_DIGITS = 9;

    /** {@link #end}: the text from the {@code 【} on cannot be a marker, whatever follows. */
    static final int NOT_A_MARKER = -1;
    /** {@link #end}: the text ends in what may still become a marker. */
    static final int UNFINISHED = -2;

    /** The parts of a whole marker; {@code search} is absent in the older one-number form. */
    record Marker(OptionalInt search, int result, String fileName) {}

    private MarkerSyntax() {}

    /**
     * Reads {@code text} from the {@code 【} at {@code open}: the index just past the marker's {@code 】}, or
     * {@link #NOT_A_MARKER}, or {@link #UNFINISHED} when the text ends before that is decided.
     */
    static int end(CharSequence text, int open) {
        int numbers = 0;
        int digits = 0;
        boolean inName = false;
        for (int i = open + 1; i - open < MAX_LENGTH; i++) {
            if (i == text.length()) {
                return UNFINISHED;
            }
            char c = text.charAt(i);
            if (inName) {
                if (c == CLOSE) {
                    return i + 1;
                }
                if (c == OPEN || c == '\n' || c == '\r') {
                    return NOT_A_MARKER;
                }
            } else if (c >= '0' && c <= '9') {
                if (++digits > MAX_DIGITS) {
                    return NOT_A_MARKER;
                }
            } else if (digits > 0 && c == ':' && numbers == 0) {
                numbers = 1;
                digits = 0;
            } else if (digits > 0 && c == DAGGER) {
                inName = true;
            } else {
                return NOT_A_MARKER;
            }
        }
        return NOT_A_MARKER;
    }

    /** The parts of {@code marker}, a whole marker as {@link #end} accepted it. */
    static Marker parse(String marker) {
        int dagger = marker.indexOf(DAGGER);
        String numbers = marker.substring(1, dagger);
        String fileName = marker.substring(dagger + 1, marker.length() - 1);
        int colon = numbers.indexOf(':');
        if (colon < 0) {
            return new Marker(OptionalInt.empty(), Integer.parseInt(numbers), fileName);
        }
        return new Marker(OptionalInt.of(Integer.parseInt(numbers.substring(0, colon))),
                Integer.parseInt(numbers.substring(colon + 1)), fileName);
    }
}
