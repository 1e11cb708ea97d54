package io.spindle.ingest;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.IntArrayList;
import io.spindle.api.ChunkingStrategy;
import java.util.ArrayList;
import java.util.List;

/**
 * Cuts a document's text into token windows, OpenAI's {@code static} chunking: chunks of at most
 * {@code maxTokens} tokens, each starting {@code overlapTokens} tokens before the previous one
 * ended, the last one ending with the text.
 *
 * <p>Chunks are cut on character offsets computed from token boundaries, never by decoding token
 * windows: a token may hold part of a character's UTF-8 bytes (an emoji is often three tokens),
 * and decoding a window cut there gives replacement characters. A boundary inside a character is
 * moved to that character's end, so every chunk is a plain substring of the document.
 *
 * <p>Where a window ends, the chunk may end up to an eighth of {@code maxTokens} earlier, at the
 * best boundary in that stretch: after a blank line, else a line break, else a sentence's end,
 * else between words, the latest of equals. The overlap stays exact.
 *
 * <p>Cost is linear in the text: it is encoded in pieces of at most {@link #PIECE_CHARS} characters,
 * cut before a space (where the tokenizer's own pre-split cuts too, so counts stay the same), or
 * anywhere in a run without spaces; jtokkit's merging is superlinear in the length of one such run.
 * Memory is one int per token plus the chunks.
 */
public final class Chunker {
    /** The longest stretch of text encoded at once. */
    static final int PIECE_CHARS = 4096;
    private static final Encoding CL100K = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.CL100K_BASE);

    private final Encoding encoding;

    /** Counting in cl100k_base, the encoding of OpenAI's embedding models. */
    public Chunker() {
        this(CL100K);
    }

    public Chunker(Encoding encoding) {
        this.encoding = encoding;
    }

    public List<Chunk> chunk(String text, ChunkingStrategy strategy) {
        return chunk(text, strategy.maxChunkSizeTokens(), strategy.chunkOverlapTokens());
    }

    public List<Chunk> chunk(String text, int maxTokens, int overlapTokens) {
        if (maxTokens < 1 || overlapTokens < 0 || overlapTokens > maxTokens / 2) {
            throw new IllegalArgumentException("chunks of " + maxTokens + " tokens cannot overlap by " + overlapTokens);
        }
        int[] ends = tokenEnds(text);
        int slack = maxTokens / 8;
        List<Chunk> chunks = new ArrayList<>();
        for (int first = 0; first < ends.length; ) {
            int last = Math.min(first + maxTokens, ends.length);
            if (last < ends.length) {
                last = betterEnd(text, ends, last, slack);
            }
            int from = first == 0 ? 0 : ends[first - 1];
            int to = ends[last - 1];
            if (to > from) { // tokens that are the tail of one character are empty on their own
                chunks.add(new Chunk(text.substring(from, to), last - first, from, to));
            }
            if (last == ends.length) {
                break;
            }
            first = last - overlapTokens;
        }
        return chunks;
    }

    /**
     * Where each token ends, as a character offset into {@code text}: token {@code i} spans
     * {@code [ends[i-1], ends[i])}. A token ending inside a character ends after it instead (and
     * the rest of that character's tokens are empty).
     */
    int[] tokenEnds(String text) {
        IntArrayList ends = new IntArrayList(text.length() / 3 + 16);
        IntArrayList one = new IntArrayList(1);
        for (int pieceStart = 0; pieceStart < text.length(); ) {
            int pieceEnd = pieceEnd(text, pieceStart);
            IntArrayList tokens = encoding.encodeOrdinary(Texts.wellFormed(text.substring(pieceStart, pieceEnd)));
            int chars = pieceStart;
            long bytesOfChars = 0;
            long bytesOfTokens = 0;
            for (int i = 0; i < tokens.size(); i++) {
                one.clear();
                one.add(tokens.get(i));
                bytesOfTokens += encoding.decodeBytes(one).length;
                while (bytesOfChars < bytesOfTokens && chars < pieceEnd) {
                    int c = text.codePointAt(chars);
                    bytesOfChars += utf8Length(c);
                    chars += Character.charCount(c);
                }
                ends.add(chars);
            }
            if (!tokens.isEmpty()) {
                ends.set(ends.size() - 1, pieceEnd); // whatever the arithmetic, the piece's last token ends it
            }
            pieceStart = pieceEnd;
        }
        return ends.toArray();
    }

    /**
     * The end of the piece starting at {@code start}: the last space that follows a non-space
     * within {@link #PIECE_CHARS}, else the last such whitespace of any kind, else the limit itself
     * (not between the two halves of a surrogate pair).
     */
    static int pieceEnd(String text, int start) {
        int limit = start + PIECE_CHARS;
        if (limit >= text.length()) {
            return text.length();
        }
        int anyWhitespace = -1;
        for (int i = limit; i > start; i--) {
            char c = text.charAt(i);
            if (Character.isWhitespace(c) && !Character.isWhitespace(text.charAt(i - 1))) {
                if (c == ' ') {
                    return i;
                }
                if (anyWhitespace < 0) {
                    anyWhitespace = i;
                }
            }
        }
        if (anyWhitespace > 0) {
            return anyWhitespace;
        }
        return Character.isHighSurrogate(text.charAt(limit - 1)) && Character.isLowSurrogate(text.charAt(limit)) ? limit - 1 : limit;
    }

    /** The best token boundary in {@code [last - slack, last]}, latest first among equals. */
    private static int betterEnd(String text, int[] ends, int last, int slack) {
        int best = last;
        int bestRank = rank(text, ends[last - 1]);
        for (int candidate = last - 1; candidate >= last - slack && candidate > 0; candidate--) {
            int rank = rank(text, ends[candidate - 1]);
            if (rank > bestRank) {
                best = candidate;
                bestRank = rank;
            }
        }
        return best;
    }

    /** How good a place {@code at} (0 < at < length) is to end a chunk: 4 after a blank line … 0 inside a word. */
    static int rank(String text, int at) {
        char before = text.charAt(at - 1);
        char after = text.charAt(at);
        if (before == '\n') {
            int i = at - 2;
            if (i >= 0 && text.charAt(i) == '\r') {
                i--;
            }
            return i >= 0 && text.charAt(i) == '\n' ? 4 : 3;
        }
        if ("。！？".indexOf(before) >= 0 || (".!?".indexOf(before) >= 0 && Character.isWhitespace(after))) {
            return 2;
        }
        return Character.isWhitespace(before) || Character.isWhitespace(after) ? 1 : 0;
    }

    /** The UTF-8 length of a code point; a lone surrogate was encoded as U+FFFD, three bytes. */
    private static int utf8Length(int codePoint) {
        return codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
    }
}
