package io.spindle.ingest;

/** Small text helpers shared by extraction and chunking. */
final class Texts {
    private Texts() {}

    /**
     * {@code text} with every lone surrogate (half of a UTF-16 pair without its other half) replaced
     * by U+FFFD, one character for one, so offsets stay the same. Such a string cannot be encoded
     * as UTF-8: jtokkit's assertions reject it, and a database would store a '?'.
     */
    static String wellFormed(String text) {
        char[] chars = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                if (chars == null) {
                    chars = text.toCharArray();
                }
                chars[i] = '\uFFFD';
            }
        }
        return chars == null ? text : new String(chars);
    }
}
