package io.spindle.upstream;

/** Receives a model's output while it streams in, in order. */
public interface ChatListener {

    /** A piece of the answer's text. */
    void text(String delta);

    /** A function call begins (its name is known); {@code index} is its position in the answer. */
    void toolCallStarted(int index, String name);

    /** A piece of a function call's JSON arguments. */
    void toolCallArguments(int index, String delta);

    ChatListener NONE = new ChatListener() {
        @Override
        public void text(String delta) {}

        @Override
        public void toolCallStarted(int index, String name) {}

        @Override
        public void toolCallArguments(int index, String delta) {}
    };
}
