package io.spindle.store;

import java.util.Optional;
import java.util.OptionalLong;

/**
 * Where a run came from, kept with it for its trace: the W3C {@code traceparent} of the request that created it (empty when
 * that request was not traced) and when it was queued, in epoch milliseconds (empty for runs made before it was kept).
 */
public record RunOrigin(Optional<String> traceParent, OptionalLong queuedAtMillis) {
    public static final RunOrigin UNKNOWN = new RunOrigin(Optional.empty(), OptionalLong.empty());
}
