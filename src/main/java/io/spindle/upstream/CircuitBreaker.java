package io.spindle.upstream;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;

/**
 * Whether calls to one endpoint go ahead, from how its recent calls ended. CLOSED: every call goes; {@code failures}
 * failures in a row open it. OPEN: calls are refused for {@code cooldown}; the first call after it is let through as
 * the trial (HALF_OPEN), and the others are refused while the trial is out. The trial's success closes the breaker,
 * its failure opens it for another cooldown. Any success closes it and resets the count. {@code failures == 0}: never
 * opens. Thread-safe.
 *
 * <p>The caller asks {@link #admit()} before a call and reports how the call ended: {@link #succeeded()},
 * {@link #failed(Admission)} (a failure of the endpoint), or {@link #abandoned(Admission)} (neither: the call tells
 * nothing about the endpoint).
 */
public final class CircuitBreaker {

    public enum State { CLOSED, OPEN, HALF_OPEN }

    /** How {@link #admit()} let a call in, or that it did not. */
    public enum Admission {
        REFUSED,
        /** An ordinary call. */
        ADMITTED,
        /** The one call that tries the endpoint after the cooldown. */
        TRIAL
    }

    private final int failures;
    private final Duration cooldown;
    private final InstantSource clock;
    private State state = State.CLOSED;
    private int failuresInARow;
    private Instant openUntil = Instant.MIN;
    private boolean trialOut;

    public CircuitBreaker(int failures, Duration cooldown, InstantSource clock) {
        if (failures < 0 || cooldown.isNegative()) {
            throw new IllegalArgumentException("failures and cooldown may not be negative");
        }
        this.failures = failures;
        this.cooldown = cooldown;
        this.clock = clock;
    }

    public int failures() {
        return failures;
    }

    public Duration cooldown() {
        return cooldown;
    }

    public synchronized State state() {
        return state;
    }

    /** Whether {@link #admit()} would let a call in now; changes nothing. */
    public synchronized boolean admits() {
        return switch (state) {
            case CLOSED -> true;
            case OPEN -> cooledDown();
            case HALF_OPEN -> !trialOut;
        };
    }

    /** Lets a call in, or refuses it; after the cooldown the first call let in is the trial. */
    public synchronized Admission admit() {
        if (!admits()) {
            return Admission.REFUSED;
        }
        if (state == State.CLOSED) {
            return Admission.ADMITTED;
        }
        state = State.HALF_OPEN;
        trialOut = true;
        return Admission.TRIAL;
    }

    /** How long calls are still refused; zero when not open (while a trial is out, calls wait for its outcome). */
    public synchronized Duration openFor() {
        if (state != State.OPEN || cooledDown()) {
            return Duration.ZERO;
        }
        return Duration.between(clock.instant(), openUntil);
    }

    /** A call succeeded: the endpoint works, whichever call it was. Returns true when this closed the breaker. */
    public synchronized boolean succeeded() {
        failuresInARow = 0;
        if (state == State.CLOSED) {
            return false;
        }
        state = State.CLOSED;
        trialOut = false;
        return true;
    }

    /**
     * A call failed for the endpoint's sake. Returns true when this opened the breaker. A call let in before the
     * breaker opened and ending after it tells nothing new: only the trial decides while it is open or half-open.
     */
    public synchronized boolean failed(Admission admission) {
        if (state == State.HALF_OPEN && admission == Admission.TRIAL) {
            open();
            return true;
        }
        if (state != State.CLOSED || failures == 0) {
            return false;
        }
        failuresInARow++;
        if (failuresInARow < failures) {
            return false;
        }
        open();
        return true;
    }

    /** A call ended telling nothing about the endpoint; if it was the trial, the next call is. */
    public synchronized void abandoned(Admission admission) {
        if (state == State.HALF_OPEN && admission == Admission.TRIAL) {
            trialOut = false;
        }
    }

    private void open() {
        state = State.OPEN;
        failuresInARow = 0;
        trialOut = false;
        openUntil = clock.instant().plus(cooldown);
    }

    private boolean cooledDown() {
        return !clock.instant().isBefore(openUntil);
    }
}
