package io.spindle.sandbox;

import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The backend {@link Sandboxes#choose} picks, chosen on a background thread: its probe starts a real sandbox (about a
 * second), which a server's start need not wait for. The first use waits for the choice; later uses reuse it.
 */
public final class ChosenInBackground implements Sandbox {
    private final CompletableFuture<Sandboxes.Choice> choice;

    public ChosenInBackground(Supplier<Sandboxes.Choice> choose) {
        this.choice = CompletableFuture.supplyAsync(choose, task -> Thread.ofVirtual().name("sandbox-probe").start(task));
    }

    /** Runs {@code action} with the choice once it is made (logging what it found, say). */
    public void whenChosen(Consumer<Sandboxes.Choice> action) {
        choice.thenAccept(action);
    }

    @Override
    public Probe probe() {
        return choice.join().probe();
    }

    @Override
    public Session open(String sessionId) {
        return choice.join().sandbox().open(sessionId);
    }
}
