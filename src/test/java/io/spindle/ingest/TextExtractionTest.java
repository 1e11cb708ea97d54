package io.spindle.ingest;

import static java.nio.charset.StandardCharsets.UTF_16BE;
import static java.nio.charset.StandardCharsets.UTF_16LE;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.apache.pdfbox.cos.COSArray;
import org.apache.pdfbox.cos.COSBase;
import org.apache.pdfbox.cos.COSName;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TextExtractionTest {
    @TempDir
    Path dir;

    private TextExtraction extraction() {
        return new TextExtraction(TextExtraction.DEFAULT_MAX_CHARS, dir.resolve("scratch"));
    }

    private ExtractedText extract(Path file) throws IngestException {
        return extraction().extract(file.getFileName().toString(), file);
    }

    private Path write(String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    private Path write(String name, String text) throws IOException {
        return write(name, text.getBytes(UTF_8));
    }

    private static void assertFails(ThrowingCallable call, IngestException.Kind kind, String message) {
        assertThatThrownBy(call)
                .isInstanceOfSatisfying(IngestException.class, e -> {
                    assertThat(e.kind()).isEqualTo(kind);
                    assertThat(e.code()).isEqualTo(kind.code);
                })
                .hasMessageContaining(message);
    }

    // ---- formats ----

    @Test
    void pdfPagesComeOutInOrderWithTheirPageCount() throws Exception {
        Path pdf = TestDocuments.pdf(dir.resolve("report.pdf"), List.of(
                List.of("First page opens here", "and goes on"),
                List.of("Second page in the middle"),
                List.of("Third page closes it")));

        ExtractedText text = extract(pdf);

        assertThat(text.pages()).isEqualTo(3);
        assertThat(text.text()).containsSubsequence("First page opens here", "and goes on",
                "Second page in the middle", "Third page closes it");
        assertThat(text.text()).isEqualTo("First page opens here\nand goes on\n\nSecond page in the middle\n\nThird page closes it\n\n");
    }

    @Test
    void docxParagraphsAndTablesInDocumentOrder() throws Exception {
        ExtractedText text = extract(TestDocuments.docx(dir.resolve("report.docx")));

        assertThat(text.text()).containsSubsequence("Quarterly report\n", "Revenue grew in every region.\n",
                "Region\tGrowth\n", "North\t12%\n", "Closing remarks follow the table.");
        assertThat(text.pages()).isZero();
    }

    @Test
    void pptxSlideTextThenItsNotesSlideAfterSlide() throws Exception {
        ExtractedText text = extract(TestDocuments.pptx(dir.resolve("launch.pptx")));

        assertThat(text.pages()).isEqualTo(2);
        assertThat(text.text()).containsSubsequence("Welcome to the launch", "Remember to thank the team", "Roadmap for next year");
    }

    @Test
    void xlsxSheetsAsRowsOfTabSeparatedCells() throws Exception {
        ExtractedText text = extract(TestDocuments.xlsx(dir.resolve("stock.xlsx")));

        assertThat(text.text()).isEqualTo("""
                Stock
                Item\tCount
                Apples\t42\t\tafter a gap
                Pears\t7.5

                Notes
                Counted on Monday
                """);
    }

    @Test
    void htmlGivesVisibleTextWithBlocksOnTheirOwnLines() throws Exception {
        Path html = write("page.HTML", """
                <!doctype html>
                <html><head><title> The  title </title><style>p { color: red }</style>
                <script>var hidden = "script text";</script></head>
                <body>
                  <h1>Main   heading</h1>
                  <p>First <b>bold</b>&nbsp;paragraph,
                     spread over lines.</p>
                  <div hidden>not shown</div>
                  <ul><li>one</li><li>two</li></ul>
                  <table><tr><th>Name</th><th>Age</th></tr><tr><td>Ann</td><td>31</td></tr></table>
                  <pre>  keep   this
                    layout</pre>
                  line<br>break
                  <noscript>no script</noscript><template><p>template</p></template>
                </body></html>
                """);

        assertThat(extract(html).text()).isEqualTo("""
                The title

                Main heading
                First bold paragraph, spread over lines.
                one
                two
                Name\tAge
                Ann\t31
                  keep   this
                    layout
                line
                break
                """);
    }

    @Test
    void markdownAndCodeAreReadAsTheyAre() throws Exception {
        String markdown = "# Title\n\nSome *emphasis* and a [link](http://x).\n\n- item\n";
        String python = "def add(a, b):\n    \"\"\"Adds.\"\"\"\n    return a + b  # naïve\n";

        assertThat(extract(write("notes.md", markdown)).text()).isEqualTo(markdown);
        assertThat(extract(write("notes.markdown", markdown)).text()).isEqualTo(markdown);
        assertThat(extract(write("add.py", python)).text()).isEqualTo(python);
        assertThat(extract(write("Main.JAVA", "class Main {}\n")).text()).isEqualTo("class Main {}\n");
    }

    @Test
    void utf16WithByteOrderMarkAndUtf8MarkAreDecoded() throws Exception {
        String text = "Grüße, 世界 🎉\nsecond line";
        byte[] le = concat(new byte[] {(byte) 0xFF, (byte) 0xFE}, text.getBytes(UTF_16LE));
        byte[] be = concat(new byte[] {(byte) 0xFE, (byte) 0xFF}, text.getBytes(UTF_16BE));
        byte[] utf8 = concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, text.getBytes(UTF_8));

        assertThat(extract(write("le.txt", le)).text()).isEqualTo(text);
        assertThat(extract(write("be.txt", be)).text()).isEqualTo(text);
        assertThat(extract(write("bom.txt", utf8)).text()).isEqualTo(text);
    }

    @Test
    void jsonIsKeptAsWrittenOnceValid() throws Exception {
        String json = "{\n  \"name\": \"Spindle\",\n  \"tags\": [\"a\", \"b\"],\n  \"n\": 1.5\n}\n";
        assertThat(extract(write("data.json", json)).text()).isEqualTo(json);
        String lines = "{\"a\":1}\n{\"a\":2}\n";
        assertThat(extract(write("lines.json", lines)).text()).isEqualTo(lines);

        assertFails(() -> extract(write("broken.json", "{\"name\": \"Spindle\",\n")),
                IngestException.Kind.INVALID_FILE, "not a valid JSON file");
        assertFails(() -> extract(write("trailing.json", "{\"a\": 1} }")),
                IngestException.Kind.INVALID_FILE, "not a valid JSON file");
    }

    @Test
    void aStreamIsCopiedToTheScratchDirectoryAndTheCopyRemoved() throws Exception {
        Path scratch = dir.resolve("scratch");
        ExtractedText text = extraction().extract("hello.txt", new ByteArrayInputStream("hello world".getBytes(UTF_8)));

        assertThat(text.text()).isEqualTo("hello world");
        try (var left = Files.list(scratch)) {
            assertThat(left).isEmpty();
        }
        byte[] pdf = Files.readAllBytes(TestDocuments.pdf(dir.resolve("s.pdf"), List.of(List.of("streamed pdf"))));
        assertThat(extraction().extract("s.pdf", new ByteArrayInputStream(pdf)).text()).contains("streamed pdf");
        assertFails(() -> extraction().extract("s.pdf", new ByteArrayInputStream(new byte[] {1, 2, 3})),
                IngestException.Kind.INVALID_FILE, "not a valid PDF file");
        try (var left = Files.list(scratch)) {
            assertThat(left).isEmpty();
        }
    }

    // ---- refusals ----

    @ParameterizedTest
    @ValueSource(strings = {"setup.exe", "archive.zip", "table.csv", "legacy.doc", "image.png", "README", "trailingdot.", ".txt.bak"})
    void typesFileSearchDoesNotReadAreUnsupported(String name) throws Exception {
        Path file = write("file.bin", "plain words");
        assertFails(() -> extraction().extract(name, file), IngestException.Kind.UNSUPPORTED_FILE, "The file type is not supported.");
        assertFails(() -> extraction().extract(name, new ByteArrayInputStream(new byte[1])),
                IngestException.Kind.UNSUPPORTED_FILE, "The file type is not supported.");
        assertThat(TextExtraction.supports(name)).isFalse();
    }

    @Test
    void theTableListsOpenAisTypesPlusXlsxHtmMarkdown() {
        assertThat(TextExtraction.extensions()).containsExactly("c", "cpp", "cs", "css", "docx", "htm", "html", "java",
                "js", "json", "markdown", "md", "pdf", "php", "pptx", "py", "rb", "sh", "tex", "ts", "txt", "xlsx");
        assertThat(TextExtraction.supports("A.Pdf")).isTrue();
        assertThat(TextExtraction.supports(null)).isFalse();
    }

    @Test
    void truncatedPdfIsInvalid() throws Exception {
        byte[] pdf = Files.readAllBytes(TestDocuments.pdf(dir.resolve("whole.pdf"), List.of(List.of("some text"))));
        Path truncated = write("truncated.pdf", Arrays.copyOf(pdf, 200));

        assertFails(() -> extract(truncated), IngestException.Kind.INVALID_FILE, "not a valid PDF file");
    }

    @Test
    void encryptedPdfIsInvalid() throws Exception {
        Path pdf = TestDocuments.pdf(dir.resolve("secret.pdf"), List.of(List.of("classified")), "letmein");

        assertFails(() -> extract(pdf), IngestException.Kind.INVALID_FILE, "encrypted");
    }

    @Test
    void randomBytesNamedTxtAreInvalid() throws Exception {
        byte[] bytes = new byte[4096];
        new Random(42).nextBytes(bytes);

        assertFails(() -> extract(write("random.txt", bytes)), IngestException.Kind.INVALID_FILE, "not UTF-8, UTF-16 or ASCII text");
    }

    @Test
    void nulCharactersMeanBinaryNotText() throws Exception {
        // UTF-16 without a byte order mark decodes as UTF-8 full of NULs
        assertFails(() -> extract(write("nobom.txt", "plain text".getBytes(UTF_16LE))),
                IngestException.Kind.INVALID_FILE, "not UTF-8, UTF-16 or ASCII text");
        assertFails(() -> extract(write("bad.md", new byte[] {'a', (byte) 0xC3, '('})),
                IngestException.Kind.INVALID_FILE, "not UTF-8, UTF-16 or ASCII text");
    }

    @Test
    void officeNamesOnOtherBytesAreInvalid() throws Exception {
        assertFails(() -> extract(write("fake.docx", "not a zip")), IngestException.Kind.INVALID_FILE, "not a valid Word file");
        assertFails(() -> extract(write("fake.pptx", "not a zip")), IngestException.Kind.INVALID_FILE, "not a valid PowerPoint file");
        assertFails(() -> extract(write("fake.xlsx", "not a zip")), IngestException.Kind.INVALID_FILE, "not a valid Excel file");
        Path docx = TestDocuments.docx(dir.resolve("real.docx"));
        Path renamed = Files.copy(docx, dir.resolve("real.xlsx"));
        // a Word package read as a workbook: no sheets, so no text
        assertFails(() -> extract(renamed), IngestException.Kind.INVALID_FILE, "");
    }

    @Test
    void documentsWithoutTextAreInvalid() throws Exception {
        assertFails(() -> extract(write("empty.txt", "")), IngestException.Kind.INVALID_FILE, "contains no text");
        assertFails(() -> extract(write("blank.md", " \n\t\n")), IngestException.Kind.INVALID_FILE, "contains no text");
        assertFails(() -> extract(TestDocuments.pdf(dir.resolve("blank.pdf"), List.of(List.of(), List.of()))),
                IngestException.Kind.INVALID_FILE, "contains no text");
        assertFails(() -> extract(write("empty.html", "<html><body><script>x()</script></body></html>")),
                IngestException.Kind.INVALID_FILE, "contains no text");
    }

    @Test
    void zipBombDocxIsRefused() throws Exception {
        Path docx = TestDocuments.docx(dir.resolve("normal.docx"));
        Path bomb = dir.resolve("bomb.docx");
        // document.xml replaced by 100 MB that deflate to about 100 kB: far past POI's 1:100 ratio
        try (ZipFile source = new ZipFile(docx.toFile()); ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(bomb))) {
            for (ZipEntry entry : source.stream().toList()) {
                out.putNextEntry(new ZipEntry(entry.getName()));
                if (entry.getName().equals("word/document.xml")) {
                    out.write(("<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:document xmlns:w=\"http://schemas.openxmlformats.org/"
                            + "wordprocessingml/2006/main\"><w:body><w:p><w:r><w:t>").getBytes(UTF_8));
                    byte[] block = "A".repeat(1 << 20).getBytes(UTF_8);
                    for (int i = 0; i < 100; i++) {
                        out.write(block);
                    }
                    out.write("</w:t></w:r></w:p></w:body></w:document>".getBytes(UTF_8));
                } else {
                    try (InputStream in = source.getInputStream(entry)) {
                        in.transferTo(out);
                    }
                }
                out.closeEntry();
            }
        }
        assertThat(Files.size(bomb)).isLessThan(1 << 20);

        assertFails(() -> extract(bomb), IngestException.Kind.INVALID_FILE, "not a valid Word file");
    }

    @Test
    void pdfStreamBombsAreTooLargeAndOtherPdfsStillExtract() throws Exception {
        // 1.5 GB of spaces in one Flate content stream, more than this JVM's heap (-Xmx1g), in a file of about 1.5 MB;
        // PDFBox inflates [/FlateDecode] whole into memory, /FlateDecode as it parses (no memory, but 17 s unbounded)
        for (COSBase filter : List.of(new COSArray(List.of(COSName.FLATE_DECODE)), COSName.FLATE_DECODE)) {
            Path bomb = TestDocuments.pdfStreamBomb(dir.resolve("bomb.pdf"), 1536L << 20, filter);
            assertThat(Files.size(bomb)).isLessThan(4 << 20);

            assertFails(() -> extract(bomb), IngestException.Kind.INVALID_FILE, IngestException.TOO_LARGE);
        }
        assertThat(extract(TestDocuments.pdf(dir.resolve("after.pdf"), List.of(List.of("still readable")))).text())
                .isEqualTo("still readable\n\n");
    }

    @Test
    void pdfStreamsMayInflateUpToTheirLimit() throws Exception {
        // under a text limit of 100,000 characters a stream may inflate to 800,000 bytes: blank, but not too large
        TextExtraction small = new TextExtraction(100_000, dir.resolve("scratch"));
        long limit = 100_000 * PdfExtractor.DECODED_BYTES_PER_CHAR;
        for (COSBase filter : List.of(new COSArray(List.of(COSName.FLATE_DECODE)), COSName.FLATE_DECODE)) {
            Path within = TestDocuments.pdfStreamBomb(dir.resolve("within.pdf"), limit, filter);
            Path past = TestDocuments.pdfStreamBomb(dir.resolve("past.pdf"), limit + 1, filter);

            assertFails(() -> small.extract("within.pdf", within), IngestException.Kind.INVALID_FILE, "contains no text");
            assertFails(() -> small.extract("past.pdf", past), IngestException.Kind.INVALID_FILE, IngestException.TOO_LARGE);
        }
    }

    @Test
    void officePackagesOverTheirXmlBudgetAreTooLarge() throws Exception {
        Path docx = TestDocuments.docx(dir.resolve("budget.docx"));
        Path pptx = TestDocuments.pptx(dir.resolve("budget.pptx"));

        for (var read : List.<Map.Entry<Path, java.util.function.LongFunction<Extractor>>>of(
                Map.entry(docx, DocxExtractor::new), Map.entry(pptx, PptxExtractor::new))) {
            TextSink tight = new TextSink(1_000_000);
            assertThatThrownBy(() -> read.getValue().apply(2_000).extract(read.getKey(), tight));
            assertThat(tight.overflowed()).isTrue();

            TextSink roomy = new TextSink(1_000_000);
            read.getValue().apply(Ooxml.TREE_BUDGET_BYTES).extract(read.getKey(), roomy);
            assertThat(roomy.overflowed()).isFalse();
            assertThat(roomy.toString()).isNotBlank();
        }
    }

    @Test
    void textOverTheLimitIsInvalidInEveryKindOfExtractor() throws Exception {
        TextExtraction small = new TextExtraction(500, dir.resolve("scratch"));
        String line = "A line of text that repeats until the document is too long.\n";
        List<List<String>> pages = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            pages.add(List.of(line.strip(), line.strip(), line.strip()));
        }
        Path pdf = TestDocuments.pdf(dir.resolve("long.pdf"), pages);
        Path txt = write("long.txt", line.repeat(20));
        Path html = write("long.html", "<p>" + line.repeat(20) + "</p>");
        Path json = write("long.json", "[\"" + "x".repeat(600) + "\"]");
        Path xlsx = dir.resolve("long.xlsx");
        try (var workbook = new org.apache.poi.xssf.usermodel.XSSFWorkbook(); OutputStream out = Files.newOutputStream(xlsx)) {
            var sheet = workbook.createSheet("Long");
            for (int r = 0; r < 30; r++) {
                sheet.createRow(r).createCell(0).setCellValue(line.strip());
            }
            workbook.write(out);
        }

        for (Path file : List.of(pdf, txt, html, json, xlsx)) {
            assertFails(() -> small.extract(file.getFileName().toString(), file),
                    IngestException.Kind.INVALID_FILE, "The file could not be parsed because it is too large.");
            assertThat(extract(file).text()).hasSizeGreaterThan(500);
        }
        assertThat(new TextExtraction(500, dir).extract("short.txt", write("short.txt", "x".repeat(500))).text()).hasSize(500);
    }

    @Test
    void htmlLargerThanTheLimitIsRefusedBeforeParsing() throws Exception {
        // 3,000 bytes of markup around 4 characters of text
        Path html = write("markup.html", "<div>" + "<span></span>".repeat(230) + "text</div>");

        assertFails(() -> new TextExtraction(1_000, dir).extract("markup.html", html),
                IngestException.Kind.INVALID_FILE, "too large");
        assertThat(extract(html).text()).isEqualTo("text\n");
    }

    // ---- measurement, not an assertion on time ----

    @Test
    void hundredPagePdfThroughput() throws Exception {
        List<List<String>> pages = new ArrayList<>();
        for (int p = 1; p <= 100; p++) {
            List<String> lines = new ArrayList<>();
            for (int l = 1; l <= 40; l++) {
                lines.add("Page " + p + " line " + l + ": the quick brown fox jumps over the lazy dog.");
            }
            pages.add(lines);
        }
        Path pdf = TestDocuments.pdf(dir.resolve("hundred.pdf"), pages);
        extract(pdf); // warm-up: class loading, font metrics

        long start = System.nanoTime();
        ExtractedText text = extract(pdf);
        double seconds = (System.nanoTime() - start) / 1e9;

        assertThat(text.pages()).isEqualTo(100);
        assertThat(text.text()).containsSubsequence("Page 1 line 1:", "Page 50 line 40:", "Page 100 line 40:");
        System.out.printf("PDF extraction: %d pages, %,d characters in %.3f s = %.0f pages/s%n",
                text.pages(), text.text().length(), seconds, text.pages() / seconds);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
