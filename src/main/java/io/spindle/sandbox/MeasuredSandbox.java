package io.spindle.sandbox;

import io.spindle.metrics.Metrics;
import java.io.InputStream;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/** A sandbox whose sessions report every cell they run: its outcome and how long it took. */
public final class MeasuredSandbox implements Sandbox {
    private final Sandbox sandbox;
    private final Metrics metrics;

    public MeasuredSandbox(Sandbox sandbox, Metrics metrics) {
        this.sandbox = sandbox;
        this.metrics = metrics;
    }

    @Override
    public Probe probe() {
        return sandbox.probe();
    }

    @Override
    public Session open(String sessionId) {
        return new MeasuredSession(sandbox.open(sessionId));
    }

    private final class MeasuredSession implements Session {
        private final Session session;

        MeasuredSession(Session session) {
            this.session = session;
        }

        @Override
        public Execution execute(String code, Duration limit, BooleanSupplier stop) {
            long start = System.nanoTime();
            String outcome = "failed";
            try {
                Execution execution = session.execute(code, limit, stop);
                outcome = outcome(execution);
                return execution;
            } finally {
                metrics.codeExecuted(outcome, Duration.ofNanos(System.nanoTime() - start));
            }
        }

        private static String outcome(Execution execution) {
            if (execution.timedOut()) {
                return "timed_out";
            }
            if (execution.sessionEnded()) {
                return "session_ended";
            }
            return execution.error().isPresent() ? "error" : "ok";
        }

        @Override
        public String id() {
            return session.id();
        }

        @Override
        public boolean alive() {
            return session.alive();
        }

        @Override
        public void putFile(String name, InputStream content) {
            session.putFile(name, content);
        }

        @Override
        public byte[] readFile(String name) {
            return session.readFile(name);
        }

        @Override
        public void close() {
            session.close();
        }
    }
}
