package io.spindle.store;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;

/** A database failure; the HTTP layer answers it with a 500 and logs it, or with a 503 when the pool had no connection free. */
public final class StoreException extends RuntimeException {
    public StoreException(SQLException cause) {
        super(cause.getMessage(), cause);
    }

    /** No pooled connection came free in time: the node is overloaded, and the same request may succeed soon. */
    public boolean noConnection() {
        return getCause() instanceof SQLTransientConnectionException;
    }
}
