package io.spindle.sandbox;

/** The name of a file directly under {@code /mnt/data}: no folders, no {@code ..}, no control characters. */
public final class FileName {
    private static final int MAX_LENGTH = 255;

    private FileName() {}

    /** Returns {@code name} when it is one; else fails saying what is wrong with it. */
    public static String check(String name) {
        if (name == null || name.isEmpty()) {
            throw new SandboxException("a file name must not be empty");
        }
        if (name.equals(".") || name.equals("..") || name.contains("/")) {
            throw new SandboxException("a file name must not be '.', '..' or contain '/': '" + name + "'");
        }
        if (name.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new SandboxException("a file name must not contain control characters");
        }
        if (name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_LENGTH) {
            throw new SandboxException("a file name must be at most " + MAX_LENGTH + " bytes long");
        }
        return name;
    }
}
