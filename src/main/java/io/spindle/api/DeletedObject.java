package io.spindle.api;

/** The answer to a delete: {@code {"id","object":"assistant.deleted","deleted":true}}. */
public record DeletedObject(String id, String object, boolean deleted) {

    public static DeletedObject of(String id, String object) {
        return new DeletedObject(id, object, true);
    }
}
