package io.spindle.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.spindle.testing.OpenAiSchemas;
import java.util.List;
import org.junit.jupiter.api.Test;

class MessageDeltaObjectTest {

    @Test
    void anImageFilePartAndATextPartHaveTheSpecShapesAndSurviveTheTripBetweenNodes() {
        MessageDeltaObject image = MessageDeltaObject.imageFile("msg_1", 0, "file-img");
        MessageDeltaObject text = MessageDeltaObject.text("msg_1", 1, "Here", List.of());

        assertThat((JsonNode) Json.MAPPER.valueToTree(image)).isEqualTo(Json.readTree("""
                {"id": "msg_1", "object": "thread.message.delta",
                 "delta": {"content": [{"index": 0, "type": "image_file", "image_file": {"file_id": "file-img"}}]}}"""));
        assertThat(Json.MAPPER.<JsonNode>valueToTree(text).path("delta").path("content").path(0)).isEqualTo(Json.readTree("""
                {"index": 1, "type": "text", "text": {"value": "Here", "annotations": []}}"""));
        for (MessageDeltaObject delta : List.of(image, text)) {
            OpenAiSchemas.assertValid("MessageDeltaObject", Json.MAPPER.<JsonNode>valueToTree(delta));
            assertThat(Json.MAPPER.convertValue(Json.MAPPER.<JsonNode>valueToTree(delta), MessageDeltaObject.class)).isEqualTo(delta);
        }
    }

    @Test
    void onlyPlainTextOfTheSamePartJoins() {
        MessageDeltaObject first = MessageDeltaObject.text("msg_1", 1, "a", List.of());
        MessageDeltaObject plain = MessageDeltaObject.text("msg_1", 1, "b", null);
        MessageDeltaObject cited = MessageDeltaObject.text("msg_1", 1, "【0:0†x】", List.of(Json.object()));

        assertThat(first.joins(plain)).isTrue();
        assertThat(first.followedBy(plain)).isEqualTo(MessageDeltaObject.text("msg_1", 1, "ab", List.of()));
        assertThat(first.joins(cited)).isFalse();
        assertThat(cited.joins(plain)).as("text after an annotation keeps it").isTrue();
        assertThat(first.joins(MessageDeltaObject.text("msg_2", 1, "b", null))).isFalse();
        assertThat(first.joins(MessageDeltaObject.text("msg_1", 0, "b", null))).isFalse();
        assertThat(MessageDeltaObject.imageFile("msg_1", 0, "f").joins(plain)).isFalse();
        assertThat(first.joins(MessageDeltaObject.imageFile("msg_1", 0, "f"))).isFalse();
    }
}
