package io.spindle.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ChunkingStrategyTest {

    private static ChunkingStrategy parse(String body) {
        return ChunkingStrategy.parse(Body.of(Json.read(body, JsonNode.class), Set.of("chunking_strategy", "file_id")), "chunking_strategy");
    }

    private static void assertRefused(String body, String param, String code, String message) {
        assertThatThrownBy(() -> parse(body))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ApiException.Kind.INVALID_REQUEST);
                    assertThat(e.param()).isEqualTo(param);
                    assertThat(e.code()).isEqualTo(code);
                    assertThat(e.getMessage()).isEqualTo(message);
                });
    }

    @Test
    void absentNullAndAutoAreTheDefault800With400() {
        assertThat(parse("{}")).isEqualTo(ChunkingStrategy.AUTO);
        assertThat(parse("{\"chunking_strategy\":null}")).isEqualTo(ChunkingStrategy.AUTO);
        assertThat(parse("{\"chunking_strategy\":{\"type\":\"auto\"}}")).isEqualTo(new ChunkingStrategy(800, 400));
    }

    @Test
    void staticKeepsItsSizesAndTheBoundsAreInclusive() {
        assertThat(parse("{\"chunking_strategy\":{\"type\":\"static\",\"static\":{\"max_chunk_size_tokens\":1000,\"chunk_overlap_tokens\":200}}}"))
                .isEqualTo(new ChunkingStrategy(1000, 200));
        assertThat(parse("{\"chunking_strategy\":{\"type\":\"static\",\"static\":{\"max_chunk_size_tokens\":100,\"chunk_overlap_tokens\":0}}}"))
                .isEqualTo(new ChunkingStrategy(100, 0));
        assertThat(parse("{\"chunking_strategy\":{\"type\":\"static\",\"static\":{\"max_chunk_size_tokens\":4096,\"chunk_overlap_tokens\":2048}}}"))
                .isEqualTo(new ChunkingStrategy(4096, 2048));
        assertThat(parse("{\"chunking_strategy\":{\"type\":\"static\",\"static\":{\"max_chunk_size_tokens\":101,\"chunk_overlap_tokens\":50}}}"))
                .isEqualTo(new ChunkingStrategy(101, 50));
    }

    @Test
    void echoedAsStaticEvenWhenAutoWasAsked() {
        assertThat(Json.write(parse("{\"chunking_strategy\":{\"type\":\"auto\"}}").toJson()))
                .isEqualTo("{\"type\":\"static\",\"static\":{\"max_chunk_size_tokens\":800,\"chunk_overlap_tokens\":400}}");
    }

    record Holder(String id, ChunkingStrategy chunkingStrategy) {}

    @Test
    void jacksonWritesAndReadsTheRecordInTheWireShape() {
        String json = Json.write(new Holder("file-1", new ChunkingStrategy(300, 100)));
        assertThat(json).isEqualTo("{\"id\":\"file-1\",\"chunking_strategy\":{\"type\":\"static\",\"static\":"
                + "{\"max_chunk_size_tokens\":300,\"chunk_overlap_tokens\":100}}}");
        assertThat(Json.read(json, Holder.class)).isEqualTo(new Holder("file-1", new ChunkingStrategy(300, 100)));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            {"chunking_strategy":"auto"} | chunking_strategy | invalid_type | Invalid type for 'chunking_strategy': expected an object, but got a string instead.
            {"chunking_strategy":{}} | chunking_strategy.type | missing_required_parameter | Missing required parameter: 'chunking_strategy.type'.
            {"chunking_strategy":{"type":"fixed"}} | chunking_strategy.type | invalid_value | Invalid value: 'fixed'. Supported values are: 'auto', 'static'.
            {"chunking_strategy":{"type":7}} | chunking_strategy.type | invalid_type | Invalid type for 'chunking_strategy.type': expected a string, but got an integer instead.
            {"chunking_strategy":{"type":"auto","size":1}} | chunking_strategy.size | unknown_parameter | Unknown parameter: 'chunking_strategy.size'.
            {"chunking_strategy":{"type":"auto","static":{"max_chunk_size_tokens":800,"chunk_overlap_tokens":400}}} | chunking_strategy.static | unknown_parameter | Unknown parameter: 'chunking_strategy.static'.
            {"chunking_strategy":{"type":"static"}} | chunking_strategy.static | missing_required_parameter | Missing required parameter: 'chunking_strategy.static'.
            {"chunking_strategy":{"type":"static","static":[]}} | chunking_strategy.static | invalid_type | Invalid type for 'chunking_strategy.static': expected an object, but got an array instead.
            {"chunking_strategy":{"type":"static","static":{"chunk_overlap_tokens":0}}} | chunking_strategy.static.max_chunk_size_tokens | missing_required_parameter | Missing required parameter: 'chunking_strategy.static.max_chunk_size_tokens'.
            {"chunking_strategy":{"type":"static","static":{"max_chunk_size_tokens":800}}} | chunking_strategy.static.chunk_overlap_tokens | missing_required_parameter | Missing required parameter: 'chunking_strategy.static.chunk_overlap_tokens'.
            {"chunking_strategy":{"type":"static","static":{"max_chunk_size_tokens":99,"chunk_overlap_tokens":0}}} | chunking_strategy.static.max_chunk_size_tokens | integer_below_min_value | Invalid 'chunking_strategy.static.max_chunk_size_tokens': integer below minimum value. Expected a value >= 100, but got 99 instead.
            {"chunking_strategy":{"type":"static","static":{"max_chunk_size_tokens":4097,"chunk_overlap_tokens":0}}} | chunking_strategy.static.max_chunk_size_tokens | integer_above_max_value | Invalid 'chunking_strategy.static.max_chunk_size_tokens': integer above maximum value. Expected a value <= 4096, but got 4097 instead.
            {"chunking_strategy":{"type":"static","static":{"max_chunk_size_tokens":"800","chunk_overlap_tokens":0}}} | chunking_strategy.static.max_chunk_size_tokens | invalid_type | Invalid type for 'chunking_strategy.static.max_chunk_size_tokens': expected an integer, but got a string instead.
            {"chunking_strategy":{"type":"static","static":{"max_chunk_size_tokens":800.5,"chunk_overlap_tokens":0}}} | chunking_strategy.static.max_chunk_size_tokens | invalid_type | Invalid type for 'chunking_strategy.static.max_chunk_size_tokens': expected an integer, but got a decimal instead.
            {"chunking_strategy":{"type":"static","static":{"max_chunk_size_tokens":800,"chunk_overlap_tokens":-1}}} | chunking_strategy.static.chunk_overlap_tokens | integer_below_min_value | Invalid 'chunking_strategy.static.chunk_overlap_tokens': integer below minimum value. Expected a value >= 0, but got -1 instead.
            {"chunking_strategy":{"type":"static","static":{"max_chunk_size_tokens":800,"chunk_overlap_tokens":401}}} | chunking_strategy.static.chunk_overlap_tokens | integer_above_max_value | Invalid 'chunking_strategy.static.chunk_overlap_tokens': integer above maximum value. Expected a value <= 400, but got 401 instead.
            {"chunking_strategy":{"type":"static","static":{"max_chunk_size_tokens":101,"chunk_overlap_tokens":51}}} | chunking_strategy.static.chunk_overlap_tokens | integer_above_max_value | Invalid 'chunking_strategy.static.chunk_overlap_tokens': integer above maximum value. Expected a value <= 50, but got 51 instead.
            {"chunking_strategy":{"type":"static","static":{"max_chunk_size_tokens":800,"chunk_overlap_tokens":400,"x":1}}} | chunking_strategy.static.x | unknown_parameter | Unknown parameter: 'chunking_strategy.static.x'.
            """)
    void badStrategiesNameTheParameter(String body, String param, String code, String message) {
        assertRefused(body, param, code, message);
    }

    @Test
    void theRecordItselfRefusesSizesOutOfRange() {
        assertThatThrownBy(() -> new ChunkingStrategy(99, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ChunkingStrategy(800, 401)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ChunkingStrategy(800, -1)).isInstanceOf(IllegalArgumentException.class);
    }
}
