package io.spindle.sandbox;

import io.spindle.Settings;

/** Picks the backend the settings ask for: bubblewrap when it works here, else {@link Unavailable} saying why. */
public final class Sandboxes {
    private Sandboxes() {}

    /** The backend and what its probe found. */
    public record Choice(Sandbox sandbox, Sandbox.Probe probe) {}

    /**
     * Probes bubblewrap (a real sandbox starts and imports the data stack, about a second) and answers it when it works,
     * else {@link Unavailable} with the reason. {@code path}: the PATH to find {@code bwrap} on.
     */
    public static Choice choose(Settings.Sandboxing settings, String path) {
        if (!settings.enabled()) {
            return unavailable("it is turned off (SPINDLE_SANDBOX=off)");
        }
        return BubblewrapSandbox.findBwrap(path)
                .map(bwrap -> {
                    Sandbox sandbox = new BubblewrapSandbox(bwrap, Limits.of(settings));
                    Sandbox.Probe probe = sandbox.probe();
                    return probe.works() ? new Choice(sandbox, probe) : unavailable(probe.reason());
                })
                .orElseGet(() -> unavailable("bwrap is not installed; install the sandbox's Debian packages (README, code_interpreter)"));
    }

    private static Choice unavailable(String reason) {
        Unavailable none = new Unavailable(reason);
        return new Choice(none, none.probe());
    }
}
