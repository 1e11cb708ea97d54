package io.spindle.upstream;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A run's Chat Completions request as one route's endpoint takes it. The engine builds one request shape for every
 * model; what differs between endpoints is decided here, from the route alone.
 */
public final class RequestShape {

    private RequestShape() {}

    /** {@code body} for {@code route}: a copy, the caller's body untouched. */
    public static ObjectNode adapt(ObjectNode body, ModelRoute route) {
        ObjectNode out = body.deepCopy();
        route.upstreamModel().ifPresent(name -> out.put("model", name));
        return out;
    }
}
