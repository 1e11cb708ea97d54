package io.spindle.engine;

import static io.spindle.testing.SdkJson.tree;
import static io.spindle.testing.SdkRuns.createRun;
import static io.spindle.testing.SdkRuns.pollFor;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.core.MultipartField;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.models.beta.assistants.AssistantCreateParams;
import com.openai.models.beta.threads.messages.ImageFile;
import com.openai.models.beta.threads.messages.ImageFileContentBlock;
import com.openai.models.beta.threads.messages.ImageUrl;
import com.openai.models.beta.threads.messages.ImageUrlContentBlock;
import com.openai.models.beta.threads.messages.Message;
import com.openai.models.beta.threads.messages.MessageContentPartParam;
import com.openai.models.beta.threads.messages.MessageCreateParams;
import com.openai.models.beta.threads.messages.TextContentBlockParam;
import com.openai.models.beta.threads.runs.Run;
import com.openai.models.beta.threads.runs.RunStatus;
import com.openai.models.files.FileCreateParams;
import com.openai.models.files.FilePurpose;
import io.spindle.api.Json;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.RunEndToEnd;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * Images in user messages through the official SDK, as the upstream receives them: an uploaded image file as a data
 * URL of exactly its bytes, an image URL unchanged, a file the model cannot be shown as a line of text; and the
 * checks of {@code image_file} parts when a message is created.
 */
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
class VisionSdkTest extends RunEndToEnd {

    private String upload(String name, byte[] bytes) {
        return sdk().files().create(FileCreateParams.builder()
                .file(MultipartField.<InputStream>builder().value(new ByteArrayInputStream(bytes)).filename(name).build())
                .purpose(FilePurpose.VISION)
                .build()).id();
    }

