package io.spindle.sandbox;

/**
 * Where model-written Python runs: a backend that isolates it from the host. {@link #probe()} says whether it works
 * here; {@link #open(String)} starts a session, one live Python process with its own {@code /mnt/data}.
 */
public interface Sandbox {

    Probe probe();

    /** Starts a session; fails with {@link SandboxException} when the backend does not work or the kernel does not start. */
    Session open(String sessionId);

    /** Whether the backend works, and when not, why, in words an operator can act on. */
    record Probe(boolean works, String reason) {
        public static Probe working(String how) {
            return new Probe(true, how);
        }

        public static Probe broken(String why) {
            return new Probe(false, why);
        }
    }
}
