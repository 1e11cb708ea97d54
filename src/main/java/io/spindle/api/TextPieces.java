package io.spindle.api;

import java.util.ArrayList;
import java.util.List;

/** Text cut into pieces for stream deltas. */
public final class TextPieces {
    private TextPieces() {}

    /** The text in pieces of at most {@code maxChars} characters, never cut inside a surrogate pair; none for "". */
    public static List<String> cut(String text, int maxChars) {
        List<String> out = new ArrayList<>();
        int start = 0;
        while (start < text.length()) {
            int end = Math.min(start + maxChars, text.length());
            if (end < text.length() && Character.isHighSurrogate(text.charAt(end - 1))) {
                end--;
            }
            out.add(text.substring(start, end));
            start = end;
        }
        return out;
    }
}
