package io.spindle.sandbox;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Starts sandbox processes from one long-lived platform thread. bwrap's {@code --die-with-parent} ties the sandbox to
 * the thread that started it: started from a short-lived (or virtual) thread, it would die with that thread.
 */
final class Launcher {
    private static final ExecutorService THREAD = Executors.newSingleThreadExecutor(task -> {
        Thread thread = new Thread(task, "spindle-sandbox-launcher");
        thread.setDaemon(true);
        return thread;
    });

    private Launcher() {}

    static Process start(List<String> command) throws IOException {
        try {
            return THREAD.submit(() -> new ProcessBuilder(command).start()).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting the sandbox", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
    }
}
