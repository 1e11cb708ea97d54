package io.spindle.ingest;

import java.io.IOException;
import java.nio.file.Path;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.text.PDFTextStripper;

/**
 * PDF (PDFBox): the text of every page in page order, each page's text in content-stream order, a
 * blank line between pages. The file is read from disk as needed, not loaded whole.
 *
 * <p>Memory: PDFBox decodes each stream it reads (a page's content, an embedded font) in memory,
 * whole; the text written is bounded by the {@link TextSink}, each decoded stream by
 * {@link PdfDecodeLimit} to {@link #DECODED_BYTES_PER_CHAR} bytes per character of the text limit
 * (80 MB at the default), so a stream that inflates past it makes the document too large. That is
 * room for the largest embedded fonts (CJK ones reach 20-30 MB) and for a page's content stream
 * carrying more text than a page holds, with its positioning operators. An encrypted PDF that needs
 * a password fails with PDFBox's {@code InvalidPasswordException}.
 */
final class PdfExtractor implements Extractor {
    static final long DECODED_BYTES_PER_CHAR = 8;

    static {
        TextOnlyFontMapper.install();
    }

    @Override
    public String format() {
        return "PDF";
    }

    @Override
    public void extract(Path file, TextSink out) throws Exception {
        PdfDecodeLimit.within(out.maxChars() * DECODED_BYTES_PER_CHAR, out, () -> {
            try (PDDocument document = Loader.loadPDF(file.toFile())) {
                out.pages(document.getNumberOfPages());
                PDFTextStripper stripper = new PDFTextStripper() {
                    @Override
                    public void processPage(PDPage page) throws IOException {
                        super.processPage(PdfDecodeLimit.boundedPage(page));
                    }
                };
                stripper.setLineSeparator("\n");
                stripper.setPageEnd("\n\n");
                stripper.writeText(document, out.writer());
            }
        });
    }
}
