package io.spindle.upstream;

import java.util.ArrayList;
import java.util.List;

/**
 * Lets another thread stop a model call at once: cancelling closes the call's connection, so the
 * thread reading it wakes up with {@link UpstreamException.Kind#ABORTED}.
 */
public final class Cancellation {
    private final List<Runnable> onCancel = new ArrayList<>();
    private String reason;

    public synchronized void cancel(String why) {
        if (reason != null) {
            return;
        }
        reason = why;
        for (Runnable r : onCancel) {
            r.run();
        }
        onCancel.clear();
    }

    public synchronized boolean isCancelled() {
        return reason != null;
    }

    /** Why it was cancelled, or null. */
    public synchronized String reason() {
        return reason;
    }

    /** Runs {@code action} when cancelled (at once if already). */
    synchronized void onCancel(Runnable action) {
        if (reason != null) {
            action.run();
        } else {
            onCancel.add(action);
        }
    }
}
