package io.spindle.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.spindle.api.Json;
import io.spindle.store.Notifications;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BatchesTest {
    @Test
    void itemsKeepTheirOrderInMessagesThatFitANotification() {
        List<String> items = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            items.add(Json.object().put("n", i).put("text", "é".repeat(i % 97)).toString());
        }
        List<String> messages = Batches.pack(items);

        assertThat(messages.size()).isGreaterThan(1);
        List<Integer> seen = new ArrayList<>();
        for (String message : messages) {
            assertThat(message.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(Notifications.MAX_PAYLOAD_BYTES);
            for (JsonNode item : Json.read(message, JsonNode.class).path("batch")) {
                seen.add(item.path("n").asInt());
            }
        }
        assertThat(seen).hasSize(200).isSorted();
    }

    @Test
    void nothingToSendIsNoMessage() {
        assertThat(Batches.pack(List.of())).isEmpty();
    }
}