    private static byte[] png(int width, int height) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        image.setRGB(1, 2, Color.ORANGE.getRGB());
        image.setRGB(width - 1, height - 1, Color.BLUE.getRGB());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(image, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static MessageContentPartParam text(String text) {
        return MessageContentPartParam.ofText(TextContentBlockParam.builder().text(text).build());
    }

    private static MessageContentPartParam imageFile(String fileId, ImageFile.Detail detail) {
        return MessageContentPartParam.ofImageFile(ImageFileContentBlock.builder()
                .imageFile(ImageFile.builder().fileId(fileId).detail(detail).build()).build());
    }

    private static MessageContentPartParam imageUrl(String url, ImageUrl.Detail detail) {
        return MessageContentPartParam.ofImageUrl(ImageUrlContentBlock.builder()
                .imageUrl(ImageUrl.builder().url(url).detail(detail).build()).build());
    }

    private Message addMessage(String threadId, MessageCreateParams.Role role, MessageContentPartParam... parts) {
        return sdk().beta().threads().messages().create(threadId, MessageCreateParams.builder()
                .role(role).contentOfArrayOfContentParts(List.of(parts)).build());
    }

    private String newThread() {
        return sdk().beta().threads().create().id();
    }

    /** Runs the thread to completion; returns the run. */
    private Run run(String threadId) {
        String assistantId = sdk().beta().assistants().create(AssistantCreateParams.builder().model("gpt-4o").build()).id();
        return pollFor(sdk(), createRun(sdk(), threadId, assistantId), RunStatus.COMPLETED);
    }

    /** The SDK gives an error's body as the {@code error} object, or whole. */
    private static String errorMessage(Object body) {
        JsonNode error = tree(body);
        return (error.has("error") ? error.path("error") : error).path("message").asText();
    }

    /** The chat messages of the run's only model call. */
    private JsonNode sentMessages() {
        return onlyUpstreamRequest().path("messages");
    }

    @Test
    void anUploadedImageReachesTheModelAsADataUrlOfExactlyItsBytes() {
        byte[] png = png(64, 48);
        String fileId = upload("chart.png", png);
        String threadId = newThread();
        addMessage(threadId, MessageCreateParams.Role.USER, text("What does this chart show?"), imageFile(fileId, ImageFile.Detail.LOW));

        run(threadId);

        JsonNode user = sentMessages().get(sentMessages().size() - 1);
        assertThat(user.path("role").asText()).isEqualTo("user");
        assertThat(user.path("content").path(0)).isEqualTo(Json.readTree("""
                {"type": "text", "text": "What does this chart show?"}"""));
        JsonNode image = user.path("content").path(1);
        assertThat(image.path("type").asText()).isEqualTo("image_url");
        assertThat(image.path("image_url").path("detail").asText()).isEqualTo("low");
        String url = image.path("image_url").path("url").asText();
        assertThat(url).startsWith("data:image/png;base64,");
        assertThat(Base64.getDecoder().decode(url.substring("data:image/png;base64,".length()))).isEqualTo(png);
    }

    @Test
    void anImageUrlPassesUnchanged() {
        String threadId = newThread();
        addMessage(threadId, MessageCreateParams.Role.USER, imageUrl("https://example.com/cat.png?size=large", ImageUrl.Detail.HIGH),
                text("Whose cat?"));

        run(threadId);

        assertThat(sentMessages().get(sentMessages().size() - 1)).isEqualTo(Json.readTree("""
                {"role": "user", "content": [
                  {"type": "image_url", "image_url": {"url": "https://example.com/cat.png?size=large", "detail": "high"}},
                  {"type": "text", "text": "Whose cat?"}]}"""));
    }

    @Test
    void aDeletedFileOrOneThatIsNotAnImageBecomesALineOfTextAndTheRunCompletes() {
        String gone = upload("gone.png", png(8, 8));
        String fake = upload("fake.png", "not a picture at all".getBytes(StandardCharsets.UTF_8));
        String threadId = newThread();
        addMessage(threadId, MessageCreateParams.Role.USER, text("Compare:"), imageFile(gone, ImageFile.Detail.AUTO),
                imageFile(fake, ImageFile.Detail.HIGH));
        sdk().files().delete(gone);

        run(threadId);

        assertThat(sentMessages().get(sentMessages().size() - 1)).isEqualTo(Json.object().put("role", "user").put("content", """
                Compare:
                [Image %s not shown: the file was deleted.]
                [Image %s not shown: the file is not a PNG, JPEG, GIF or WEBP image.]""".formatted(gone, fake)));
    }

    @Test
    void anAssistantsImageIsNotSent() {
        String fileId = upload("figure.png", png(16, 16));
        String threadId = newThread();
        addMessage(threadId, MessageCreateParams.Role.ASSISTANT, imageFile(fileId, ImageFile.Detail.AUTO), text("Here is the figure."));
        addMessage(threadId, MessageCreateParams.Role.USER, text("Thanks."));

        run(threadId);

        assertThat(sentMessages().get(sentMessages().size() - 2)).isEqualTo(Json.readTree("""
                {"role": "assistant", "content": "Here is the figure."}"""));
    }

    @Test
    void imagesAreCountedWhenTheUpstreamReportsNoUsage() {
        // 1024×1024 in high detail: 4 tiles, 765 tokens (OpenAI's example); the same text without it is the baseline
        String fileId = upload("square.png", png(1024, 1024));
        String withImage = newThread();
        addMessage(withImage, MessageCreateParams.Role.USER, text("Describe it."), imageFile(fileId, ImageFile.Detail.HIGH));
        String textOnly = newThread();
        addMessage(textOnly, MessageCreateParams.Role.USER, text("Describe it."));
        fake().respondWith(body -> Reply.text("ok").withoutUsage());

        long counted = run(withImage).usage().orElseThrow().promptTokens();
        long baseline = run(textOnly).usage().orElseThrow().promptTokens();

        assertThat(counted - baseline).isEqualTo(765);
    }

    @Test
    void anImageFilePartMustNameAnImageFileOfTheProject() {
        String threadId = newThread();
        String notes = upload("notes.txt", "plain text".getBytes(StandardCharsets.UTF_8));

        assertThatThrownBy(() -> addMessage(threadId, MessageCreateParams.Role.USER, imageFile("file-nosuchfile", ImageFile.Detail.LOW)))
                .isInstanceOfSatisfying(NotFoundException.class, e -> assertThat(errorMessage(e.body()))
                        .isEqualTo("No file found with id 'file-nosuchfile'."));
        assertThatThrownBy(() -> addMessage(threadId, MessageCreateParams.Role.USER, text("see"), imageFile(notes, ImageFile.Detail.LOW)))
                .isInstanceOfSatisfying(BadRequestException.class, e -> assertThat(errorMessage(e.body()))
                        .startsWith("Invalid message content: Expected file type to be a supported format: .jpeg, .jpg, .png, .gif, .webp"));
        assertThat(api().get("/v1/threads/" + threadId + "/messages").ok().path("data")).as("nothing was written").isEmpty();
        // a new thread's messages are checked the same way
        assertThat(api().post("/v1/threads", Json.readTree("""
                {"messages": [{"role": "user", "content": [{"type": "image_file", "image_file": {"file_id": "file-nosuchfile"}}]}]}"""))
                .error(404).path("message").asText()).isEqualTo("No file found with id 'file-nosuchfile'.");
    }
}
