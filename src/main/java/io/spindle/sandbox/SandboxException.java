package io.spindle.sandbox;

/** A sandbox operation that could not be done: the backend does not work, a file is refused, the session ended. */
public final class SandboxException extends RuntimeException {
    public SandboxException(String message) {
        super(message);
    }

    public SandboxException(String message, Throwable cause) {
        super(message, cause);
    }
}
