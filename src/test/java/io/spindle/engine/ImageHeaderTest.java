package io.spindle.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ImageHeaderTest {

    @Test
    void pngJpegAndGifAreKnownByTheirBytesWithTheirSize() throws IOException {
        assertThat(ImageHeader.read(encode("png", 300, 200))).contains(new ImageHeader("image/png", 300, 200));
        assertThat(ImageHeader.read(encode("jpeg", 640, 48))).contains(new ImageHeader("image/jpeg", 640, 48));
        assertThat(ImageHeader.read(encode("gif", 7, 1025))).contains(new ImageHeader("image/gif", 7, 1025));
    }

    @Test
    void aJpegWithSegmentsBeforeItsFrameHeaderIsWalkedToIt() throws IOException {
        byte[] jpeg = encode("jpeg", 33, 44);
        byte[] comment = {(byte) 0xff, (byte) 0xfe, 0, 6, 'h', 'e', 'l', 'l'};
        ByteBuffer withComment = ByteBuffer.allocate(jpeg.length + comment.length);
        withComment.put(jpeg, 0, 2).put(comment).put(jpeg, 2, jpeg.length - 2);

        assertThat(ImageHeader.read(withComment.array())).contains(new ImageHeader("image/jpeg", 33, 44));
    }

    @Test
    void webpInEachOfItsThreeEncodings() {
        ByteBuffer lossy = webp("VP8 ");
        lossy.put(23, (byte) 0x9d).put(24, (byte) 0x01).put(25, (byte) 0x2a).putShort(26, (short) 800).putShort(28, (short) 600);
        ByteBuffer lossless = webp("VP8L");
        lossless.put(20, (byte) 0x2f).putInt(21, (400 - 1) | (300 - 1) << 14);
        ByteBuffer extended = webp("VP8X");
        extended.put(24, (byte) 0xff).put(25, (byte) 0x0f).put(26, (byte) 0).put(27, (byte) 0x1f).put(28, (byte) 0).put(29, (byte) 0);

        assertThat(ImageHeader.read(lossy.array())).contains(new ImageHeader("image/webp", 800, 600));
        assertThat(ImageHeader.read(lossless.array())).contains(new ImageHeader("image/webp", 400, 300));
        assertThat(ImageHeader.read(extended.array())).contains(new ImageHeader("image/webp", 4096, 32));
    }

    @Test
    void anythingElseIsNotAnImage() throws IOException {
        byte[] png = encode("png", 10, 10);

        assertThat(ImageHeader.read("just some text, named picture.png".getBytes(StandardCharsets.UTF_8))).isEmpty();
        assertThat(ImageHeader.read(new byte[0])).isEmpty();
        assertThat(ImageHeader.read(Arrays.copyOf(png, 20))).as("cut inside its header").isEmpty();
        assertThat(ImageHeader.read(encode("bmp", 10, 10))).as("a format vision models do not take").isEmpty();
        assertThat(ImageHeader.read(new byte[] {(byte) 0xff, (byte) 0xd8, (byte) 0xff, (byte) 0xd9})).isEqualTo(Optional.empty());
    }

    private static ByteBuffer webp(String chunk) {
        ByteBuffer b = ByteBuffer.allocate(40).order(ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(32).put("WEBP".getBytes(StandardCharsets.US_ASCII))
                .put(chunk.getBytes(StandardCharsets.US_ASCII));
        return b;
    }

    static byte[] encode(String format, int width, int height) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB), format, out);
        return out.toByteArray();
    }
}
