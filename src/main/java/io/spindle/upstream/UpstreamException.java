package io.spindle.upstream;

/**
 * A model call that failed, classified the way a run reports it in {@code last_error.code}. It carries two texts:
 * the message, short and generic, which clients see as {@code last_error.message}; and the detail for the log (what
 * the upstream said, the exception), already redacted by {@link Redaction}. Neither ever holds a key or a URL.
 */
public final class UpstreamException extends Exception {

    public enum Kind {
        /** 429 from the upstream: {@code rate_limit_exceeded}; retried. */
        RATE_LIMIT("rate_limit_exceeded", true),
        /** 5xx, time-outs, resets, malformed answers: {@code server_error}; retried. */
        SERVER("server_error", true),
        /** The upstream refused the request itself (400/422): {@code invalid_prompt}; not retried. */
        INVALID_PROMPT("invalid_prompt", false),
        /** Refused for a reason retrying cannot fix (401/403/404): {@code server_error}; not retried. */
        REFUSED("server_error", false),
        /** More than Spindle takes: a stream event or an answer over the size limits; {@code server_error}; not retried. */
        TOO_LARGE("server_error", false),
        /** The call was aborted on purpose (cancel, expiry, shutdown). */
        ABORTED("server_error", false);

        public final String code;
        public final boolean retryable;

        Kind(String code, boolean retryable) {
            this.code = code;
            this.retryable = retryable;
        }
    }

    private final Kind kind;
    private final String detail;
    private final long retryAfterMillis;

    /** {@code detail} must have gone through {@link Redaction}; the cause is kept for debuggers, never logged. */
    public UpstreamException(Kind kind, String message, String detail, long retryAfterMillis, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.detail = detail == null ? "" : detail;
        this.retryAfterMillis = retryAfterMillis;
    }

    public UpstreamException(Kind kind, String message) {
        this(kind, message, "", 0, null);
    }

    public Kind kind() {
        return kind;
    }

    /** What to log besides the message (redacted), or "". */
    public String detail() {
        return detail;
    }

    /** The message and, when there is one, the detail: the text for the log. */
    public String forLog() {
        return detail.isEmpty() ? getMessage() : getMessage() + " (" + detail + ")";
    }

    /** What the upstream asked us to wait before retrying, or 0. */
    public long retryAfterMillis() {
        return retryAfterMillis;
    }
}
