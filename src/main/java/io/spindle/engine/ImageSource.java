package io.spindle.engine;

import java.util.Base64;

/** The images of {@code image_file} parts, by file id: what a prompt shows the model in their place. */
@FunctionalInterface
interface ImageSource {

    Lookup image(String fileId);

    sealed interface Lookup permits Image, Unavailable {}

    /** An image file's bytes, of a type and size vision models take. */
    record Image(ImageHeader header, byte[] bytes) implements Lookup {

        String dataUrl() {
            return "data:" + header.mimeType() + ";base64," + Base64.getEncoder().encodeToString(bytes);
        }
    }

    /** A file the model cannot be shown, and why (a few words: the prompt says it instead). */
    record Unavailable(String reason) implements Lookup {}
}
