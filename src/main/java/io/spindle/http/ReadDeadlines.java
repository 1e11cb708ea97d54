package io.spindle.http;

import io.helidon.http.Headers;
import io.helidon.http.HttpPrologue;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.http1.Http1ConnectionListener;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;

/**
 * Ends the connections of clients that send too slowly, so that trickled requests cannot hold
 * connections without end: the headers must arrive within the read timeout of the request line, and
 * a body may pause no longer than the read timeout between two reads. (The wait for a request line
 * is Helidon's idle timeout.) A read that overstays has its thread interrupted: a virtual thread
 * blocked in a socket read then fails with {@code ClosedByInterruptException}, which closes the
 * connection. Helidon reads a connection's requests, and runs their routes, on one thread.
 *
 * <p>Headers are watched through Helidon's receive listener (request line read → headers read);
 * bodies through {@link #guard}, a filter on the request's input stream.
 */
final class ReadDeadlines implements Http1ConnectionListener {
    private final long timeoutNanos;
    private final Map<Thread, Watch> watches = new ConcurrentHashMap<>();

    ReadDeadlines(Duration timeout) {
        this.timeoutNanos = timeout.toNanos();
    }

    /** Thrown by a guarded body read that was stopped for pausing longer than the read timeout. */
    static final class Expired extends IOException {
        Expired(Duration timeout, Throwable cause) {
            super("no data for " + timeout.toSeconds() + " s", cause);
        }
    }

    /** The request line was read: the headers must follow within the timeout. */
    @Override
    public void prologue(ConnectionContext ctx, HttpPrologue prologue) {
        start();
    }

    @Override
    public void headers(ConnectionContext ctx, Headers headers) {
        stop();
    }

    /** The request body as a stream whose reads are watched. */
    InputStream guard(InputStream body) {
        return new Guarded(body);
    }

    /**
     * Checks the watched reads every quarter of the timeout (at least every second) while
     * {@code running} holds, on a virtual thread of its own.
     */
    void sweepWhile(BooleanSupplier running) {
        long period = Math.min(Math.max(timeoutNanos / 4_000_000, 50), 1_000);
        Thread.ofVirtual().name("spindle-read-deadlines").start(() -> {
            while (running.getAsBoolean()) {
                try {
                    Thread.sleep(period);
                } catch (InterruptedException e) {
                    return;
                }
                sweep(System.nanoTime());
            }
        });
    }

    /** Interrupts the reads that overstayed; forgets the watches of connections that ended. */
    void sweep(long now) {
        for (Watch watch : watches.values()) {
            if (!watch.reader.isAlive()) {
                watches.remove(watch.reader, watch);
            } else if (now - watch.lastProgress > timeoutNanos) {
                watch.expire();
            }
        }
    }

    private Watch start() {
        Watch watch = new Watch(Thread.currentThread());
        watches.put(watch.reader, watch);
        return watch;
    }

    /** Ends the current thread's watch; returns whether it had expired (its interrupt is then cleared). */
    private boolean stop() {
        Watch watch = watches.remove(Thread.currentThread());
        return watch != null && watch.end();
    }

    /** One read phase of one connection. */
    private static final class Watch {
        final Thread reader;
        volatile long lastProgress = System.nanoTime();
        private boolean ended;
        private boolean expired;

        Watch(Thread reader) {
            this.reader = reader;
        }

        synchronized void expire() {
            if (!ended && !expired) {
                expired = true;
                reader.interrupt();
            }
        }

        /** After this, no interrupt can come from this watch, and one that came is cleared. */
        synchronized boolean end() {
            ended = true;
            if (expired) {
                Thread.interrupted();
            }
            return expired;
        }
    }

    /** A body stream whose reads are watched from the first read to the end of the body. */
    private final class Guarded extends FilterInputStream {
        private Watch watch;

        Guarded(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (watch == null) {
                watch = start();
            }
            int n;
            try {
                n = super.read(b, off, len);
            } catch (IOException | RuntimeException e) {
                if (finish()) {
                    throw new Expired(Duration.ofNanos(timeoutNanos), e);
                }
                throw e;
            }
            if (n < 0) {
                finish();
            } else {
                watch.lastProgress = System.nanoTime();
            }
            return n;
        }

        @Override
        public void close() throws IOException {
            try {
                super.close();
            } finally {
                finish();
            }
        }

        private boolean finish() {
            if (watch == null) {
                return false;
            }
            watch = null;
            return stop();
        }
    }
}
