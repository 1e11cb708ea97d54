package io.spindle.ingest;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.apache.pdfbox.pdmodel.encryption.InvalidPasswordException;
import org.apache.poi.EncryptedDocumentException;
import org.apache.poi.UnsupportedFileFormatException;
import org.apache.poi.ooxml.POIXMLException;
import org.apache.poi.openxml4j.exceptions.OpenXML4JException;
import org.apache.poi.openxml4j.exceptions.OpenXML4JRuntimeException;
import org.apache.poi.util.RecordFormatException;
import org.xml.sax.SAXException;

/**
 * Turns an uploaded document into plain text for file_search, or fails with the
 * {@code last_error} a vector store file reports.
 *
 * <p>The extension picks the format from one table ({@link #FORMATS}); adding a format is one
 * {@link Extractor} and one line there. The types are OpenAI's list for file_search, plus
 * {@code .xlsx}, {@code .htm} and {@code .markdown}. Not read: {@code .csv} (OpenAI refuses it for
 * retrieval) and legacy Word {@code .doc} (POI's HWPF could read it, but no test could make one: a
 * reader nobody can test is not offered), both {@code unsupported_file}.
 *
 * <p>Limits: the text of one document is at most {@code maxChars} characters; a document with more
 * fails as {@code invalid_file} ("too large", OpenAI's wording), rather than being indexed in part
 * without anyone knowing. Extraction stops at the limit, so memory stays bounded by it. The
 * default, {@link #DEFAULT_MAX_CHARS}, is above OpenAI's limit of 2 million tokens per file (about 8
 * million characters of English).
 *
 * <p>Files touched: an input stream is copied to a temporary file in {@code scratchDir} (deleted
 * afterwards); nothing else is written anywhere. OOXML is read straight from the file (see
 * {@link Ooxml} for the JVM-wide zip-bomb limits), PDFs too, with a font mapper that never scans
 * or caches system fonts (see {@link TextOnlyFontMapper}).
 */
public final class TextExtraction {
    public static final long DEFAULT_MAX_CHARS = 10_000_000;

    private static final Extractor TEXT = new PlainTextExtractor();
    private static final Map<String, Extractor> FORMATS = formats(
            Map.entry("pdf", new PdfExtractor()),
            Map.entry("docx", new DocxExtractor(Ooxml.TREE_BUDGET_BYTES)),
            Map.entry("pptx", new PptxExtractor(Ooxml.TREE_BUDGET_BYTES)),
            Map.entry("xlsx", new XlsxExtractor()),
            Map.entry("html", new HtmlExtractor()),
            Map.entry("htm", new HtmlExtractor()),
            Map.entry("json", new JsonExtractor()),
            Map.entry("md", TEXT),
            Map.entry("markdown", TEXT),
            Map.entry("txt", TEXT),
            Map.entry("tex", TEXT),
            Map.entry("c", TEXT),
            Map.entry("cpp", TEXT),
            Map.entry("cs", TEXT),
            Map.entry("java", TEXT),
            Map.entry("php", TEXT),
            Map.entry("py", TEXT),
            Map.entry("rb", TEXT),
            Map.entry("css", TEXT),
            Map.entry("js", TEXT),
            Map.entry("sh", TEXT),
            Map.entry("ts", TEXT));

    private final long maxChars;
    private final Path scratchDir;

    /**
     * @param maxChars   the most characters of text one document may have
     * @param scratchDir where an input stream is copied before it is read (created if missing)
     */
    public TextExtraction(long maxChars, Path scratchDir) {
        if (maxChars < 1) {
            throw new IllegalArgumentException("maxChars must be positive: " + maxChars);
        }
        this.maxChars = maxChars;
        this.scratchDir = scratchDir;
    }

    /** The extensions file_search reads, without the dot, sorted. */
    public static Set<String> extensions() {
        return FORMATS.keySet();
    }

    /** Whether a file of this name is of a type file_search reads (by its extension, any case). */
    public static boolean supports(String filename) {
        return extractorFor(filename).isPresent();
    }

