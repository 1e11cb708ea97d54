package io.spindle.upstream;

import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;

/**
 * Ends a model call the upstream went quiet on, by closing its stream (the reading thread then wakes up with an
 * {@code IOException}): after the idle timeout while the answer comes, and after a short grace once the answer has
 * finished (its {@code finish_reason} came and only a usage chunk may follow), for servers that then send neither
 * {@code [DONE]} nor close. {@link #check} is called about once a second.
 */
final class IdleWatch {
    private final long idleNanos;
    private final long graceNanos;
    private final Closeable stream;
    private volatile long lastActivity = System.nanoTime();
    private volatile boolean answerFinished;
    private volatile boolean fired;

    IdleWatch(Duration idleTimeout, Duration grace, Closeable stream) {
        this.idleNanos = idleTimeout.toNanos();
        this.graceNanos = grace.toNanos();
        this.stream = stream;
    }

    /** Something arrived. */
    void activity() {
        lastActivity = System.nanoTime();
    }

    /** The answer is complete: from now on a short silence ends the call. */
    void answerFinished() {
        answerFinished = true;
    }

    void check() {
        long quietFor = System.nanoTime() - lastActivity;
        if (quietFor > (answerFinished ? graceNanos : idleNanos)) {
            fired = true;
            try {
                stream.close();
            } catch (IOException ignored) {
                // closing to end the call; nothing else to do
            }
        }
    }

    /** The stream was closed here, because the upstream stayed quiet. */
    boolean fired() {
        return fired;
    }
}
