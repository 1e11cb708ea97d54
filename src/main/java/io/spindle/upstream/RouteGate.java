package io.spindle.upstream;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindle.upstream.CircuitBreaker.Admission;
import io.spindle.upstream.UpstreamException.Kind;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.logging.Logger;

/**
 * One route's limits around its model: at most {@code maxConcurrent} calls in it at once (0: no cap), the others
 * waiting their turn in arrival order until their cancellation; and a {@link CircuitBreaker} that makes calls fail
 * at once, with {@code server_error} and a message naming the route, while the endpoint keeps failing.
 */
public final class RouteGate implements ChatModel, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(RouteGate.class.getName());

    /**
     * The failures that say the endpoint is broken. SERVER (5xx, unreachable, silent, malformed answers; each one
     * already after the client's retries) and REFUSED (401/403/404: a wrong key or a removed deployment fails every
     * call until someone fixes it) are the endpoint's state, not the run's; TOO_LARGE is an endpoint sending streams
     * past every limit. Not counted: INVALID_PROMPT is the endpoint judging one prompt (it works, and counting would
     * let one app's bad prompts shut every other app out); RATE_LIMIT is a working endpoint asking for patience,
     * which the client's backoff already gives, and opening would turn short throttling into a cooldown of certain
     * failures; ABORTED is Spindle's own decision and says nothing about the endpoint.
     */
    private static final Set<Kind> ENDPOINT_FAILURES = EnumSet.of(Kind.SERVER, Kind.REFUSED, Kind.TOO_LARGE);

    private final String routeName;
    private final ChatModel inner;
    /** Fair, so waiting calls go in arrival order; null when the route has no cap. */
    private final Semaphore permits;
    private final CircuitBreaker breaker;

    public RouteGate(String routeName, ChatModel inner, int maxConcurrent, CircuitBreaker breaker) {
        if (maxConcurrent < 0) {
            throw new IllegalArgumentException("maxConcurrent may not be negative");
        }
        this.routeName = routeName;
        this.inner = inner;
        this.permits = maxConcurrent == 0 ? null : new Semaphore(maxConcurrent, true);
        this.breaker = breaker;
    }

    @Override
    public ChatResult complete(ObjectNode body, ChatListener listener, Cancellation cancellation)
            throws UpstreamException {
        // Checked before waiting too, so that calls to a failing endpoint do not queue behind the calls still in it.
        if (!breaker.admits()) {
            throw refused();
        }
        awaitTurn(cancellation);
        try {
            return callThroughBreaker(body, listener, cancellation);
        } finally {
            if (permits != null) {
                permits.release();
            }
        }
    }

    private ChatResult callThroughBreaker(ObjectNode body, ChatListener listener, Cancellation cancellation)
            throws UpstreamException {
        Admission admission = breaker.admit();
        if (admission == Admission.REFUSED) {
            throw refused();
        }
        boolean reported = false;
        try {
            ChatResult result = inner.complete(body, listener, cancellation);
            reported = true;
            if (breaker.succeeded()) {
                LOG.info(() -> "route '" + routeName + "': the model endpoint answers again; calls to it resume");
            }
            return result;
        } catch (UpstreamException e) {
            if (ENDPOINT_FAILURES.contains(e.kind())) {
                reported = true;
                if (breaker.failed(admission)) {
                    logOpened(admission, e);
                }
            }
            throw e;
        } finally {
            if (!reported) {
                breaker.abandoned(admission);
            }
        }
    }

    /**
     * Waits for a permit without holding a thread of its own (runs are virtual threads, which park); a cancellation
     * interrupts the wait. With a cap, on return the caller holds a permit and the call is not cancelled; without
     * one it returns at once (a cancelled call is then ended by the model call itself).
     */
    private void awaitTurn(Cancellation cancellation) throws UpstreamException {
        if (permits == null) {
            return;
        }
        Thread waiting = Thread.currentThread();
        boolean acquired = false;
        try (Cancellation.Hook hook = cancellation.whileRunning(waiting::interrupt)) {
            permits.acquire();
            acquired = true;
        } catch (InterruptedException e) {
            if (!cancellation.isCancelled()) {
                waiting.interrupt();
                throw new UpstreamException(Kind.ABORTED, "interrupted");
            }
        }
        // The hook is closed: no interrupt can come any more. One that came after the permit is the cancellation's.
        if (cancellation.isCancelled()) {
            Thread.interrupted();
            if (acquired) {
                permits.release();
            }
            throw new UpstreamException(Kind.ABORTED, "aborted: " + cancellation.reason());
        }
    }

    private UpstreamException refused() {
        Duration openFor = breaker.openFor();
        String meanwhile = openFor.isZero()
                ? "Spindle is trying it with one call before it sends others."
                : "Spindle stops calling it for " + seconds(openFor) + " s.";
        return new UpstreamException(Kind.SERVER, "The model endpoint of route '" + routeName + "' failed "
                + times(breaker.failures()) + " in a row; " + meanwhile);
    }

    private void logOpened(Admission admission, UpstreamException last) {
        String why = admission == Admission.TRIAL
                ? "the trial call after the cooldown failed"
                : "the model endpoint failed " + times(breaker.failures()) + " in a row";
        LOG.warning(() -> "route '" + routeName + "': " + why + "; calls to it fail at once for "
                + seconds(breaker.cooldown()) + " s. Last error: " + last.forLog());
    }

    private static String times(int n) {
        return n == 1 ? "1 time" : n + " times";
    }

    /** Whole seconds, rounded up, so a wait under a second does not read as 0 s. */
    private static long seconds(Duration duration) {
        return (duration.toMillis() + 999) / 1000;
    }

    /** Closes the route's model client, when it is one to close. */
    @Override
    public void close() throws Exception {
        if (inner instanceof AutoCloseable closeable) {
            closeable.close();
        }
    }
}
