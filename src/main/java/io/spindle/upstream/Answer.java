package io.spindle.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import io.spindle.api.Usage;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A model's answer as it accumulates from chunks, handed on to the listener piece by piece. It holds at most
 * {@code maxChars} characters (text, function names and arguments together), whatever the upstream sends: text past
 * the limit is cut and the answer ends as a length cut-off does ({@code finish_reason: length}); function-call
 * arguments past it fail the call instead, since cut JSON arguments are of no use to anyone.
 */
final class Answer {
    private final ChatListener listener;
    private final long maxChars;
    private final StringBuilder text = new StringBuilder();
    private final Map<Integer, StringBuilder[]> calls = new TreeMap<>();
    private final Set<Integer> started = new HashSet<>();
    private long chars;
    private boolean cut;
    private String finishReason;
    private Usage usage;

    Answer(ChatListener listener, long maxChars) {
        this.listener = listener;
        this.maxChars = maxChars;
    }

    /** A {@code chat.completion.chunk}. */
    void chunk(ChatChunk chunk) throws UpstreamException {
        if (chunk.choices() != null) {
            for (ChatChunk.Choice choice : chunk.choices()) {
                if (choice.delta() != null) {
                    delta(choice.delta());
                }
                finish(choice.finishReason());
            }
        }
        usage(chunk.usage());
    }

    /** A whole {@code chat.completion}, from a server that ignored {@code stream: true}. */
    void completion(ChatChunk completion) throws UpstreamException {
        if (completion.choices() != null && !completion.choices().isEmpty()) {
            ChatChunk.Choice choice = completion.choices().getFirst();
            if (choice.message() != null) {
                delta(choice.message());
            }
            finish(choice.finishReason());
        }
        usage(completion.usage());
    }

    /** The upstream said why the answer ended: it is complete, but a usage chunk may still follow. */
    boolean finished() {
        return finishReason != null;
    }

    /** The text reached the limit: the answer is over, whatever else the upstream would send. */
    boolean cut() {
        return cut;
    }

    ChatResult result() {
        List<ChatResult.ToolCall> toolCalls = new ArrayList<>();
        for (StringBuilder[] acc : calls.values()) {
            toolCalls.add(new ChatResult.ToolCall(acc[0].toString(), acc[1].isEmpty() ? "{}" : acc[1].toString()));
        }
        String reason = finishReason != null ? finishReason : toolCalls.isEmpty() ? "stop" : "tool_calls";
        return new ChatResult(text.toString(), List.copyOf(toolCalls), reason, usage);
    }

    private void delta(ChatChunk.Delta delta) throws UpstreamException {
        if (delta.content() != null && delta.content().isTextual()) {
            text(delta.content().asText());
        }
        if (delta.toolCalls() != null) {
            int position = 0;
            for (ChatChunk.ToolCall call : delta.toolCalls()) {
                toolCall(call.index() != null ? call.index() : position, call.function());
                position++;
            }
        }
    }

    private void text(String delta) {
        if (cut || delta.isEmpty()) {
            return;
        }
        if (chars + delta.length() > maxChars) {
            int keep = (int) (maxChars - chars);
            if (keep > 0 && Character.isHighSurrogate(delta.charAt(keep - 1))) {
                keep--;
            }
            delta = delta.substring(0, keep);
            cut = true;
            finishReason = "length";
        }
        if (!delta.isEmpty()) {
            chars += delta.length();
            text.append(delta);
            listener.text(delta);
        }
    }

    private void toolCall(int index, ChatChunk.Function fn) throws UpstreamException {
        if (cut) {
            return;
        }
        StringBuilder[] acc = calls.computeIfAbsent(index, i -> new StringBuilder[] {new StringBuilder(), new StringBuilder()});
        if (fn == null) {
            return;
        }
        if (fn.name() != null) {
            count(fn.name());
            acc[0].append(fn.name());
        }
        if (!started.contains(index) && !acc[0].isEmpty()) {
            started.add(index);
            listener.toolCallStarted(index, acc[0].toString());
            if (!acc[1].isEmpty()) {
                listener.toolCallArguments(index, acc[1].toString());
            }
        }
        JsonNode args = fn.arguments();
        String piece = args == null ? "" : args.isTextual() ? args.asText() : args.isObject() ? args.toString() : "";
        if (!piece.isEmpty()) {
            count(piece);
            acc[1].append(piece);
            if (started.contains(index)) {
                listener.toolCallArguments(index, piece);
            }
        }
    }

    private void count(String piece) throws UpstreamException {
        chars += piece.length();
        if (chars > maxChars) {
            throw new UpstreamException(UpstreamException.Kind.TOO_LARGE, "the model's function calls were longer than "
                    + maxChars + " characters", "SPINDLE_MAX_ANSWER_CHARS=" + maxChars, 0, null);
        }
    }

    private void finish(String reason) {
        if (reason != null && !reason.isEmpty() && !cut) {
            finishReason = reason;
        }
    }

    private void usage(JsonNode u) {
        if (u != null && u.isObject() && u.path("prompt_tokens").canConvertToLong()) {
            usage = Usage.of(u.path("prompt_tokens").asLong(), u.path("completion_tokens").asLong(),
                    u.path("prompt_tokens_details").path("cached_tokens").asLong(),
                    u.path("completion_tokens_details").path("reasoning_tokens").asLong());
        }
    }
}
