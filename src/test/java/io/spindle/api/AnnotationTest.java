package io.spindle.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindle.testing.OpenAiSchemas;
import org.junit.jupiter.api.Test;

class AnnotationTest {
    // the annotation of recordings run-file-search-streaming.json (message completed and message delta)
    private static final Annotation RECORDED = new Annotation(Annotation.FILE_CITATION, "【4:0†favorite_foods.txt】", 29, 53, "file-CyHtsk7XAWdRabQUBYRjCu");

    @Test
    void storedShapeIsTheRecordedOneKeyForKey() {
        assertThat(Json.write(RECORDED.json())).isEqualTo("{\"type\":\"file_citation\",\"text\":\"【4:0†favorite_foods.txt】\","
                + "\"start_index\":29,\"end_index\":53,\"file_citation\":{\"file_id\":\"file-CyHtsk7XAWdRabQUBYRjCu\"}}");
        assertThat(Json.write(RECORDED)).as("Jackson writes the record as its stored shape").isEqualTo(Json.write(RECORDED.json()));
        OpenAiSchemas.assertValid("MessageContentTextAnnotationsFileCitationObject", RECORDED.json());
    }

    @Test
    void deltaShapeIsTheRecordedOneWithItsIndexAndEmptyQuote() {
        assertThat(Json.write(RECORDED.delta(0))).isEqualTo("{\"index\":0,\"type\":\"file_citation\",\"text\":\"【4:0†favorite_foods.txt】\","
                + "\"start_index\":29,\"end_index\":53,\"file_citation\":{\"file_id\":\"file-CyHtsk7XAWdRabQUBYRjCu\",\"quote\":\"\"}}");
        assertThat(RECORDED.delta(3).get("index").asInt()).isEqualTo(3);
        OpenAiSchemas.assertValid("MessageDeltaContentTextAnnotationsFileCitationObject", RECORDED.delta(3));
    }

    // the documented file_path example: a link in a markdown answer to a file code_interpreter wrote
    private static final Annotation PATH = new Annotation(Annotation.FILE_PATH, "sandbox:/mnt/data/shuffled_file.csv", 167, 202,
            "file-abc");

    @Test
    void aFilePathIsShapedLikeACitationUnderItsOwnTypeWithoutQuote() {
        assertThat(Json.write(PATH.json())).isEqualTo("{\"type\":\"file_path\",\"text\":\"sandbox:/mnt/data/shuffled_file.csv\","
                + "\"start_index\":167,\"end_index\":202,\"file_path\":{\"file_id\":\"file-abc\"}}");
        OpenAiSchemas.assertValid("MessageContentTextAnnotationsFilePathObject", PATH.json());
        assertThat(PATH.delta(1).path("file_path").has("quote")).isFalse();
        assertThat(PATH.delta(1).path("index").asInt()).isEqualTo(1);
        OpenAiSchemas.assertValid("MessageDeltaContentTextAnnotationsFilePathObject", PATH.delta(1));
    }
}
