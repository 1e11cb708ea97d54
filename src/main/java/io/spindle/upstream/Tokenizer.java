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
 */
public final class Tokenizer {
    private static final EncodingRegistry REGISTRY = Encodings.newLazyEncodingRegistry();
    /** Tokens a chat message costs beyond its text (role, separators), as OpenAI documents it. */
    public static final int PER_MESSAGE = 4;

    private Tokenizer() {}

    public static int count(String model, String text) {
        if (text == null || text.isEmpty()) {
            return 0;
        }
        return encodingFor(model).countTokensOrdinary(text);
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
