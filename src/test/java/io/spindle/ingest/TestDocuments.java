package io.spindle.ingest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.Adler32;
import java.util.zip.Deflater;
import org.apache.pdfbox.cos.COSBase;
import org.apache.pdfbox.cos.COSName;
import org.apache.pdfbox.cos.COSStream;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.PDPageContentStream;
import org.apache.pdfbox.pdmodel.common.PDStream;
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

    /**
     * A one-page PDF whose content stream is {@code inflatedBytes} spaces, Flate-compressed: a
     * stream bomb (the file is about a thousandth of that), written without ever holding it inflated.
     * {@code filter} is the stream's {@code /Filter}: {@code /FlateDecode}, or {@code [/FlateDecode]}
     * (PDFBox reads the two differently: the first as it parses, the second decoded whole first).
     */
    public static Path pdfStreamBomb(Path file, long inflatedBytes, COSBase filter) throws IOException {
        try (PDDocument document = new PDDocument()) {
            PDPage page = new PDPage();
            document.addPage(page);
            COSStream content = document.getDocument().createCOSStream();
            content.setItem(COSName.FILTER, filter);
            try (OutputStream raw = content.createRawOutputStream()) {
                deflatedSpaces(raw, inflatedBytes);
            }
            page.setContents(new PDStream(content));
            document.save(file.toFile());
        }
        return file;
    }

    /**
     * A zlib stream of {@code count} spaces, made in milliseconds: each MiB is compressed once and
     * fully flushed (so it refers to nothing before it), and its compressed bytes are repeated.
     */
    private static void deflatedSpaces(OutputStream out, long count) throws IOException {
        byte[] spaces = new byte[1 << 20];
        Arrays.fill(spaces, (byte) ' ');
        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION);
        Adler32 checksum = new Adler32();
        out.write(fullyFlushed(deflater, spaces, 0)); // the zlib header, and nothing else
        byte[] mib = fullyFlushed(deflater, spaces, spaces.length);
        for (long left = count; left > 0; left -= spaces.length) {
            int n = (int) Math.min(left, spaces.length);
            out.write(n == spaces.length ? mib : fullyFlushed(deflater, spaces, n));
            checksum.update(spaces, 0, n);
        }
        deflater.end();
        out.write(new byte[] {3, 0}); // an empty final block
        out.write(ByteBuffer.allocate(4).putInt((int) checksum.getValue()).array());
    }

    private static byte[] fullyFlushed(Deflater deflater, byte[] input, int length) {
        deflater.setInput(input, 0, length);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[1 << 16];
        int n;
        do { // a full buffer may not hold all of it
            n = deflater.deflate(buffer, 0, buffer.length, Deflater.FULL_FLUSH);
            out.write(buffer, 0, n);
        } while (n == buffer.length);
        return out.toByteArray();
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
