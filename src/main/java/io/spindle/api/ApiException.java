package io.spindle.api;

/**
 * A failure the client caused or must be told about, in OpenAI's terms. The HTTP layer turns it
 * into {@code {"error":{"message","type","param","code"}}} with the status of its {@link Kind}.
 */
public final class ApiException extends RuntimeException {

    public enum Kind {
        INVALID_REQUEST(400, "invalid_request_error"),
        AUTHENTICATION(401, "invalid_request_error"),
        FORBIDDEN(403, "invalid_request_error"),
        NOT_FOUND(404, "invalid_request_error"),
        METHOD_NOT_ALLOWED(405, "invalid_request_error"),
        TOO_LARGE(413, "invalid_request_error");

        public final int status;
        public final String type;

        Kind(int status, String type) {
            this.status = status;
            this.type = type;
        }
    }

    private final Kind kind;
    private final String param;
    private final String code;

    public ApiException(Kind kind, String message, String param, String code) {
        super(message, null, false, false);
        this.kind = kind;
        this.param = param;
        this.code = code;
    }

    public static ApiException invalid(String message, String param, String code) {
        return new ApiException(Kind.INVALID_REQUEST, message, param, code);
    }

    public static ApiException invalid(String message) {
        return invalid(message, null, null);
    }

    public static ApiException notFound(String what, String id) {
        return new ApiException(Kind.NOT_FOUND, "No " + what + " found with id '" + id + "'.", null, null);
    }

    public Kind kind() {
        return kind;
    }

    public String param() {
        return param;
    }

    public String code() {
        return code;
    }
}
