package io.spindle.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindle.api.Json;
import io.spindle.upstream.UpstreamException.Kind;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link RouteGate} around a fake model whose calls wait until the test ends them. Nothing waits on time: the
 * timeouts below only guard against a hang, and the breaker's clock is moved by hand.
 */
class RouteGateTest {
    private static final long GUARD_SECONDS = 20;
    private static final Duration COOLDOWN = Duration.ofSeconds(30);
    private static final ChatResult ANSWER = new ChatResult("hi", List.of(), "stop", null);

    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-12-03T12:00:00Z"));
    private final InstantSource clock = now::get;
    private final HeldModel model = new HeldModel();
    private final Logger log = Logger.getLogger(RouteGate.class.getName());
    private final Level levelBefore = log.getLevel();
    private final List<LogRecord> logged = new CopyOnWriteArrayList<>();
    private final Handler logCapture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            logged.add(record);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    /** The gate's log lines go to {@link #logged} only, INFO included (the test logging setup shows WARNING up). */
    RouteGateTest() {
        log.addHandler(logCapture);
        log.setLevel(Level.INFO);
        log.setUseParentHandlers(false);
    }

    @AfterEach
    void tearDown() {
        log.removeHandler(logCapture);
        log.setLevel(levelBefore);
        log.setUseParentHandlers(true);
    }

    // ----- concurrency cap ---------------------------------------------------------------------------------------

    @Test
    void withACapOfTwoTheThirdCallWaitsUntilOneEnds() throws Exception {
        RouteGate gate = gate(2, noBreaker());
        Caller a = call(gate, "a");
        Caller b = call(gate, "b");
        Held heldA = model.next();
        Held heldB = model.next();
        assertThat(List.of(heldA.name, heldB.name)).containsExactlyInAnyOrder("a", "b");

        Caller c = call(gate, "c");
        awaitWaiting(c);
        assertThat(model.entered).isEmpty();

        heldA.answer();
        Held heldC = model.next();
        assertThat(heldC.name).isEqualTo("c");
        heldB.answer();
        heldC.answer();
        for (Caller caller : List.of(a, b, c)) {
            assertThat(caller.result()).isEqualTo(ANSWER);
        }
        assertThat(model.mostInside.get()).isEqualTo(2);
    }

    @Test
    void waitingCallsGoInTheOrderTheyCame() throws Exception {
        RouteGate gate = gate(1, noBreaker());
        call(gate, "first");
        Held first = model.next();
        for (String name : List.of("b", "c", "d", "e")) {
            awaitWaiting(call(gate, name));
        }

        first.answer();
        List<String> order = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Held held = model.next();
            order.add(held.name);
            held.answer();
        }

