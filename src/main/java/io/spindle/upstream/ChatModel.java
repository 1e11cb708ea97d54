package io.spindle.upstream;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** A model call as runs make it: {@link ChatClient} in production; wrappers may observe or alter calls. */
@FunctionalInterface
public interface ChatModel {
    /** Calls the model with a Chat Completions request body; {@code listener} sees the answer as it streams in. */
    ChatResult complete(ObjectNode body, ChatListener listener, Cancellation cancellation) throws UpstreamException;
}
