package io.spindle.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * A {@code thread.message.delta}: text appended to the first content part of message {@code id}.
 * The first delta of a message also carries the part's empty {@code annotations}, as the live API sent it.
 */
public record MessageDeltaObject(String id, String object, Delta delta) {

    public record Delta(List<TextPart> content) {}

    public record TextPart(int index, String type, Text text) {}

    public record Text(String value, @JsonInclude(JsonInclude.Include.NON_NULL) List<Object> annotations) {}

    public static MessageDeltaObject text(String messageId, String value, boolean first) {
        Text text = new Text(value, first ? List.of() : null);
        return new MessageDeltaObject(messageId, "thread.message.delta", new Delta(List.of(new TextPart(0, "text", text))));
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
