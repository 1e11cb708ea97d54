package io.spindle.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TextsTest {

    @Test
    void loneSurrogatesBecomeReplacementCharactersAndPairsStay() {
        String fine = "plain 🎉 text";
        assertThat(Texts.wellFormed(fine)).isSameAs(fine);
        assertThat(Texts.wellFormed("a\uD800b")).isEqualTo("a\uFFFDb");
        assertThat(Texts.wellFormed("a\uDC00")).isEqualTo("a\uFFFD");
        assertThat(Texts.wellFormed("\uD83C")).isEqualTo("\uFFFD");
        assertThat(Texts.wellFormed("\uDF89\uD83C")).isEqualTo("\uFFFD\uFFFD"); // halves in the wrong order
        assertThat(Texts.wellFormed("🎉\uD800🎉")).isEqualTo("🎉\uFFFD🎉");
    }

    @Test
    void extractedTextIsWellFormed() {
        TextSink sink = new TextSink(100);
        sink.append("left \uD800 right");
        assertThat(sink.result().text()).isEqualTo("left \uFFFD right");
    }
}
