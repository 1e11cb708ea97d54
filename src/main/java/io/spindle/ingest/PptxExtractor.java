package io.spindle.ingest;

import java.nio.file.Path;
import org.apache.poi.openxml4j.opc.OPCPackage;
import org.apache.poi.sl.extractor.SlideShowExtractor;
import org.apache.poi.xslf.usermodel.XMLSlideShow;
import org.apache.poi.xslf.usermodel.XSLFShape;
import org.apache.poi.xslf.usermodel.XSLFSlide;
import org.apache.poi.xslf.usermodel.XSLFTextParagraph;

/** PowerPoint (POI XSLF): each slide's text, then its speaker notes, slide after slide; pages = slides. */
final class PptxExtractor implements Extractor {
    private final long budgetBytes;

    /** @param budgetBytes the XML the package may have in all (see {@link Ooxml}) */
    PptxExtractor(long budgetBytes) {
        this.budgetBytes = budgetBytes;
    }

    @Override
    public String format() {
        return "PowerPoint";
    }

    @Override
    public void extract(Path file, TextSink out) throws Exception {
        try (OPCPackage pkg = Ooxml.open(file, budgetBytes, out);
             XMLSlideShow slides = new XMLSlideShow(pkg)) {
            out.pages(slides.getSlides().size());
            SlideShowExtractor<XSLFShape, XSLFTextParagraph> extractor = new SlideShowExtractor<>(slides);
            extractor.setSlidesByDefault(true);
            extractor.setNotesByDefault(true);
            extractor.setMasterByDefault(false);
            extractor.setCommentsByDefault(false);
            for (XSLFSlide slide : slides.getSlides()) {
                out.append(extractor.getText(slide)).blankLine();
            }
        }
    }
}
