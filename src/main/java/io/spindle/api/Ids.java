package io.spindle.api;

import java.security.SecureRandom;

/** Object ids with OpenAI's prefixes and lengths, from a secure random source. */
public final class Ids {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final char[] BASE62 =
            "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray();
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    public static final String ASSISTANT = "asst_";
    public static final String THREAD = "thread_";
    public static final String MESSAGE = "msg_";
    public static final String RUN = "run_";
    public static final String STEP = "step_";
    public static final String CALL = "call_";
    public static final String FILE = "file-";
    public static final String VECTOR_STORE = "vs_";

    private Ids() {}

    public static String assistant() { return ASSISTANT + base62(24); }
    public static String thread() { return THREAD + base62(24); }
    public static String message() { return MESSAGE + base62(24); }
    public static String run() { return RUN + base62(24); }
    public static String step() { return STEP + base62(24); }
    public static String call() { return CALL + base62(24); }
    public static String file() { return FILE + base62(22); }
    public static String vectorStore() { return VECTOR_STORE + hex(32); }
    public static String request() { return "req_" + hex(32); }

    private static String base62(int length) {
        char[] out = new char[length];
        for (int i = 0; i < length; i++) {
            out[i] = BASE62[RANDOM.nextInt(BASE62.length)];
        }
        return new String(out);
    }

    private static String hex(int length) {
        char[] out = new char[length];
        for (int i = 0; i < length; i++) {
            out[i] = HEX[RANDOM.nextInt(HEX.length)];
        }
        return new String(out);
    }

    /**
     * Checks the prefix of an id taken from a path or body; OpenAI answered a wrong prefix with
     * {@code Invalid 'thread_id': 'abc'. Expected an ID that begins with 'thread'.}
     */
    public static String require(String param, String value, String prefix) {
        if (value == null || !value.startsWith(prefix) || value.length() == prefix.length()) {
            String word = prefix.substring(0, prefix.length() - 1);
            throw ApiException.invalid("Invalid '" + param + "': '" + value + "'. Expected an ID that begins with '" + word + "'.",
                    param, "invalid_value");
        }
        return value;
    }
}
