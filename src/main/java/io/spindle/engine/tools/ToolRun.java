package io.spindle.engine.tools;

import io.spindle.api.RunObject;
import io.spindle.upstream.Cancellation;

/**
 * What a built-in tool knows of the run it executes in.
 *
 * @param ordinal      how many calls of the same tool the run made before this one
 * @param cancellation cancelled once the run is cancelled, expired or handed back: a tool that waits stops waiting,
 *                     a tool that runs something stops it (code_interpreter asks {@link #isCancelled} while its cell runs)
 */
public record ToolRun(String project, RunObject run, int ordinal, Cancellation cancellation) {

    public boolean isCancelled() {
        return cancellation.isCancelled();
    }
}