        assertThat(order).containsExactly("b", "c", "d", "e");
    }

    @Test
    void aCancelledWaitingCallLeavesAtOnceWithoutTakingAPermit() throws Exception {
        RouteGate gate = gate(1, noBreaker());
        call(gate, "a");
        Held heldA = model.next();
        Cancellation cancellation = new Cancellation();
        Caller b = call(gate, "b", cancellation);
        awaitWaiting(b);

        cancellation.cancel("run cancelled");

        UpstreamException e = b.failure(UpstreamException.class);
        assertThat(e.kind()).isEqualTo(Kind.ABORTED);
        assertThat(e.getMessage()).isEqualTo("aborted: run cancelled");
        assertThat(b.interruptedAfter.join()).as("the wait's interrupt does not leak to the caller").isFalse();

        Caller c = call(gate, "c");
        awaitWaiting(c);
        heldA.answer();
        Held heldC = model.next();
        assertThat(heldC.name).isEqualTo("c");
        Caller d = call(gate, "d");
        awaitWaiting(d);
        assertThat(model.entered).as("still one call at a time").isEmpty();
        heldC.answer();
        model.next().answer();
        assertThat(d.result()).isEqualTo(ANSWER);
        assertThat(model.names).containsExactly("a", "c", "d");
    }

    @Test
    void anAlreadyCancelledCallNeverReachesTheModel() throws Exception {
        RouteGate gate = gate(1, noBreaker());
        Cancellation cancellation = new Cancellation();
        cancellation.cancel("run expired");

        UpstreamException e = catchThrowableOfType(UpstreamException.class,
                () -> gate.complete(body("a"), ChatListener.NONE, cancellation));

        assertThat(e.kind()).isEqualTo(Kind.ABORTED);
        assertThat(e.getMessage()).isEqualTo("aborted: run expired");
        assertThat(Thread.interrupted()).isFalse();
        assertThat(model.names).isEmpty();
        answerOne(gate);
    }

    @Test
    void permitsComeBackAfterExceptionsAndErrors() throws Exception {
        RouteGate gate = gate(1, noBreaker());
        List<Throwable> failures = List.of(new UpstreamException(Kind.SERVER, "the model endpoint could not be reached"),
                new IllegalStateException("a bug"), new StackOverflowError());
        for (Throwable failure : failures) {
            Caller caller = call(gate, "failing");
            model.next().result.completeExceptionally(failure);
            assertThat(caller.failure(Throwable.class)).isSameAs(failure);
        }

        Caller last = call(gate, "last");
        model.next().answer();

        assertThat(last.result()).isEqualTo(ANSWER);
    }

    @Test
    void withoutACapEveryCallGoesInAtOnce() throws Exception {
        RouteGate gate = gate(0, noBreaker());
        List<Caller> callers = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            callers.add(call(gate, "call-" + i));
        }
        List<Held> held = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            held.add(model.next());
        }

        assertThat(model.mostInside.get()).isEqualTo(8);
        held.forEach(Held::answer);
        for (Caller caller : callers) {
            assertThat(caller.result()).isEqualTo(ANSWER);
        }
    }

    // ----- circuit breaker ---------------------------------------------------------------------------------------

    @Test
    void opensAfterThreeEndpointFailuresAndFailsFastWithAClearMessage() throws Exception {
        RouteGate gate = gate(0, breaker(3));
        failOne(gate, new UpstreamException(Kind.SERVER, "the model endpoint could not be reached"));
        failOne(gate, new UpstreamException(Kind.REFUSED, "the model endpoint rejected the request (HTTP 401)"));
        failOne(gate, new UpstreamException(Kind.TOO_LARGE, "the model's answer is over 1000000 characters",
                "stream event of 2 MB", 0, null));

        UpstreamException e = refusedCall(gate);
        assertThat(e.kind()).isEqualTo(Kind.SERVER);
        assertThat(e.getMessage()).isEqualTo(
                "The model endpoint of route 'local-llama' failed 3 times in a row; Spindle stops calling it for 30 s.");
        advance(Duration.ofMillis(10_500));
        assertThat(refusedCall(gate).getMessage()).endsWith("Spindle stops calling it for 20 s.");
        assertThat(model.names).hasSize(3);

        assertThat(logged).hasSize(1);
        LogRecord warning = logged.getFirst();
        assertThat(warning.getLevel()).isEqualTo(Level.WARNING);
        assertThat(warning.getMessage()).isEqualTo("route 'local-llama': the model endpoint failed 3 times in a row; "
                + "calls to it fail at once for 30 s. Last error: the model's answer is over 1000000 characters "
                + "(stream event of 2 MB)");
    }

    @Test
    void failuresThatAreNotTheEndpointsNeitherOpenItNorCount() throws Exception {
        RouteGate gate = gate(0, breaker(3));
        for (int i = 0; i < 4; i++) {
            failOne(gate, new UpstreamException(Kind.INVALID_PROMPT, "the model endpoint rejected the request (HTTP 400)"));
            failOne(gate, new UpstreamException(Kind.RATE_LIMIT, "the model endpoint is rate limiting (HTTP 429)"));
            failOne(gate, new UpstreamException(Kind.ABORTED, "aborted: run cancelled"));
        }
        failOne(gate, new UpstreamException(Kind.SERVER, "the model endpoint answered HTTP 502"));
        failOne(gate, new UpstreamException(Kind.INVALID_PROMPT, "the model endpoint rejected the request (HTTP 400)"));
        failOne(gate, new UpstreamException(Kind.SERVER, "the model endpoint answered HTTP 502"));
        failOne(gate, new UpstreamException(Kind.RATE_LIMIT, "the model endpoint is rate limiting (HTTP 429)"));

        assertThat(logged).isEmpty();
        failOne(gate, new UpstreamException(Kind.SERVER, "the model endpoint answered HTTP 502"));
        assertThat(refusedCall(gate).getMessage()).contains("failed 3 times in a row");
    }

    @Test
    void aSuccessInBetweenResetsTheCount() throws Exception {
        RouteGate gate = gate(0, breaker(3));
        failOne(gate, new UpstreamException(Kind.SERVER, "the model endpoint answered HTTP 503"));
        failOne(gate, new UpstreamException(Kind.SERVER, "the model endpoint answered HTTP 503"));
        answerOne(gate);
        failOne(gate, new UpstreamException(Kind.SERVER, "the model endpoint answered HTTP 503"));
        failOne(gate, new UpstreamException(Kind.SERVER, "the model endpoint answered HTTP 503"));

        answerOne(gate);
        assertThat(logged).isEmpty();
    }

    @Test
    void afterTheCooldownOneTrialCallGoesThroughAndItsSuccessCloses() throws Exception {
        RouteGate gate = gate(0, breaker(2));
        failOne(gate, new UpstreamException(Kind.SERVER, "the model endpoint answered HTTP 500"));
        failOne(gate, new UpstreamException(Kind.SERVER, "the model endpoint answered HTTP 500"));
        advance(COOLDOWN);

        Caller trial = call(gate, "trial");
        Held held = model.next();
        assertThat(held.name).isEqualTo("trial");
        assertThat(refusedCall(gate).getMessage()).isEqualTo("The model endpoint of route 'local-llama' failed 2 times "
                + "in a row; Spindle is trying it with one call before it sends others.");

        held.answer();
        assertThat(trial.result()).isEqualTo(ANSWER);
        Caller a = call(gate, "a");
        Caller b = call(gate, "b");
        model.next().answer();
        model.next().answer();
        assertThat(a.result()).isEqualTo(ANSWER);
        assertThat(b.result()).isEqualTo(ANSWER);
        assertThat(logged).extracting(LogRecord::getLevel).containsExactly(Level.WARNING, Level.INFO);
        assertThat(logged.get(1).getMessage())
                .isEqualTo("route 'local-llama': the model endpoint answers again; calls to it resume");
    }

    @Test
    void aFailedTrialOpensItForAnotherCooldown() throws Exception {
        RouteGate gate = gate(0, breaker(2));
        failOne(gate, new UpstreamException(Kind.SERVER, "the model endpoint answered HTTP 500"));
        failOne(gate, new UpstreamException(Kind.SERVER, "the model endpoint answered HTTP 500"));
        advance(COOLDOWN);

        failOne(gate, new UpstreamException(Kind.SERVER, "the model endpoint stopped answering for 120 s"));

        assertThat(refusedCall(gate).getMessage()).endsWith("Spindle stops calling it for 30 s.");
        assertThat(logged.get(1).getMessage()).isEqualTo("route 'local-llama': the trial call after the cooldown "
                + "failed; calls to it fail at once for 30 s. Last error: the model endpoint stopped answering for 120 s");
        advance(COOLDOWN);
        answerOne(gate);
        answerOne(gate);
    }

    @Test
    void aTrialCancelledOnTheWayLetsTheNextCallTry() throws Exception {
        RouteGate gate = gate(0, breaker(1));
        failOne(gate, new UpstreamException(Kind.SERVER, "the model endpoint answered HTTP 500"));
        advance(COOLDOWN);

        failOne(gate, new UpstreamException(Kind.ABORTED, "aborted: run cancelled"));

        answerOne(gate);
    }

    @Test
    void whileOpenCallsFailAtOnceEvenWhenEveryPermitIsTaken() throws Exception {
        CircuitBreaker breaker = breaker(1);
        RouteGate gate = gate(1, breaker);
        call(gate, "slow");
        Held slow = model.next();
        breaker.failed(breaker.admit());

        assertThat(refusedCall(gate).getMessage()).contains("Spindle stops calling it for 30 s.");
        slow.answer();
    }

    @Test
    void aCallThatWaitedItsTurnIsRefusedWhenTheBreakerOpenedMeanwhile() throws Exception {
        RouteGate gate = gate(1, breaker(1));
        call(gate, "a");
        Held heldA = model.next();
        Caller b = call(gate, "b");
        awaitWaiting(b);

        heldA.result.completeExceptionally(new UpstreamException(Kind.SERVER, "the model endpoint answered HTTP 500"));

        assertThat(b.failure(UpstreamException.class).getMessage()).isEqualTo(
                "The model endpoint of route 'local-llama' failed 1 time in a row; Spindle stops calling it for 30 s.");
        assertThat(model.names).containsExactly("a");
        Caller c = call(gate, "c");
        assertThat(c.failure(UpstreamException.class).getMessage()).contains("route 'local-llama'");
    }

    // ----- helpers -----------------------------------------------------------------------------------------------

    private RouteGate gate(int maxConcurrent, CircuitBreaker breaker) {
        return new RouteGate("local-llama", model, maxConcurrent, breaker);
    }

    private CircuitBreaker breaker(int failures) {
        return new CircuitBreaker(failures, COOLDOWN, clock);
    }

    private CircuitBreaker noBreaker() {
        return new CircuitBreaker(0, COOLDOWN, clock);
    }

    private void advance(Duration by) {
        now.updateAndGet(t -> t.plus(by));
    }

    private void failOne(RouteGate gate, UpstreamException failure) throws Exception {
        Caller caller = call(gate, "failing");
        model.next().result.completeExceptionally(failure);
        assertThat(caller.failure(UpstreamException.class)).isSameAs(failure);
    }

    private void answerOne(RouteGate gate) throws Exception {
        Caller caller = call(gate, "answered");
        model.next().answer();
        assertThat(caller.result()).isEqualTo(ANSWER);
    }

    /** A call made while the breaker refuses: it fails without waiting and without reaching the model. */
    private UpstreamException refusedCall(RouteGate gate) throws Exception {
        int before = model.names.size();
        UpstreamException e = call(gate, "refused").failure(UpstreamException.class);
        assertThat(model.names).hasSize(before);
        return e;
    }

    private static ObjectNode body(String name) {
        ObjectNode body = Json.object();
        body.put("model", "llama3.1").put("n", name);
        return body;
    }

    private static Caller call(RouteGate gate, String name) {
        return call(gate, name, new Cancellation());
    }

    /** Makes a call on a virtual thread of its own, as a run does. */
    private static Caller call(RouteGate gate, String name, Cancellation cancellation) {
        CompletableFuture<ChatResult> result = new CompletableFuture<>();
        CompletableFuture<Boolean> interruptedAfter = new CompletableFuture<>();
        Thread thread = Thread.ofVirtual().name("caller-" + name).start(() -> {
            try {
                result.complete(gate.complete(body(name), ChatListener.NONE, cancellation));
            } catch (Throwable t) {
                result.completeExceptionally(t);
            } finally {
                interruptedAfter.complete(Thread.currentThread().isInterrupted());
            }
        });
        return new Caller(thread, result, interruptedAfter);
    }

    /** Waits until the caller's thread is parked (waiting its turn); only a guard against a hang is timed. */
    private static void awaitWaiting(Caller caller) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(GUARD_SECONDS);
        while (caller.thread.getState() != Thread.State.WAITING) {
            if (caller.outcome.isDone() || System.nanoTime() > deadline) {
                fail("the call to " + caller.thread.getName() + " did not wait its turn");
            }
            Thread.sleep(1);
        }
    }

    private record Caller(Thread thread, CompletableFuture<ChatResult> outcome,
                          CompletableFuture<Boolean> interruptedAfter) {

        ChatResult result() throws Exception {
            return outcome.get(GUARD_SECONDS, TimeUnit.SECONDS);
        }

        <T extends Throwable> T failure(Class<T> type) throws Exception {
            try {
                outcome.get(GUARD_SECONDS, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                assertThat(e.getCause()).isInstanceOf(type);
                return type.cast(e.getCause());
            }
            throw new AssertionError("the call succeeded");
        }
    }

    /** One call inside the fake model, waiting for the test to end it. */
    private record Held(String name, CompletableFuture<ChatResult> result) {
        void answer() {
            result.complete(ANSWER);
        }
    }

    /** The route's model: each call shows up in {@link #entered} and returns or throws what the test gives it. */
    private static final class HeldModel implements ChatModel {
        final BlockingQueue<Held> entered = new LinkedBlockingQueue<>();
        final List<String> names = new CopyOnWriteArrayList<>();
        final AtomicInteger inside = new AtomicInteger();
        final AtomicInteger mostInside = new AtomicInteger();

        @Override
        public ChatResult complete(ObjectNode body, ChatListener listener, Cancellation cancellation)
                throws UpstreamException {
            Held held = new Held(body.path("n").asText(), new CompletableFuture<>());
            mostInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
            names.add(held.name);
            entered.add(held);
            try {
                // Longer than a caller's guard, so that a caller stuck behind a held call fails its test.
                return held.result.get(2 * GUARD_SECONDS, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                switch (e.getCause()) {
                    case UpstreamException upstream -> throw upstream;
                    case RuntimeException runtime -> throw runtime;
                    case Error error -> throw error;
                    default -> throw new AssertionError(e);
                }
            } catch (Exception e) {
                throw new AssertionError("the test never ended the call " + held.name, e);
            } finally {
                inside.decrementAndGet();
            }
        }

        /** The next call to enter; fails when none comes. */
        Held next() throws InterruptedException {
            Held held = entered.poll(GUARD_SECONDS, TimeUnit.SECONDS);
            if (held == null) {
                fail("no call reached the model");
            }
            return held;
        }
    }
}
