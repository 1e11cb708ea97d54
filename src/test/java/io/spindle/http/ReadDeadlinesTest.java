package io.spindle.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** The watch on body reads, driven by explicit sweeps: a stalled read is stopped, a finished one leaves no trace. */
class ReadDeadlinesTest {
    private static final long LATER = Duration.ofHours(1).toNanos();

    /** A body that sends a few bytes and then nothing, as a stalled client does; a blocked read ends when interrupted. */
    private static final class StalledBody extends InputStream {
        final CountDownLatch blocked = new CountDownLatch(1);
        private int left = 3;

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0];
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left > 0) {
                int n = Math.min(left, len);
                left -= n;
                return n;
            }
            blocked.countDown();
            try {
                Thread.sleep(Long.MAX_VALUE);
            } catch (InterruptedException e) {
                throw new InterruptedIOException("interrupted");
            }
            return -1;
        }
    }

    @Test
    void aStalledReadIsStoppedAsExpired() throws Exception {
        ReadDeadlines deadlines = new ReadDeadlines(Duration.ofSeconds(5));
        StalledBody body = new StalledBody();
        CompletableFuture<Throwable> failure = new CompletableFuture<>();
        Thread reader = Thread.ofVirtual().start(() -> {
            try (InputStream in = deadlines.guard(body)) {
                in.readAllBytes();
                failure.complete(null);
            } catch (Throwable e) {
                failure.complete(e);
            }
        });
        assertThat(body.blocked.await(30, TimeUnit.SECONDS)).isTrue();
        deadlines.sweep(System.nanoTime());
        assertThat(reader.isAlive()).as("within the timeout, the read goes on").isTrue();
        deadlines.sweep(System.nanoTime() + LATER);
        assertThat(failure.get(30, TimeUnit.SECONDS)).isInstanceOf(ReadDeadlines.Expired.class).hasMessageContaining("5 s");
    }

    @Test
    void aFinishedReadLeavesNoInterrupt() throws ExecutionException, InterruptedException, TimeoutException {
        ReadDeadlines deadlines = new ReadDeadlines(Duration.ofSeconds(5));
        CompletableFuture<Boolean> interrupted = new CompletableFuture<>();
        CountDownLatch read = new CountDownLatch(1);
        CountDownLatch swept = new CountDownLatch(1);
        Thread.ofVirtual().start(() -> {
            try (InputStream in = deadlines.guard(new ByteArrayInputStream(new byte[100]))) {
                assertThat(in.readAllBytes()).hasSize(100);
                read.countDown();
                swept.await();
                interrupted.complete(Thread.currentThread().isInterrupted());
            } catch (Throwable e) {
                interrupted.completeExceptionally(e);
            }
        });
        assertThat(read.await(30, TimeUnit.SECONDS)).isTrue();
        deadlines.sweep(System.nanoTime() + LATER);
        swept.countDown();
        assertThat(interrupted.get(30, TimeUnit.SECONDS)).isFalse();
    }
}
