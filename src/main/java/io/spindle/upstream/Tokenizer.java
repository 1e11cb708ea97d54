package io.spindle.upstream;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;

/**
 * Counts tokens when the upstream does not report usage, and for truncation. jtokkit's own model
 * map stops at gpt-4o, so the model name picks the encoding here: o200k_base for the gpt-4o,
 * gpt-4.1, gpt-5 and o-series families, cl100k_base for everything else (a fair estimate for
 * other vendors' models too).
 *
 * <p>jtokkit's cost grows faster than the text when the text has no whitespace: 1 MiB of letters took a second and
 * hundreds of MiB, and 10 MiB ran a 1 GiB heap out of memory. So text is counted in windows of at most
 * {@value #WINDOW} characters, cut before a space where there is one (the count stays exact for prose) and anywhere
 * otherwise; text longer than {@value #EXACT_CHARS} characters is estimated from {@value #SAMPLES} windows spread over
 * it. Either way a count costs at most about 20 ms and a few MiB, whatever the text.
 */
public final class Tokenizer {
    private static final EncodingRegistry REGISTRY = Encodings.newLazyEncodingRegistry();
    static final int WINDOW = 4_096;
    static final int SAMPLES = 16;
    static final int EXACT_CHARS = WINDOW * SAMPLES;
    /** Tokens a chat message costs beyond its text (role, separators), as OpenAI documents it. */
    public static final int PER_MESSAGE = 4;

    private Tokenizer() {}

    public static int count(String model, String text) {
        if (text == null || text.isEmpty()) {
            return 0;
        }
        Encoding encoding = encodingFor(model);
        if (text.length() <= EXACT_CHARS) {
            int tokens = 0;
            for (int start = 0; start < text.length(); ) {
                int end = windowEnd(text, start);
                tokens += encoding.countTokensOrdinary(text.substring(start, end));
                start = end;
            }
            return tokens;
        }
        long tokens = 0;
        long chars = 0;
        for (int i = 0; i < SAMPLES; i++) {
            int start = (int) ((long) i * (text.length() - WINDOW) / (SAMPLES - 1));
            int end = windowEnd(text, start);
            tokens += encoding.countTokensOrdinary(text.substring(start, end));
            chars += end - start;
        }
        return (int) Math.min(Integer.MAX_VALUE, Math.round((double) tokens * text.length() / chars));
    }

    /** Where the window starting at {@code start} ends: before its last space in its second half, else at its size. */
    static int windowEnd(String text, int start) {
        int end = start + WINDOW;
        if (end >= text.length()) {
            return text.length();
        }
        for (int i = end; i > start + WINDOW / 2; i--) {
            if (text.charAt(i) == ' ' && !Character.isWhitespace(text.charAt(i - 1))) {
                return i;
            }
        }
        return Character.isHighSurrogate(text.charAt(end - 1)) ? end - 1 : end;
    }

    static Encoding encodingFor(String model) {
        String m = model == null ? "" : model.toLowerCase(java.util.Locale.ROOT);
        int slash = m.lastIndexOf('/');
        if (slash >= 0) {
            m = m.substring(slash + 1);
        }
        boolean o200k = m.startsWith("gpt-4o") || m.startsWith("gpt-4.1") || m.startsWith("gpt-4.5") || m.startsWith("gpt-5")
                || m.startsWith("chatgpt-4o") || m.matches("^o\\d.*");
        return REGISTRY.getEncoding(o200k ? EncodingType.O200K_BASE : EncodingType.CL100K_BASE);
    }
}
