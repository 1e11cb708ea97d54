package io.spindle.admin;

/** A mistake a user can make with an admin command (a missing file, an unknown project, a bad export): one line. */
public final class AdminException extends RuntimeException {
    public AdminException(String message) {
        super(message);
    }
}
