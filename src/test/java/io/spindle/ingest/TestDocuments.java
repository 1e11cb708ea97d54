package io.spindle.ingest;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.PDPageContentStream;
import org.apache.pdfbox.pdmodel.encryption.AccessPermission;
import org.apache.pdfbox.pdmodel.encryption.StandardProtectionPolicy;
import org.apache.pdfbox.pdmodel.font.PDType1Font;
import org.apache.pdfbox.pdmodel.font.Standard14Fonts;
import org.apache.poi.sl.usermodel.Placeholder;
import org.apache.poi.ss.usermodel.Row;
import org.apache.poi.ss.usermodel.Sheet;
import org.apache.poi.xslf.usermodel.XMLSlideShow;
import org.apache.poi.xslf.usermodel.XSLFSlide;
import org.apache.poi.xslf.usermodel.XSLFTextBox;
import org.apache.poi.xslf.usermodel.XSLFTextShape;
import org.apache.poi.xssf.usermodel.XSSFWorkbook;
import org.apache.poi.xwpf.usermodel.XWPFDocument;
import org.apache.poi.xwpf.usermodel.XWPFTable;

/** Real documents written by the libraries the extractors read them with. */
public final class TestDocuments {
    static {
        // before PDFBox creates a font, or its default mapper scans the system fonts into ~/.pdfbox.cache
        TextOnlyFontMapper.install();
    }

    private TestDocuments() {}

    /** A PDF with one page per element of {@code pages}, each page's lines top to bottom. */
    public static Path pdf(Path file, List<List<String>> pages) throws IOException {
        return pdf(file, pages, null);
    }

    /** The same, encrypted so that opening it needs {@code userPassword} (when not null). */
    static Path pdf(Path file, List<List<String>> pages, String userPassword) throws IOException {
        try (PDDocument document = new PDDocument()) {
            PDType1Font font = new PDType1Font(Standard14Fonts.FontName.HELVETICA);
            for (List<String> lines : pages) {
                PDPage page = new PDPage();
                document.addPage(page);
                try (PDPageContentStream content = new PDPageContentStream(document, page)) {
                    content.beginText();
                    content.setFont(font, 12);
                    content.newLineAtOffset(72, 720);
                    for (String line : lines) {
                        content.showText(line);
                        content.newLineAtOffset(0, -16);
                    }
                    content.endText();
                }
            }
            if (userPassword != null) {
                StandardProtectionPolicy policy = new StandardProtectionPolicy("owner-" + userPassword, userPassword, new AccessPermission());
                policy.setEncryptionKeyLength(128);
                document.protect(policy);
            }
            document.save(file.toFile());
        }
        return file;
    }

    /** A Word document: a heading, a paragraph, a 2×2 table, a closing paragraph. */
    static Path docx(Path file) throws IOException {
        try (XWPFDocument document = new XWPFDocument(); OutputStream out = Files.newOutputStream(file)) {
            document.createParagraph().createRun().setText("Quarterly report");
            document.createParagraph().createRun().setText("Revenue grew in every region.");
            XWPFTable table = document.createTable(2, 2);
            table.getRow(0).getCell(0).setText("Region");
            table.getRow(0).getCell(1).setText("Growth");
            table.getRow(1).getCell(0).setText("North");
            table.getRow(1).getCell(1).setText("12%");
            document.createParagraph().createRun().setText("Closing remarks follow the table.");
            document.write(out);
        }
        return file;
    }

    /** A presentation: two slides with a text box each, the first with speaker notes. */
    static Path pptx(Path file) throws IOException {
        try (XMLSlideShow slides = new XMLSlideShow(); OutputStream out = Files.newOutputStream(file)) {
            XSLFSlide first = slides.createSlide();
            XSLFTextBox box = first.createTextBox();
            box.setText("Welcome to the launch");
            ((XSLFTextShape) slides.getNotesSlide(first).getPlaceholder(Placeholder.BODY)).setText("Remember to thank the team");
            XSLFSlide second = slides.createSlide();
            second.createTextBox().setText("Roadmap for next year");
            slides.write(out);
        }
        return file;
    }

    /** A workbook: sheet "Stock" with a header, rows and a gap column; sheet "Notes" with one cell. */
    static Path xlsx(Path file) throws IOException {
        try (XSSFWorkbook workbook = new XSSFWorkbook(); OutputStream out = Files.newOutputStream(file)) {
            Sheet stock = workbook.createSheet("Stock");
            Row header = stock.createRow(0);
            header.createCell(0).setCellValue("Item");
            header.createCell(1).setCellValue("Count");
            Row apples = stock.createRow(1);
            apples.createCell(0).setCellValue("Apples");
            apples.createCell(1).setCellValue(42);
            apples.createCell(3).setCellValue("after a gap");
            Row pears = stock.createRow(2);
            pears.createCell(0).setCellValue("Pears");
            pears.createCell(1).setCellValue(7.5);
            workbook.createSheet("Notes").createRow(0).createCell(0).setCellValue("Counted on Monday");
            workbook.write(out);
        }
        return file;
    }
}
