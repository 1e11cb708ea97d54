package io.spindle.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.spindle.api.Json;
import io.spindle.api.MessageObject;
import io.spindle.api.MessageRequest;
import io.spindle.api.RunObject;
import io.spindle.api.Usage;
import io.spindle.engine.tools.BuiltInTools;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The images of thread messages as the model receives them, and what they count. */
class PromptTest {
    private static final RunObject RUN = new RunObject("run_1", 0, "asst_1", "thread_1", RunObject.IN_PROGRESS, null, null, null,
            null, null, null, null, "gpt-4o", "", Json.array(), Json.object(), Map.of(), null, null, null, null, null, null, null,
            null, null, null, true);
    private static final byte[] PIXELS = {1, 2, 3, (byte) 0xfe, (byte) 0xff};
    private static int next;

    private final List<String> asked = new ArrayList<>();
    private final ImageSource images = id -> {
        asked.add(id);
        return switch (id) {
            case "file-tall" -> new ImageSource.Image(new ImageHeader("image/jpeg", 2048, 4096), PIXELS);
            case "file-gone" -> new ImageSource.Unavailable("the file was deleted");
            default -> new ImageSource.Unavailable("the file is not a PNG, JPEG, GIF or WEBP image");
        };
    };

    @Test
    void anImageFileReachesTheModelAsADataUrlWithItsDetail() {
        JsonNode user = lastMessage(build(message("user", text("What is this?"), imageFile("file-tall", "low"))));

        assertThat(user).isEqualTo(Json.readTree("""
                {"role": "user", "content": [
                  {"type": "text", "text": "What is this?"},
                  {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,%s", "detail": "low"}}]}"""
                .formatted(Base64.getEncoder().encodeToString(PIXELS))));
    }

    @Test
    void anImageFileWithoutDetailIsSentWithout() {
        JsonNode part = lastMessage(build(message("user", imageFile("file-tall", null)))).path("content").path(0);

        assertThat(part.path("image_url").has("detail")).isFalse();
        assertThat(part.path("image_url").path("url").asText()).startsWith("data:image/jpeg;base64,");
    }

    @Test
    void anImageUrlPassesAsItIs() {
        JsonNode user = lastMessage(build(message("user", imageUrl("https://example.com/cat.png", "high"), text("Cat?"))));

        assertThat(user.path("content")).isEqualTo(Json.readTree("""
                [{"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "high"}},
                 {"type": "text", "text": "Cat?"}]"""));
    }

    @Test
    void aFileTheModelCannotBeShownBecomesALineSayingWhy() {
        JsonNode user = lastMessage(build(message("user", text("Look:"), imageFile("file-gone", "auto"), imageFile("file-text", "high"))));

        // no image is left, so the content is plain text, which any model takes
        assertThat(user.path("content").asText()).isEqualTo("""
                Look:
                [Image file-gone not shown: the file was deleted.]
                [Image file-text not shown: the file is not a PNG, JPEG, GIF or WEBP image.]""");
    }

    @Test
    void aPlaceholderBesideAShownImageIsATextPart() {
        JsonNode content = lastMessage(build(message("user", imageFile("file-gone", "auto"), imageFile("file-tall", "auto")))).path("content");

        assertThat(content.path(0)).isEqualTo(Json.readTree("""
                {"type": "text", "text": "[Image file-gone not shown: the file was deleted.]"}"""));
        assertThat(content.path(1).path("type").asText()).isEqualTo("image_url");
    }

    @Test
    void anAssistantsImagesAreLeftOut() {
        JsonNode assistant = lastMessage(build(message("assistant", imageFile("file-tall", null), text("Here is the chart."),
                imageUrl("https://example.com/x.png", "auto"))));

        assertThat(assistant).isEqualTo(Json.readTree("""
                {"role": "assistant", "content": "Here is the chart."}"""));
        assertThat(asked).as("its files are not even read").isEmpty();
    }

    @Test
    void imagesCountAsOpenAiDocumentedThem() {
        int textOnly = build(message("user", text("What is this?"))).promptTokens();

        assertThat(build(message("user", text("What is this?"), imageFile("file-tall", "high"))).promptTokens() - textOnly)
                .as("2048×4096 in high detail").isEqualTo(1105);
        assertThat(build(message("user", text("What is this?"), imageFile("file-tall", "low"))).promptTokens() - textOnly)
                .isEqualTo(85);
        assertThat(build(message("user", text("What is this?"), imageUrl("https://example.com/a.png", "auto"))).promptTokens() - textOnly)
                .as("a remote image of unknown size, as 1024×1024").isEqualTo(765);
        assertThat(build(message("user", text("What is this?"), imageFile("file-gone", "high"))).promptTokens() - textOnly)
                .as("a placeholder is text").isBetween(1, 30);
    }

    @Test
    void theContextBudgetDropsOlderMessagesForAnImage() {
        List<MessageObject> thread = List.of(message("user", text("an older question")), message("user", text("Now this:"),
                imageFile("file-tall", "high")));
        Prompt.Built fits = Prompt.build(RUN, offer(), thread, List.of(), Usage.ZERO, 1_200, images);
        Prompt.Built tight = Prompt.build(RUN, offer(), thread, List.of(), Usage.ZERO, 1_110, images);

        assertThat(fits.body().path("messages")).hasSize(2);
        assertThat(tight.body().path("messages")).hasSize(1);
    }

    private Prompt.Built build(MessageObject message) {
        return Prompt.build(RUN, offer(), List.of(message), List.of(), Usage.ZERO, 128_000, images);
    }

    private static BuiltInTools.Offer offer() {
        return new BuiltInTools.Offer("proj", RUN, List.of(), List.of());
    }

    private static JsonNode lastMessage(Prompt.Built built) {
        JsonNode messages = built.body().path("messages");
        return messages.path(messages.size() - 1);
    }

    private static MessageObject message(String role, JsonNode... parts) {
        ArrayNode content = Json.array();
        for (JsonNode part : parts) {
            content.add(part);
        }
        return new MessageObject("msg_" + next++, 0, null, "thread_1", null, "completed", null, null, 0L, role, content,
                Json.array(), Map.of());
    }

    private static JsonNode text(String value) {
        return MessageRequest.textPart(value);
    }

    private static JsonNode imageFile(String fileId, String detail) {
        var part = Json.object().put("type", "image_file");
        var file = part.putObject("image_file").put("file_id", fileId);
        if (detail != null) {
            file.put("detail", detail);
        }
        return part;
    }

    private static JsonNode imageUrl(String url, String detail) {
        var part = Json.object().put("type", "image_url");
        part.putObject("image_url").put("url", url).put("detail", detail);
        return part;
    }
}
