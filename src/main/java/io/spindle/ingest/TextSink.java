package io.spindle.ingest;

import java.io.Writer;

/**
 * The text of one document as an extractor writes it, bounded: the first append past the limit
 * throws {@link TooLong}, so a huge or malicious document costs at most the limit in memory. Since a
 * library may swallow the exception on its way out, {@link #overflowed()} remembers it too.
 */
final class TextSink {
    private final long maxChars;
    private final StringBuilder text = new StringBuilder();
    private int pages;
    private boolean overflowed;

    /** Thrown by an append past the limit; carries no stack trace (it is control flow, not a fault). */
    static final class TooLong extends RuntimeException {
        TooLong() {
            super("extracted text over the limit", null, false, false);
        }
    }

    TextSink(long maxChars) {
        this.maxChars = maxChars;
    }

    /** The most characters the text may have. */
    long maxChars() {
        return maxChars;
    }

    TextSink append(CharSequence s) {
        reserve(s.length());
        text.append(s);
        return this;
    }

    TextSink append(char c) {
        reserve(1);
        text.append(c);
        return this;
    }

    TextSink append(char[] chars, int offset, int length) {
        reserve(length);
        text.append(chars, offset, length);
        return this;
    }

    /** One space, unless the text is empty or already ends with whitespace. */
    TextSink space() {
        int n = text.length();
        return n == 0 || Character.isWhitespace(text.charAt(n - 1)) ? this : append(' ');
    }

    /** Ends the current line (dropping spaces before the break), unless the text is empty or already does. */
    TextSink newline() {
        int n = text.length();
        while (n > 0 && text.charAt(n - 1) == ' ') {
            n--;
        }
        text.setLength(n);
        return n == 0 || text.charAt(n - 1) == '\n' ? this : append('\n');
    }

    /** Ends the current line and leaves one empty line after it (unless the text is empty). */
    TextSink blankLine() {
        newline();
        int n = text.length();
        return n == 0 || (n >= 2 && text.charAt(n - 2) == '\n') ? this : append('\n');
    }

    /**
     * For formats parsed whole into memory: refuses, as too long, an input of more bytes than the
     * text limit, before the parser builds a tree of it.
     */
    void refuseInputLargerThanLimit(long bytes) {
        if (bytes > maxChars) {
            throw tooLarge();
        }
    }

    /** Marks the document too large for a reason other than its text (its markup, its parts). */
    TooLong tooLarge() {
        overflowed = true;
        return new TooLong();
    }

    void pages(int count) {
        this.pages = count;
    }

    boolean overflowed() {
        return overflowed;
    }

    /** A {@link Writer} view, for libraries that write their text out (PDFBox). */
    Writer writer() {
        return new Writer() {
            @Override
            public void write(char[] chars, int offset, int length) {
                TextSink.this.append(chars, offset, length);
            }

            @Override
            public void write(String s, int offset, int length) {
                TextSink.this.append(s.subSequence(offset, offset + length));
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
    }

    /** The text so far. */
    @Override
    public String toString() {
        return text.toString();
    }

    /** The text, any lone surrogate a parser let through replaced by U+FFFD (it is not encodable). */
    ExtractedText result() {
        return new ExtractedText(Texts.wellFormed(text.toString()), pages);
    }

    private void reserve(int chars) {
        if (overflowed || text.length() + (long) chars > maxChars) {
            throw tooLarge();
        }
    }
}
