package io.spindle.upstream;

import io.spindle.api.Usage;
import java.util.List;

/**
 * What one Chat Completions call produced: the text, the function calls, why it stopped
 * ({@code stop}, {@code length}, {@code tool_calls}, {@code content_filter}), and usage when the
 * upstream reported it (null otherwise).
 */
public record ChatResult(String text, List<ToolCall> toolCalls, String finishReason, Usage usage) {

    /** A function call as the model wrote it; the upstream's own call id is not kept. */
    public record ToolCall(String name, String arguments) {}
}
