package io.spindle.api;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Set;

/**
 * How a file is cut into chunks for file_search: windows of {@code maxChunkSizeTokens} tokens, each
 * sharing {@code chunkOverlapTokens} with the one before. OpenAI's {@code auto} is 800/400, and it
 * is echoed as that static strategy ({@code {"type":"static","static":{...}}}), whatever was asked.
 * Jackson writes and reads the record in that shape.
 */
public record ChunkingStrategy(int maxChunkSizeTokens, int chunkOverlapTokens) {
    public static final int MIN_CHUNK_SIZE_TOKENS = 100;
    public static final int MAX_CHUNK_SIZE_TOKENS = 4096;
    public static final ChunkingStrategy AUTO = new ChunkingStrategy(800, 400);

    public ChunkingStrategy {
        if (maxChunkSizeTokens < MIN_CHUNK_SIZE_TOKENS || maxChunkSizeTokens > MAX_CHUNK_SIZE_TOKENS
                || chunkOverlapTokens < 0 || chunkOverlapTokens > maxChunkSizeTokens / 2) {
            throw new IllegalArgumentException("chunking strategy out of range: " + maxChunkSizeTokens + "/" + chunkOverlapTokens);
        }
    }

    /**
     * The {@code key} of a request body ({@code chunking_strategy}): {@code {"type":"auto"}} or
     * {@code {"type":"static","static":{"max_chunk_size_tokens":N,"chunk_overlap_tokens":M}}};
     * absent or {@code null} is auto. Errors name the parameter by its full path.
     */
    public static ChunkingStrategy parse(Body body, String key) {
        JsonNode value = body.raw(key);
        return value == null ? AUTO : parse(value, body.param(key));
    }

    /** The strategy object found at {@code param}. */
    public static ChunkingStrategy parse(JsonNode value, String param) {
        Body strategy = Body.nested(value, param, Set.of("type", "static"));
        String type = strategy.choice("type", List.of("auto", "static"));
        if (type == null) {
            throw Body.missing(strategy.param("type"));
        }
        if (type.equals("auto")) {
            if (strategy.has("static")) {
                throw ApiException.invalid("Unknown parameter: '" + strategy.param("static") + "'.",
                        strategy.param("static"), "unknown_parameter");
            }
            return AUTO;
        }
        Body sizes = strategy.object("static", Set.of("max_chunk_size_tokens", "chunk_overlap_tokens"));
        if (sizes == null) {
            throw Body.missing(strategy.param("static"));
        }
        Long max = sizes.integer("max_chunk_size_tokens", MIN_CHUNK_SIZE_TOKENS, MAX_CHUNK_SIZE_TOKENS);
        if (max == null) {
            throw Body.missing(sizes.param("max_chunk_size_tokens"));
        }
        Long overlap = sizes.integer("chunk_overlap_tokens", 0, max / 2);
        if (overlap == null) {
            throw Body.missing(sizes.param("chunk_overlap_tokens"));
        }
        return new ChunkingStrategy(max.intValue(), overlap.intValue());
    }

    /** Reads the strategy back from a stored object (Jackson uses this for the record). */
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    static ChunkingStrategy fromJson(JsonNode json) {
        return parse(json, "chunking_strategy");
    }

    /** The strategy as a vector store file shows it (Jackson writes the record this way). */
    @JsonValue
    public ObjectNode toJson() {
        ObjectNode json = Json.object().put("type", "static");
        json.putObject("static")
                .put("max_chunk_size_tokens", maxChunkSizeTokens)
                .put("chunk_overlap_tokens", chunkOverlapTokens);
        return json;
    }
}
