package io.spindle.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.spindle.api.AttributeFilter.Comparator;
import io.spindle.api.AttributeFilter.Comparison;
import io.spindle.api.AttributeFilter.Compound;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AttributeFilterTest {

    private static AttributeFilter parse(String json) {
        return AttributeFilter.parse(Json.read(json, com.fasterxml.jackson.databind.JsonNode.class), "filters");
    }

    private static ApiException error(String json) {
        return catchThrowableOfType(ApiException.class, () -> parse(json));
    }

    @Test
    void comparisonsKeepTheirValueTypes() {
        assertThat(parse("{\"type\":\"eq\",\"key\":\"region\",\"value\":\"eu\"}"))
                .isEqualTo(new Comparison(Comparator.EQ, "region", "eu"));
        assertThat(parse("{\"type\":\"gte\",\"key\":\"year\",\"value\":2020}"))
                .isEqualTo(new Comparison(Comparator.GTE, "year", 2020.0));
        assertThat(parse("{\"type\":\"ne\",\"key\":\"draft\",\"value\":true}"))
                .isEqualTo(new Comparison(Comparator.NE, "draft", true));
        assertThat(parse("{\"type\":\"nin\",\"key\":\"tag\",\"value\":[\"a\",1.5]}"))
                .isEqualTo(new Comparison(Comparator.NIN, "tag", List.of("a", 1.5)));
    }

    @Test
    void compoundFiltersNest() {
        AttributeFilter filter = parse("""
                {"type":"or","filters":[
                  {"type":"eq","key":"a","value":1},
                  {"type":"and","filters":[{"type":"lt","key":"b","value":"m"},{"type":"in","key":"c","value":[]}]}
                ]}""");

        assertThat(filter).isEqualTo(new Compound(false, List.of(
                new Comparison(Comparator.EQ, "a", 1.0),
                new Compound(true, List.of(new Comparison(Comparator.LT, "b", "m"), new Comparison(Comparator.IN, "c", List.of()))))));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            {"key":"a","value":1}                                   | filters.type    | missing_required_parameter
            {"type":"eq","value":1}                                 | filters.key     | missing_required_parameter
            {"type":"eq","key":"a"}                                 | filters.value   | missing_required_parameter
            {"type":"eq","key":"a","value":null}                    | filters.value   | missing_required_parameter
            {"type":"like","key":"a","value":1}                     | filters.type    | invalid_value
            {"type":"eq","key":5,"value":1}                         | filters.key     | invalid_type
            {"type":"eq","key":"a","value":[1]}                     | filters.value   | invalid_type
            {"type":"eq","key":"a","value":{"x":1}}                 | filters.value   | invalid_type
            {"type":"gt","key":"a","value":true}                    | filters.value   | invalid_type
            {"type":"in","key":"a","value":"x"}                     | filters.value   | invalid_type
            {"type":"in","key":"a","value":["x",false]}             | filters.value[1] | invalid_type
            {"type":"eq","key":"a","value":1,"filters":[]}          | filters.filters | unknown_parameter
            {"type":"and"}                                          | filters.filters | missing_required_parameter
            {"type":"and","filters":{}}                             | filters.filters | invalid_type
            {"type":"and","filters":[],"key":"a"}                   | filters.key     | unknown_parameter
            {"type":"or","filters":[{"type":"eq","key":"a","value":1},{"type":"nope"}]} | filters.filters[1].type | invalid_value
            {"type":"or","filters":[{"type":"and","filters":[3]}]}  | filters.filters[0].filters[0] | invalid_type
            "eq"                                                    | filters         | invalid_type
            """)
    void badFiltersNameTheParameter(String json, String param, String code) {
        ApiException e = error(json);

        assertThat(e).as(json).isNotNull();
        assertThat(e.kind()).isEqualTo(ApiException.Kind.INVALID_REQUEST);
        assertThat(e.param()).isEqualTo(param);
        assertThat(e.code()).isEqualTo(code);
        assertThat(e.getMessage()).as("OpenAI's invalid_value message quotes the value, the others the parameter")
                .contains(code.equals("invalid_value") ? "Invalid value: '" : param);
    }
}
