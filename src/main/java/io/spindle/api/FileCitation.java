package io.spindle.api;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** STUB until helper C lands. */
public record FileCitation(String text, int startIndex, int endIndex, String fileId) {
    public ObjectNode json() {
        return Json.object();
    }

    public ObjectNode delta(int index) {
        return Json.object();
    }
}
