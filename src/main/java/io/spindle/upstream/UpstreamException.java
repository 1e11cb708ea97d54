package io.spindle.upstream;

/** A model call that failed, classified the way a run reports it in {@code last_error.code}. */
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
    private final long retryAfterMillis;

    public UpstreamException(Kind kind, String message, long retryAfterMillis, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.retryAfterMillis = retryAfterMillis;
    }

    public UpstreamException(Kind kind, String message) {
        this(kind, message, 0, null);
    }

    public Kind kind() {
        return kind;
    }

    /** What the upstream asked us to wait before retrying, or 0. */
    public long retryAfterMillis() {
        return retryAfterMillis;
    }
}
