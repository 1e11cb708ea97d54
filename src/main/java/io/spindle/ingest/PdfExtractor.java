package io.spindle.ingest;

import java.nio.file.Path;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.text.PDFTextStripper;

/**
 * PDF (PDFBox): the text of every page in page order, each page's text in content-stream order, a
 * blank line between pages. The file is read from disk as needed, not loaded whole.
 *
 * <p>Memory: PDFBox decodes each stream it reads (a page's content, an embedded font) in memory,
 * whole; the text written is bounded by the {@link TextSink}, but one hostile stream that inflates
 * to gigabytes is not. An encrypted PDF that needs a password fails with PDFBox's
 * {@code InvalidPasswordException}.
 */
final class PdfExtractor implements Extractor {

    static {
        TextOnlyFontMapper.install();
    }

    @Override
    public String format() {
        return "PDF";
    }

    @Override
    public void extract(Path file, TextSink out) throws Exception {
        try (PDDocument document = Loader.loadPDF(file.toFile())) {
            out.pages(document.getNumberOfPages());
            PDFTextStripper stripper = new PDFTextStripper();
            stripper.setLineSeparator("\n");
            stripper.setPageEnd("\n\n");
            stripper.writeText(document, out.writer());
        }
    }
}
