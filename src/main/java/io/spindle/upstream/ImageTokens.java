package io.spindle.upstream;

/**
 * What an image costs in prompt tokens, as OpenAI documented it for gpt-4o-class models: {@code detail: low} is 85;
 * otherwise the image is scaled to fit 2048×2048, then so its shortest side is 768 (images are only ever scaled
 * down), and each 512-pixel tile of the result costs 170, plus 85. {@code auto} counts as {@code high}: the model
 * may choose either, and a budget should not count low. Used when the upstream reports no usage, and for the prompt
 * budget.
 */
public final class ImageTokens {
    static final int BASE = 85;
    static final int PER_TILE = 170;
    private static final double FIT = 2048;
    private static final double SHORTEST_SIDE = 768;
    private static final long TILE = 512;
    /** The size assumed for an image whose size is not known (a remote URL): 1024×1024, 765 tokens in high detail. */
    static final int UNKNOWN_SIDE = 1024;

    private ImageTokens() {}

    /** An image of {@code width}×{@code height} pixels at {@code detail} ({@code low}, {@code high}, {@code auto} or null). */
    public static int count(int width, int height, String detail) {
        if ("low".equals(detail) || width <= 0 || height <= 0) {
            return BASE;
        }
        double fit = Math.min(1, FIT / Math.max(width, height));
        // a resized image has whole pixels
        long w = Math.max(1, Math.round(width * fit));
        long h = Math.max(1, Math.round(height * fit));
        double shorten = Math.min(1, SHORTEST_SIDE / Math.min(w, h));
        w = Math.round(w * shorten);
        h = Math.round(h * shorten);
        long tiles = Math.ceilDiv(w, TILE) * Math.ceilDiv(h, TILE);
        return (int) (PER_TILE * tiles + BASE);
    }

    /** An image whose size is not known, counted as {@value #UNKNOWN_SIDE}×{@value #UNKNOWN_SIDE}. */
    public static int unknownSize(String detail) {
        return count(UNKNOWN_SIDE, UNKNOWN_SIDE, detail);
    }
}
