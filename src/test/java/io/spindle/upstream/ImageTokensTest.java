package io.spindle.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** OpenAI's documented examples for gpt-4o-class models (vision guide, "Calculating costs"). */
class ImageTokensTest {

    @Test
    void aSquareOf1024InHighDetailIsScaledTo768AndCostsFourTiles() {
        assertThat(ImageTokens.count(1024, 1024, "high")).isEqualTo(765);
    }

    @Test
    void aTallImageIsFirstFittedInto2048ThenItsShortestSideTo768() {
        // 2048×4096 → 1024×2048 → 768×1536: 2 × 3 tiles
        assertThat(ImageTokens.count(2048, 4096, "high")).isEqualTo(1105);
        assertThat(ImageTokens.count(4096, 2048, "high")).isEqualTo(1105);
    }

    @Test
    void lowDetailCostsTheBaseWhateverTheSize() {
        assertThat(ImageTokens.count(4096, 8192, "low")).isEqualTo(85);
        assertThat(ImageTokens.count(10, 10, "low")).isEqualTo(85);
        assertThat(ImageTokens.unknownSize("low")).isEqualTo(85);
    }

    @Test
    void smallImagesAreNotScaledUp() {
        assertThat(ImageTokens.count(512, 512, "high")).isEqualTo(255);
        assertThat(ImageTokens.count(513, 500, "high")).isEqualTo(425);
        assertThat(ImageTokens.count(1, 1, "high")).isEqualTo(255);
    }

    @Test
    void autoAndNoDetailCountAsHigh() {
        assertThat(ImageTokens.count(2048, 4096, "auto")).isEqualTo(1105);
        assertThat(ImageTokens.count(2048, 4096, null)).isEqualTo(1105);
    }

    @Test
    void anImageOfUnknownSizeCountsAs1024Square() {
        assertThat(ImageTokens.unknownSize("high")).isEqualTo(765);
        assertThat(ImageTokens.unknownSize("auto")).isEqualTo(765);
    }

    @Test
    void aVeryLongThinImageKeepsAtLeastOnePixelAcross() {
        // 100,000×10 → 2048×0.2 (one pixel) → 4 tiles × 1
        assertThat(ImageTokens.count(100_000, 10, "high")).isEqualTo(4 * 170 + 85);
    }
}
