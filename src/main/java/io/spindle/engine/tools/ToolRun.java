package io.spindle.engine.tools;

import io.spindle.api.RunObject;
import java.util.function.BooleanSupplier;

/**
 * What a built-in tool knows of the run it executes in.
 *
 * @param ordinal   how many calls of the same tool the run made before this one
 * @param cancelled true once the run is cancelled, expired or handed back: a tool that waits stops waiting
 */
public record ToolRun(String project, RunObject run, int ordinal, BooleanSupplier cancelled) {

    public boolean isCancelled() {
        return cancelled.getAsBoolean();
    }
}
