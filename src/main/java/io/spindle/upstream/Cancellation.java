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

    /**
     * Runs {@code action} if cancelled before the returned hook is closed (at once if already): a tool's work in
     * progress is stopped, and work done since is left alone.
     */
    public Hook whileRunning(Runnable action) {
        onCancel(action);
        return () -> {
            synchronized (this) {
                onCancel.remove(action);
            }
        };
    }

    /** What {@link #whileRunning} registered; closing it unregisters the action. */
    public interface Hook extends AutoCloseable {
        @Override
        void close();
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
