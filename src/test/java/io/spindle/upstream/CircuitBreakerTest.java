package io.spindle.upstream;

import static io.spindle.upstream.CircuitBreaker.Admission.ADMITTED;
import static io.spindle.upstream.CircuitBreaker.Admission.REFUSED;
import static io.spindle.upstream.CircuitBreaker.Admission.TRIAL;
import static org.assertj.core.api.Assertions.assertThat;

import io.spindle.upstream.CircuitBreaker.State;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** {@link CircuitBreaker}'s states, with a clock the test moves. */
class CircuitBreakerTest {
    private static final Duration COOLDOWN = Duration.ofSeconds(30);
    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-12-03T12:00:00Z"));
    private final InstantSource clock = now::get;
    private final CircuitBreaker breaker = new CircuitBreaker(3, COOLDOWN, clock);

    @Test
    void opensAtTheThresholdOfFailuresInARowAndRefusesForTheCooldown() {
        assertThat(breaker.failed(breaker.admit())).isFalse();
        assertThat(breaker.failed(breaker.admit())).isFalse();
        assertThat(breaker.state()).isEqualTo(State.CLOSED);

        assertThat(breaker.failed(breaker.admit())).isTrue();

        assertThat(breaker.state()).isEqualTo(State.OPEN);
        assertThat(breaker.admits()).isFalse();
        assertThat(breaker.admit()).isEqualTo(REFUSED);
        assertThat(breaker.openFor()).isEqualTo(COOLDOWN);
        advance(Duration.ofSeconds(20));
        assertThat(breaker.admit()).isEqualTo(REFUSED);
        assertThat(breaker.openFor()).isEqualTo(Duration.ofSeconds(10));
    }

    @Test
    void aSuccessInBetweenStartsTheCountAgain() {
        breaker.failed(breaker.admit());
        breaker.failed(breaker.admit());
        breaker.admit();
        assertThat(breaker.succeeded()).isFalse();
        breaker.failed(breaker.admit());
        breaker.failed(breaker.admit());

        assertThat(breaker.state()).isEqualTo(State.CLOSED);
        assertThat(breaker.failed(breaker.admit())).isTrue();
    }

    @Test
    void afterTheCooldownExactlyOneTrialGoesAndItsSuccessCloses() {
        open();
        advance(COOLDOWN);

        assertThat(breaker.admits()).isTrue();
        assertThat(breaker.admit()).isEqualTo(TRIAL);
        assertThat(breaker.state()).isEqualTo(State.HALF_OPEN);
        assertThat(breaker.admits()).isFalse();
        assertThat(breaker.admit()).isEqualTo(REFUSED);
        assertThat(breaker.openFor()).isZero();

        assertThat(breaker.succeeded()).isTrue();
        assertThat(breaker.state()).isEqualTo(State.CLOSED);
        assertThat(breaker.admit()).isEqualTo(ADMITTED);
        assertThat(breaker.admit()).isEqualTo(ADMITTED);
    }

    @Test
    void aFailedTrialOpensForAnotherCooldown() {
        open();
        advance(COOLDOWN);

        assertThat(breaker.failed(breaker.admit())).isTrue();

        assertThat(breaker.state()).isEqualTo(State.OPEN);
        assertThat(breaker.openFor()).isEqualTo(COOLDOWN);
        advance(COOLDOWN.minusSeconds(1));
        assertThat(breaker.admit()).isEqualTo(REFUSED);
        advance(Duration.ofSeconds(1));
        assertThat(breaker.admit()).isEqualTo(TRIAL);
    }

    @Test
    void aTrialThatTellsNothingHandsItsPlaceToTheNextCall() {
        open();
        advance(COOLDOWN);
        breaker.abandoned(breaker.admit());

        assertThat(breaker.state()).isEqualTo(State.HALF_OPEN);
        assertThat(breaker.admit()).isEqualTo(TRIAL);
        assertThat(breaker.admit()).isEqualTo(REFUSED);
    }

    @Test
    void callsLetInBeforeItOpenedDoNotDecideAfter() {
        CircuitBreaker.Admission early = breaker.admit();
        open();
        assertThat(breaker.failed(early)).isFalse();
        assertThat(breaker.openFor()).isEqualTo(COOLDOWN);

        advance(COOLDOWN);
        assertThat(breaker.admit()).isEqualTo(TRIAL);
        assertThat(breaker.failed(early)).isFalse();
        breaker.abandoned(early);
        assertThat(breaker.state()).isEqualTo(State.HALF_OPEN);
        assertThat(breaker.admit()).isEqualTo(REFUSED);
    }

    @Test
    void anySuccessClosesEvenWhileOpen() {
        CircuitBreaker.Admission early = breaker.admit();
        open();

        assertThat(breaker.succeeded()).isTrue();

        assertThat(breaker.state()).isEqualTo(State.CLOSED);
        assertThat(breaker.admit()).isEqualTo(ADMITTED);
        assertThat(breaker.failed(early)).isFalse();
    }

    @Test
    void zeroFailuresNeverOpens() {
        CircuitBreaker off = new CircuitBreaker(0, COOLDOWN, clock);
        for (int i = 0; i < 100; i++) {
            assertThat(off.failed(off.admit())).isFalse();
        }
        assertThat(off.state()).isEqualTo(State.CLOSED);
        assertThat(off.admit()).isEqualTo(ADMITTED);
    }

    private void open() {
        for (int i = 0; i < 3; i++) {
            breaker.failed(breaker.admit());
        }
        assertThat(breaker.state()).isEqualTo(State.OPEN);
    }

    private void advance(Duration by) {
        now.updateAndGet(t -> t.plus(by));
    }
}
