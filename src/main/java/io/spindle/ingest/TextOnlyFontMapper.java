package io.spindle.ingest;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import org.apache.fontbox.FontBoxFont;
import org.apache.fontbox.ttf.TTFParser;
import org.apache.fontbox.ttf.TrueTypeFont;
import org.apache.pdfbox.io.RandomAccessReadBuffer;
import org.apache.pdfbox.pdmodel.font.CIDFontMapping;
import org.apache.pdfbox.pdmodel.font.FontMapper;
import org.apache.pdfbox.pdmodel.font.FontMappers;
import org.apache.pdfbox.pdmodel.font.FontMapping;
import org.apache.pdfbox.pdmodel.font.PDCIDSystemInfo;
import org.apache.pdfbox.pdmodel.font.PDFontDescriptor;

/**
 * PDFBox's font mapper for a font a PDF uses without embedding it. The default one scans the
 * machine's system fonts on first use (seconds on a machine with many) and writes a cache of them
 * under {@code $HOME} (or {@code pdfbox.fontcache}). Text extraction needs no glyph shapes: the
 * characters come from the PDF's encodings and the widths from its font dictionaries (or the
 * built-in metrics of the standard 14 fonts). So every such font maps to the Liberation Sans that
 * ships inside PDFBox, the default mapper's own last resort: nothing is scanned, nothing written,
 * and the text does not depend on the fonts a machine happens to have.
 */
final class TextOnlyFontMapper implements FontMapper {
    private static final String FALLBACK = "/org/apache/pdfbox/resources/ttf/LiberationSans-Regular.ttf";

    private static final TextOnlyFontMapper INSTANCE = new TextOnlyFontMapper();

    private final TrueTypeFont fallback;

    /**
     * Makes PDFBox use this mapper (JVM-wide; only Spindle's text extraction uses PDFBox). Call
     * before anything creates a PDFBox font, reading or writing a PDF: the first font created
     * installs the default mapper otherwise. Calling it again changes nothing.
     */
    static void install() {
        FontMappers.set(INSTANCE);
    }

    private TextOnlyFontMapper() {
        try (InputStream in = FontMapper.class.getResourceAsStream(FALLBACK)) {
            if (in == null) {
                throw new IllegalStateException("PDFBox's " + FALLBACK + " is missing from the class path");
            }
            fallback = new TTFParser().parse(new RandomAccessReadBuffer(in));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public FontMapping<TrueTypeFont> getTrueTypeFont(String baseFont, PDFontDescriptor descriptor) {
        return new FontMapping<>(fallback, true);
    }

    @Override
    public FontMapping<FontBoxFont> getFontBoxFont(String baseFont, PDFontDescriptor descriptor) {
        return new FontMapping<>(fallback, true);
    }

    @Override
    public CIDFontMapping getCIDFont(String baseFont, PDFontDescriptor descriptor, PDCIDSystemInfo systemInfo) {
        return new CIDFontMapping(null, fallback, true);
    }
}
