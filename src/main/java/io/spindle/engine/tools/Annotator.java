package io.spindle.engine.tools;

import java.util.List;

/**
 * Finds, in the text of an answer, the references the model wrote to files of the run (a file_search citation marker,
 * a code_interpreter {@code sandbox:} link) that become annotations of the message. Each built-in tool gives one for the
 * calls the run made of it ({@link BuiltInTool#annotator}); {@link AnnotationStream} reads an answer with them, whole or
 * as it streams.
 */
public interface Annotator {

    /** Where a reference may start at or after {@code from} (possibly only a beginning at the text's end), or -1. */
    int nextStart(String text, int from);

    /** What the text holds at {@code start}; {@code finished} when no more text will follow. */
    Reading read(String text, int start, boolean finished);

    /**
     * A reference to a file, from {@code start} to {@code end} (exclusive), annotated as {@code type}; or
     * {@link #NONE} (no reference to a known file starts there) or {@link #UNFINISHED} (the text ends before that is
     * decided; never when finished).
     */
    record Reading(int end, String type, String fileId) {
        public static final Reading NONE = new Reading(-1, null, null);
        public static final Reading UNFINISHED = new Reading(-2, null, null);

        public boolean found() {
            return end >= 0;
        }
    }

    /** Finds nothing: a run whose calls have nothing to refer to. */
    Annotator NOTHING = new Annotator() {
        @Override
        public int nextStart(String text, int from) {
            return -1;
        }

        @Override
        public Reading read(String text, int start, boolean finished) {
            return Reading.NONE;
        }
    };

    /** All of {@code annotators} at once: a reference starts where the first of them sees one. */
    static Annotator all(List<Annotator> annotators) {
        List<Annotator> some = annotators.stream().filter(a -> a != NOTHING).toList();
        if (some.size() <= 1) {
            return some.isEmpty() ? NOTHING : some.getFirst();
        }
        return new Annotator() {
            @Override
            public int nextStart(String text, int from) {
                int next = -1;
                for (Annotator a : some) {
                    int start = a.nextStart(text, from);
                    if (start >= 0 && (next < 0 || start < next)) {
                        next = start;
                    }
                }
                return next;
            }

            @Override
            public Reading read(String text, int start, boolean finished) {
                Reading unfinished = Reading.NONE;
                for (Annotator a : some) {
                    Reading reading = a.read(text, start, finished);
                    if (reading.found()) {
                        return reading;
                    }
                    if (reading == Reading.UNFINISHED) {
                        unfinished = reading;
                    }
                }
                return unfinished;
            }
        };
    }
}
