package io.spindle.ingest;

/**
 * A file whose text could not be extracted, classified the way a vector store file reports it in
 * {@code last_error.code}. The message is meant for {@code last_error.message}: it names the problem,
 * never the library that found it; the cause (if any) is for the log.
 */
public final class IngestException extends Exception {

    public enum Kind {
        /** The file's extension is not one file_search reads. */
        UNSUPPORTED_FILE("unsupported_file"),
        /** The document is corrupt, encrypted, too large, without text, or (for text types) not UTF-8/UTF-16/ASCII. */
        INVALID_FILE("invalid_file"),
        /** Anything unexpected: a fault of ours, not of the file. */
        SERVER_ERROR("server_error");

        public final String code;

        Kind(String code) {
            this.code = code;
        }
    }

    /** OpenAI's wording for an unsupported type (seen in a live {@code last_error}). */
    static final String UNSUPPORTED = "The file type is not supported.";
    /** OpenAI's wording for a file over its size limit (seen in a live {@code last_error}). */
    static final String TOO_LARGE = "The file could not be parsed because it is too large.";

    private final Kind kind;

    public IngestException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    static IngestException invalid(String message) {
        return new IngestException(Kind.INVALID_FILE, message, null);
    }

    public Kind kind() {
        return kind;
    }

    /** {@code last_error.code}: {@code unsupported_file}, {@code invalid_file} or {@code server_error}. */
    public String code() {
        return kind.code;
    }
}
