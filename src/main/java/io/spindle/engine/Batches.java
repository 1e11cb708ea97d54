package io.spindle.engine;

import io.spindle.store.Notifications;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Run events (JSON objects, written) packed into as few messages to another node as fit: {@code {"batch":[item, ...]}}. */
final class Batches {
    private static final String OPEN = "{\"batch\":[";
    private static final String CLOSE = "]}";
    /** Room for one item inside a message: the message's limit, less the batch's own brackets. */
    static final int MAX_ITEM_BYTES = Notifications.MAX_PAYLOAD_BYTES - OPEN.length() - CLOSE.length();

    private Batches() {}

    static int length(String item) {
        return item.getBytes(StandardCharsets.UTF_8).length;
    }

    /** The items in order, as messages of at most {@link Notifications#MAX_PAYLOAD_BYTES} bytes each. */
    static List<String> pack(List<String> items) {
        List<String> out = new ArrayList<>();
        StringBuilder batch = new StringBuilder(OPEN);
        int bytes = 0;
        for (String item : items) {
            int length = length(item) + 1;
            if (bytes > 0 && bytes + length > MAX_ITEM_BYTES) {
                out.add(batch.append(CLOSE).toString());
                batch.setLength(OPEN.length());
                bytes = 0;
            }
            if (bytes > 0) {
                batch.append(',');
            }
            batch.append(item);
            bytes += length;
        }
        if (bytes > 0) {
            out.add(batch.append(CLOSE).toString());
        }
        return out;
    }
}
