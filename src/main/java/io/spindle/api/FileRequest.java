package io.spindle.api;

import java.util.List;
import java.util.Set;

/**
 * The text fields of a file upload ({@code multipart/form-data}), checked as they arrive with
 * OpenAI's errors: {@code purpose}, and {@code expires_after}, which the SDKs send as the two fields
 * {@code expires_after[anchor]} and {@code expires_after[seconds]}. The {@code file} part itself is
 * streamed to storage by the HTTP layer; {@link #file} then makes the object.
 */
public final class FileRequest {
    /** The purposes an upload may name, in the order the live API listed them. */
    public static final List<String> PURPOSES = List.of("fine-tune", "assistants", "batch", "user_data", "vision", "evals");
    /** Purposes whose files the live API refused to hand back. */
    private static final Set<String> NOT_DOWNLOADABLE = Set.of("assistants", "user_data");
    public static final String FILE = "file";
    private static final String PURPOSE = "purpose";
    private static final String ANCHOR = "expires_after[anchor]";
    private static final String SECONDS = "expires_after[seconds]";
    private static final long MIN_SECONDS = 3_600;
    private static final long MAX_SECONDS = 2_592_000;

    private String purpose;
    private String anchor;
    private Long seconds;

    /** A text field of the form; a field the endpoint does not know, or one sent twice, is refused. */
    public void field(String name, String value) {
        switch (name) {
            case PURPOSE -> purpose = purpose(once(name, purpose, value));
            case ANCHOR -> anchor = anchor(once(name, anchor, value));
            case SECONDS -> seconds = seconds(once(name, seconds, value));
            default -> throw unknown(name);
        }
    }

    /** The uploaded file's object, once its bytes are stored; checks that every required field came. */
    public FileObject file(String id, long createdAt, String filename, long bytes) {
        if (purpose == null) {
            throw Body.missing(PURPOSE);
        }
        if (bytes == 0) {
            throw ApiException.invalid("Invalid 'file': the file is empty. Upload a file of at least one byte.", FILE, null);
        }
        if (anchor != null && seconds == null) {
            throw Body.missing("expires_after.seconds");
        }
        if (seconds != null && anchor == null) {
            throw Body.missing("expires_after.anchor");
        }
        return new FileObject(id, purpose, filename, bytes, createdAt, seconds == null ? null : createdAt + seconds);
    }

    /** A field name that is no parameter of the upload. */
    public static ApiException unknown(String name) {
        return ApiException.invalid("Unknown parameter: '" + name + "'.", name, "unknown_parameter");
    }

    /** Refuses the download of a file whose purpose forbids it, with the live API's words. */
    public static void checkDownloadable(FileObject file) {
        if (NOT_DOWNLOADABLE.contains(file.purpose())) {
            throw ApiException.invalid("Not allowed to download files of purpose: " + file.purpose());
        }
    }

    /** A field sent twice: which value was meant is anyone's guess. */
    public static ApiException sentTwice(String name) {
        return ApiException.invalid("Invalid '" + name + "': the field was sent more than once.", name, "invalid_value");
    }

    private static <T> String once(String name, T previous, String value) {
        if (previous != null) {
            throw sentTwice(name);
        }
        return value;
    }

    private static String purpose(String value) {
        if (!PURPOSES.contains(value)) {
            // the live API's words, Python's list repr included
            throw ApiException.invalid("'" + value + "' is not one of ["
                    + String.join(", ", PURPOSES.stream().map(p -> "'" + p + "'").toList()) + "] - 'purpose'", PURPOSE, null);
        }
        return value;
    }

    private static String anchor(String value) {
        if (!value.equals("created_at")) {
            throw Body.invalidValue("expires_after.anchor", value, List.of("created_at"));
        }
        return value;
    }

    private static long seconds(String value) {
        String param = "expires_after.seconds";
        long v;
        try {
            v = Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw ApiException.invalid("Invalid '" + param + "': expected an integer, but got '" + value + "' instead.",
                    param, "invalid_type");
        }
        if (v < MIN_SECONDS) {
            throw ApiException.invalid("Invalid '" + param + "': integer below minimum value. Expected a value >= " + MIN_SECONDS
                    + ", but got " + v + " instead.", param, "integer_below_min_value");
        }
        if (v > MAX_SECONDS) {
            throw ApiException.invalid("Invalid '" + param + "': integer above maximum value. Expected a value <= " + MAX_SECONDS
                    + ", but got " + v + " instead.", param, "integer_above_max_value");
        }
        return v;
    }
}
