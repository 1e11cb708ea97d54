package io.spindle.store;

/** The run is no longer leased to the caller: another node took it over, or it was handed back. */
public final class LeaseLostException extends RuntimeException {
    public LeaseLostException(String runId) {
        super("lease on " + runId + " lost", null, false, false);
    }
}
