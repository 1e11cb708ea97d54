package io.spindle.ingest;

import java.nio.file.Path;
import org.apache.poi.openxml4j.opc.OPCPackage;
import org.apache.poi.xwpf.extractor.XWPFWordExtractor;
import org.apache.poi.xwpf.usermodel.IBodyElement;
import org.apache.poi.xwpf.usermodel.XWPFDocument;

/**
 * Word (POI XWPF): the body in document order, paragraphs one per line, tables one row per line with
 * tab-separated cells (POI's extractor's rendering of each element). Headers and footers, repeated
 * on every page, are left out.
 */
final class DocxExtractor implements Extractor {
    private final long budgetBytes;

    /** @param budgetBytes the XML the package may have in all (see {@link Ooxml}) */
    DocxExtractor(long budgetBytes) {
        this.budgetBytes = budgetBytes;
    }

    @Override
    public String format() {
        return "Word";
    }

    @Override
    public void extract(Path file, TextSink out) throws Exception {
        try (OPCPackage pkg = Ooxml.open(file, budgetBytes, out);
             XWPFDocument document = new XWPFDocument(pkg)) {
            XWPFWordExtractor extractor = new XWPFWordExtractor(document);
            StringBuilder element = new StringBuilder();
            for (IBodyElement body : document.getBodyElements()) {
                element.setLength(0);
                extractor.appendBodyElementText(element, body);
                out.append(element).newline();
            }
        }
    }
}
