package io.spindle.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** SessionPool over the real sandbox, with a clock the test moves. */
class SessionPoolTest {
    private static final Duration LIMIT = Duration.ofSeconds(60);
    private static final Duration IDLE = Duration.ofMinutes(20);
    private static BubblewrapSandbox sandbox;
    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-11-01T10:00:00Z"));

    @BeforeAll
    static void start() {
        sandbox = RealSandbox.start();
    }

    private SessionPool pool(int maxSessions) {
        return new SessionPool(sandbox, IDLE, maxSessions, now::get);
    }

    private static String run(SessionPool pool, String key, String code) {
        return pool.use(key, session -> {
            Execution cell = session.execute(code, LIMIT);
            return cell.error().orElse(cell.logs());
        });
    }

    private static String sessionId(SessionPool pool, String key) {
        return pool.use(key, Session::id);
    }

    @Test
    void aKeyKeepsItsSessionUntilIdleTooLongThenStartsAFreshOne() {
        try (SessionPool pool = pool(4)) {
            run(pool, "thread_a", "x = 'a'");
            run(pool, "thread_b", "x = 'b'");
            assertThat(run(pool, "thread_a", "x")).isEqualTo("'a'\n");
            assertThat(run(pool, "thread_b", "x")).isEqualTo("'b'\n");
            String first = sessionId(pool, "thread_a");

            now.set(now.get().plus(IDLE).minusSeconds(1));
            pool.sweep();
            assertThat(pool.size()).isEqualTo(2);

            now.set(now.get().plusSeconds(2));
            pool.sweep();
            assertThat(pool.size()).isZero();
            assertThat(RealSandbox.processesOf(first)).isZero();
            assertThat(run(pool, "thread_a", "x")).endsWith("NameError: name 'x' is not defined");
        }
    }

    @Test
    void aSessionLivesAnHourAtMostEvenWhenUsed() {
        try (SessionPool pool = pool(4)) {
            run(pool, "thread_a", "x = 1");
            String first = sessionId(pool, "thread_a");
            for (int i = 0; i < 6; i++) {
                now.set(now.get().plus(Duration.ofMinutes(10)));
                run(pool, "thread_a", "x");
            }
            now.set(now.get().plusSeconds(1));
            assertThat(run(pool, "thread_a", "x")).endsWith("NameError: name 'x' is not defined");
            assertThat(sessionId(pool, "thread_a")).isNotEqualTo(first);
            assertThat(RealSandbox.processesOf(first)).isZero();
        }
    }

    @Test
    void pastTheCapTheLongestIdleSessionEndsAndWhenAllAreBusyTheCallFails() throws Exception {
        try (SessionPool pool = pool(2)) {
            run(pool, "thread_a", "x = 'a'");
            now.set(now.get().plusSeconds(1));
            run(pool, "thread_b", "x = 'b'");
            String a = sessionId(pool, "thread_a");
            now.set(now.get().plusSeconds(1));
            run(pool, "thread_b", "x");

            run(pool, "thread_c", "x = 'c'");
            assertThat(pool.size()).isEqualTo(2);
            assertThat(RealSandbox.processesOf(a)).as("thread_a's session, the longest idle").isZero();
            assertThat(run(pool, "thread_b", "x")).isEqualTo("'b'\n");

            CountDownLatch inside = new CountDownLatch(2);
            CountDownLatch leave = new CountDownLatch(1);
            Thread busyB = Thread.ofVirtual().start(() -> pool.use("thread_b", s -> { inside.countDown(); await(leave); return null; }));
            Thread busyC = Thread.ofVirtual().start(() -> pool.use("thread_c", s -> { inside.countDown(); await(leave); return null; }));
            inside.await();
            assertThatThrownBy(() -> run(pool, "thread_d", "1")).isInstanceOf(SandboxException.class)
                    .hasMessageContaining("SPINDLE_SANDBOX_MAX_SESSIONS");
            leave.countDown();
            busyB.join();
            busyC.join();
        }
    }

    @Test
    void aSessionThatEndedIsReplacedOnTheNextUse() {
        try (SessionPool pool = pool(2)) {
            run(pool, "thread_a", "x = 1");
            assertThat(run(pool, "thread_a", "import os\nos._exit(1)")).contains("ended");
            assertThat(run(pool, "thread_a", "'fresh'")).isEqualTo("'fresh'\n");
        }
    }

    @Test
    void closingThePoolLeavesNoProcessBehindAndRefusesNewWork() {
        SessionPool pool = pool(4);
        run(pool, "thread_a", "1");
        run(pool, "thread_b", "1");
        String a = sessionId(pool, "thread_a");
        String b = sessionId(pool, "thread_b");
        assertThat(RealSandbox.processesOf(a)).isPositive();
        pool.close();
        assertThat(RealSandbox.processesOf(a)).isZero();
        assertThat(RealSandbox.processesOf(b)).isZero();
        assertThatThrownBy(() -> run(pool, "thread_a", "1")).isInstanceOf(SandboxException.class);
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
