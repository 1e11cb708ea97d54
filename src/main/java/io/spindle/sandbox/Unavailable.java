package io.spindle.sandbox;

/** The backend when none works here: it runs nothing, and says why. Model-written code never runs unsandboxed. */
public record Unavailable(String reason) implements Sandbox {

    @Override
    public Probe probe() {
        return Probe.broken(reason);
    }

    @Override
    public Session open(String sessionId) {
        throw new SandboxException("code_interpreter is not available on this server: " + reason);
    }
}
