package io.spindle.engine.tools;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * What a stream shows of one tool call while the model writes its arguments: each piece of the arguments becomes
 * zero or more tool-call deltas (with the call's {@code index}, never its {@code id}, which the start delta sent).
 * Stateful: one per call, fed the pieces in order.
 */
public interface ArgumentStream {

    /** The deltas this piece of the arguments adds to the call. */
    List<ObjectNode> feed(String piece);

    /** Shows nothing of the arguments (a tool whose wire form has no such field). */
    static ArgumentStream none() {
        return piece -> List.of();
    }
}
