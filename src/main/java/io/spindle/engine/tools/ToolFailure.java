package io.spindle.engine.tools;

/** A built-in tool could not execute in a way the model cannot work around: the run fails with this code and message. */
public final class ToolFailure extends RuntimeException {
    private final String code;

    public ToolFailure(String code, String message) {
        super(message, null, false, false);
        this.code = code;
    }

    /** The run's {@code last_error.code}. */
    public String code() {
        return code;
    }
}