    /** The text of the file at {@code file}, uploaded as {@code filename}. */
    public ExtractedText extract(String filename, Path file) throws IngestException {
        Extractor extractor = extractorOrRefuse(filename);
        TextSink out = new TextSink(maxChars);
        try {
            extractor.extract(file, out);
        } catch (Exception | StackOverflowError e) {
            throw classify(extractor, out, e);
        }
        if (out.overflowed()) {
            throw IngestException.invalid(IngestException.TOO_LARGE);
        }
        ExtractedText text = out.result();
        if (text.text().isBlank()) {
            throw IngestException.invalid("The file could not be parsed because it contains no text.");
        }
        return text;
    }

    /** The text of a document read from {@code in}, which is copied to the scratch directory first. */
    public ExtractedText extract(String filename, InputStream in) throws IngestException {
        extractorOrRefuse(filename);
        Path copy = null;
        try {
            Files.createDirectories(scratchDir);
            copy = Files.createTempFile(scratchDir, "upload-", ".tmp");
            Files.copy(in, copy, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            deleteQuietly(copy);
            throw new IngestException(IngestException.Kind.SERVER_ERROR,
                    "The file could not be parsed because of an internal error.", e);
        }
        try {
            return extract(filename, copy);
        } finally {
            deleteQuietly(copy);
        }
    }

    /**
     * What a failure means for the client. Parsers report a bad document with I/O, XML and format
     * exceptions; a stack overflow comes from a document nested absurdly deep. Anything else is a
     * fault of ours: {@code server_error}.
     */
    private static IngestException classify(Extractor extractor, TextSink out, Throwable e) {
        if (out.overflowed()) {
            return IngestException.invalid(IngestException.TOO_LARGE);
        }
        if (e instanceof InvalidPasswordException || e instanceof EncryptedDocumentException) {
            return new IngestException(IngestException.Kind.INVALID_FILE,
                    "The file could not be parsed because it is encrypted.", e);
        }
        if (e instanceof TextFiles.NotText || e instanceof CharacterCodingException) {
            return new IngestException(IngestException.Kind.INVALID_FILE,
                    "The file could not be parsed because it is not UTF-8, UTF-16 or ASCII text.", e);
        }
        if (e instanceof IOException || e instanceof SAXException || e instanceof OpenXML4JException
                || e instanceof OpenXML4JRuntimeException || e instanceof POIXMLException
                || e instanceof UnsupportedFileFormatException || e instanceof RecordFormatException
                || e instanceof StackOverflowError) {
            return new IngestException(IngestException.Kind.INVALID_FILE,
                    "The file could not be parsed because it is not a valid " + extractor.format() + " file.", e);
        }
        return new IngestException(IngestException.Kind.SERVER_ERROR,
                "The file could not be parsed because of an internal error.", e);
    }

    private static Extractor extractorOrRefuse(String filename) throws IngestException {
        return extractorFor(filename).orElseThrow(
                () -> new IngestException(IngestException.Kind.UNSUPPORTED_FILE, IngestException.UNSUPPORTED, null));
    }

    private static Optional<Extractor> extractorFor(String filename) {
        if (filename == null) {
            return Optional.empty();
        }
        int dot = filename.lastIndexOf('.');
        if (dot < 0 || dot == filename.length() - 1) {
            return Optional.empty();
        }
        return Optional.ofNullable(FORMATS.get(filename.substring(dot + 1).toLowerCase(Locale.ROOT)));
    }

    @SafeVarargs
    private static Map<String, Extractor> formats(Map.Entry<String, Extractor>... entries) {
        Map<String, Extractor> table = new TreeMap<>();
        for (Map.Entry<String, Extractor> e : entries) {
            if (table.put(e.getKey(), e.getValue()) != null) {
                throw new IllegalStateException("extension listed twice: " + e.getKey());
            }
        }
        return Collections.unmodifiableMap(table);
    }

    private static void deleteQuietly(Path file) {
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // a leftover temporary file in the scratch directory is harmless
            }
        }
    }
}
