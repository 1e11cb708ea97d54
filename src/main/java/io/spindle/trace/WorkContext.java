package io.spindle.trace;

import java.util.function.UnaryOperator;

/**
 * What the current thread works on, for the log lines it writes: the HTTP request (its {@code x-request-id}), the project,
 * and the thread and run where there are some (null where not). Set by the HTTP filter around a request and by the run
 * executor around a run, each putting back what was current before when its work ends.
 */
public record WorkContext(String requestId, String project, String threadId, String runId) {
    public static final WorkContext NONE = new WorkContext(null, null, null, null);
    private static final ThreadLocal<WorkContext> CURRENT = ThreadLocal.withInitial(() -> NONE);

    public static WorkContext current() {
        return CURRENT.get();
    }

    /** Makes {@code work} current until the returned binding is closed, which puts back what was current before. */
    public static Binding bind(WorkContext work) {
        WorkContext before = CURRENT.get();
        CURRENT.set(work);
        return () -> CURRENT.set(before);
    }

    /** Adds what became known on the way (the project once the key is checked, the thread once the run is read). */
    public static void update(UnaryOperator<WorkContext> change) {
        CURRENT.set(change.apply(CURRENT.get()));
    }

    public WorkContext withProject(String project) {
        return new WorkContext(requestId, project, threadId, runId);
    }

    public WorkContext withThread(String threadId) {
        return new WorkContext(requestId, project, threadId, runId);
    }

    /** A binding of {@link #bind}; closing it cannot fail. */
    public interface Binding extends AutoCloseable {
        @Override
        void close();
    }
}
