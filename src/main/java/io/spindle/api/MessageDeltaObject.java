package io.spindle.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * A {@code thread.message.delta}: text appended to the first content part of message {@code id}.
 * The first delta of a message also carries the part's empty {@code annotations}, as the live API sent it; a delta
 * that writes a citation marker carries the marker's annotation.
 */
public record MessageDeltaObject(String id, String object, Delta delta) {

    public record Delta(List<TextPart> content) {}

    public record TextPart(int index, String type, Text text) {}

    public record Text(String value, @JsonInclude(JsonInclude.Include.NON_NULL) List<Object> annotations) {}

    /** @param annotations the annotations this delta adds, or null for none (an empty list only in the first delta) */
    public static MessageDeltaObject text(String messageId, String value, List<Object> annotations) {
        Text text = new Text(value, annotations);
        return new MessageDeltaObject(messageId, "thread.message.delta", new Delta(List.of(new TextPart(0, "text", text))));
    }

    /** Whether this delta adds annotations (the SDKs merge them by index, so it is never joined to another). */
    public boolean annotates() {
        List<Object> annotations = delta.content().getFirst().text().annotations();
        return annotations != null && !annotations.isEmpty();
    }

    /** The text this delta appends. */
    public String value() {
        return delta.content().getFirst().text().value();
    }

    /** This delta followed by {@code next} of the same message, as one delta. */
    public MessageDeltaObject followedBy(MessageDeltaObject next) {
        Text text = delta.content().getFirst().text();
        return new MessageDeltaObject(id, object,
                new Delta(List.of(new TextPart(0, "text", new Text(text.value() + next.value(), text.annotations())))));
    }
}
