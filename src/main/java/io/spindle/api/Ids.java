package io.spindle.api;

import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;

/** Object ids with OpenAI's prefixes and lengths, from a secure random source. */
public final class Ids {
    /**
     * DRBG draws from the operating system only to seed itself; the default (NativePRNG) reads
     * /dev/urandom under a global lock on every call.
     */
    private static final SecureRandom RANDOM = drbg();
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
    public static final String FILE_BATCH = "vsfb_";

    private Ids() {}

    public static String assistant() { return ASSISTANT + random(24, BASE62); }
    public static String thread() { return THREAD + random(24, BASE62); }
    public static String message() { return MESSAGE + random(24, BASE62); }
    public static String run() { return RUN + random(24, BASE62); }
    public static String step() { return STEP + random(24, BASE62); }
    public static String call() { return CALL + random(24, BASE62); }
    public static String file() { return FILE + random(22, BASE62); }
    public static String vectorStore() { return VECTOR_STORE + random(32, HEX); }
    public static String fileBatch() { return FILE_BATCH + random(32, HEX); }
    /** The row key of a file in a vector store (the work queue's id; the API names the row by its file id). */
    public static String vectorStoreFile() { return "vsf_" + random(32, HEX); }
    public static String request() { return "req_" + random(32, HEX); }

    /**
     * Uniform characters of {@code alphabet} (at most 64 of them) from one draw of random bytes: each
     * byte's low bits index the alphabet, and bytes past its end are skipped. A draw per character
     * cost five times as much.
     */
    private static String random(int length, char[] alphabet) {
        int mask = Integer.highestOneBit(alphabet.length * 2 - 1) - 1;
        char[] out = new char[length];
        byte[] bytes = new byte[length * 2];
        int used = bytes.length;
        for (int i = 0; i < length; ) {
            if (used == bytes.length) {
                RANDOM.nextBytes(bytes);
                used = 0;
            }
            int index = bytes[used++] & mask;
            if (index < alphabet.length) {
                out[i++] = alphabet[index];
            }
        }
        return new String(out);
    }

    private static SecureRandom drbg() {
        try {
            return SecureRandom.getInstance("DRBG");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JDK has no DRBG SecureRandom", e);
        }
    }

    /**
     * Checks the prefix of an id taken from a path or body; OpenAI answered a wrong prefix with
     * {@code Invalid 'thread_id': 'abc'. Expected an ID that begins with 'thread'.} An id holding a
     * control character (a NUL, which PostgreSQL cannot even compare) is malformed the same way.
     */
    public static String require(String param, String value, String prefix) {
        if (value == null || !value.startsWith(prefix) || value.length() == prefix.length()) {
            String word = prefix.substring(0, prefix.length() - 1);
            throw ApiException.invalid("Invalid '" + param + "': '" + value + "'. Expected an ID that begins with '" + word + "'.",
                    param, "invalid_value");
        }
        if (hasControlCharacter(value)) {
            throw ApiException.invalid("Invalid '" + param + "': '" + value + "'. An ID cannot contain control characters.",
                    param, "invalid_value");
        }
        return value;
    }

    public static boolean hasControlCharacter(String value) {
        for (int i = 0; i < value.length(); i++) {
            if (Character.isISOControl(value.charAt(i))) {
                return true;
            }
        }
        return false;
    }
}
