package io.spindle.api;

import java.util.List;

/** A model of {@code GET /v1/models}: {@code owned_by} is the name of the route that serves it. */
public record ModelObject(String id, String object, long created, String ownedBy) {

    public static ModelObject of(String id, long created, String route) {
        return new ModelObject(id, "model", created, route);
    }

    /** The list {@code GET /v1/models} answers: OpenAI's shape, without paging. */
    public record Page(String object, List<ModelObject> data) {
        public static Page of(List<ModelObject> data) {
            return new Page("list", data);
        }
    }
}
