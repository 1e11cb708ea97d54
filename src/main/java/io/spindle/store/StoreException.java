package io.spindle.store;

import java.sql.SQLException;

/** A database failure; the HTTP layer answers it with a 500 and logs it. */
public final class StoreException extends RuntimeException {
    public StoreException(SQLException cause) {
        super(cause.getMessage(), cause);
    }
}
