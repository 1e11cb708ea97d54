package io.spindle.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * A {@code thread.message.delta} of message {@code id}: text appended to its text part, or an {@code image_file} part
 * (a figure code_interpreter showed, which comes before the text). The first text delta of a message also carries the
 * part's empty {@code annotations}, as the live API sent it; a delta that writes a reference (a citation marker, a
 * sandbox link) carries the reference's annotation.
 */
public record MessageDeltaObject(String id, String object, Delta delta) {
    private static final String OBJECT = "thread.message.delta";

    public record Delta(List<Part> content) {}

    /** A content part at {@code index} of the message: {@code text} or {@code image_file}, the other field null. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Part(int index, String type, Text text, ImageFile imageFile) {}

    public record Text(String value, @JsonInclude(JsonInclude.Include.NON_NULL) List<Object> annotations) {}

    public record ImageFile(String fileId) {}

    /**
     * Text appended to the text part at {@code index}.
     *
     * @param annotations the annotations this delta adds, or null for none (an empty list only in the first delta)
     */
    public static MessageDeltaObject text(String messageId, int index, String value, List<Object> annotations) {
        return new MessageDeltaObject(messageId, OBJECT,
                new Delta(List.of(new Part(index, "text", new Text(value, annotations), null))));
    }

    /** The {@code image_file} part at {@code index}. */
    public static MessageDeltaObject imageFile(String messageId, int index, String fileId) {
        return new MessageDeltaObject(messageId, OBJECT,
                new Delta(List.of(new Part(index, "image_file", null, new ImageFile(fileId)))));
    }

    /**
     * Whether {@code next} can be sent joined to this delta as one: plain text for the same part of the same message
     * (a delta that adds annotations is never joined to an earlier one, the SDKs merge annotations by index).
     */
    public boolean joins(MessageDeltaObject next) {
        Part mine = delta.content().getFirst();
        Part theirs = next.delta.content().getFirst();
        return id.equals(next.id) && mine.text() != null && theirs.text() != null && mine.index() == theirs.index()
                && (theirs.text().annotations() == null || theirs.text().annotations().isEmpty());
    }

    /** The text this delta appends (empty for an image part). */
    public String value() {
        Text text = delta.content().getFirst().text();
        return text == null ? "" : text.value();
    }

    /** This delta followed by {@code next}, as one delta; only when {@link #joins} allows. */
    public MessageDeltaObject followedBy(MessageDeltaObject next) {
        Part part = delta.content().getFirst();
        Text text = part.text();
        return new MessageDeltaObject(id, object, new Delta(List.of(
                new Part(part.index(), "text", new Text(text.value() + next.value(), text.annotations()), null))));
    }
}
