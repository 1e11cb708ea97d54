package io.spindle.engine;

import com.fasterxml.jackson.databind.JsonNode;
import io.spindle.api.ApiException;
import io.spindle.api.FileObject;
import io.spindle.api.MessageObject;
import io.spindle.store.FileRepository;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** The files that {@code image_file} parts of messages name: checked when a message is created, read for prompts. */
public final class ImageFiles {
    /** OpenAI's limit for one image; a larger file is not sent. */
    static final long MAX_BYTES = 20_000_000;
    private static final List<String> EXTENSIONS = List.of(".jpeg", ".jpg", ".png", ".gif", ".webp");

    private final FileRepository files;

    public ImageFiles(FileRepository files) {
        this.files = files;
    }

    /**
     * Each {@code image_file} part of new messages must name a file of the project (404, as a missing attachment) whose
     * name is an image's (400 with OpenAI's message, dossier §9). Whether its bytes are an image is seen in the prompt.
     */
    public void check(String project, List<MessageObject> messages) {
        for (MessageObject message : messages) {
            for (JsonNode part : message.content()) {
                if (!part.path("type").asText().equals("image_file")) {
                    continue;
                }
                String id = part.path("image_file").path("file_id").asText();
                FileObject file = files.file(project, id).orElseThrow(() -> ApiException.notFound("file", id));
                String name = file.filename().toLowerCase(Locale.ROOT);
                if (EXTENSIONS.stream().noneMatch(name::endsWith)) {
                    throw ApiException.invalid("Invalid message content: Expected file type to be a supported format: "
                            + String.join(", ", EXTENSIONS) + ", but got '" + file.filename() + "' (" + id + ").");
                }
            }
        }
    }

    /** The project's images for one prompt; each file is read once however often the thread shows it. */
    ImageSource source(String project) {
        Map<String, ImageSource.Lookup> read = new HashMap<>();
        return id -> read.computeIfAbsent(id, i -> lookup(project, i));
    }

    private ImageSource.Lookup lookup(String project, String id) {
        Optional<FileObject> file = files.file(project, id);
        if (file.isEmpty()) {
            return new ImageSource.Unavailable("the file was deleted");
        }
        if (file.get().bytes() > MAX_BYTES) {
            return new ImageSource.Unavailable("the file is larger than 20 MB");
        }
        byte[] bytes;
        try (InputStream in = files.content(file.get()).orElse(null)) {
            if (in == null) {
                return new ImageSource.Unavailable("the file was deleted");
            }
            bytes = in.readNBytes((int) MAX_BYTES + 1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (bytes.length > MAX_BYTES) {
            return new ImageSource.Unavailable("the file is larger than 20 MB");
        }
        return ImageHeader.read(bytes).<ImageSource.Lookup>map(h -> new ImageSource.Image(h, bytes))
                .orElse(new ImageSource.Unavailable("the file is not a PNG, JPEG, GIF or WEBP image"));
    }
}
