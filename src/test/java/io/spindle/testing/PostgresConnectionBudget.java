package io.spindle.testing;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class during which this JVM's test databases held more than {@link #BUDGET}
 * PostgreSQL connections at once (sampled by {@link TestPostgres}). The suite shares one PostgreSQL
 * (limit: 100 connections) with whatever else runs on the machine; test classes run one after
 * another, so the largest class peak is the suite's. Registered for every class through
 * {@code META-INF/services} and {@code junit-platform.properties}.
 */
public final class PostgresConnectionBudget implements BeforeAllCallback, AfterAllCallback {
    /** A cluster of three nodes with pools of {@link TestServer#POOL_SIZE} takes 12; this leaves room and catches leaks. */
    static final int BUDGET = 30;

    @Override
    public void beforeAll(ExtensionContext context) {
        if (isTopLevelClass(context)) {
            TestPostgres.takePeakConnections();
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (!isTopLevelClass(context)) {
            return; // a nested class or a class invocation: its top-level class counts the whole time
        }
        int peak = TestPostgres.takePeakConnections();
        if (peak > BUDGET) {
            throw new AssertionError(context.getDisplayName() + ": the test databases held " + peak
                    + " PostgreSQL connections at once, more than the suite's budget of " + BUDGET
                    + " (keep test pools small: TestServer.POOL_SIZE, and close servers when done)");
        }
    }

    private static boolean isTopLevelClass(ExtensionContext context) {
        return context.getParent().equals(java.util.Optional.of(context.getRoot()));
    }
}
