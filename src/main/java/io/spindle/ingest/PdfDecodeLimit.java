package io.spindle.ingest;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Field;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.apache.pdfbox.cos.COSDictionary;
import org.apache.pdfbox.cos.COSName;
import org.apache.pdfbox.filter.DecodeOptions;
import org.apache.pdfbox.filter.DecodeResult;
import org.apache.pdfbox.filter.Filter;
import org.apache.pdfbox.filter.FilterFactory;
import org.apache.pdfbox.io.RandomAccessRead;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.PDResources;

/**
 * Bounds the bytes PDFBox decodes from any one stream of a PDF (a page's content, a font, an object
 * or cross-reference stream) while {@link #within} runs: the first byte past the limit marks the
 * document too large ({@link TextSink#tooLarge}) and stops the decoding.
 *
 * <p>Why so deep a hook: PDFBox 3 decodes every stream whole into memory ({@code Filter.decode}
 * writes into a {@code RandomAccessReadWriteBuffer} of its own making), so a Flate stream of a few
 * hundred kilobytes that inflates to gigabytes exhausts the heap. The stream cache a document is
 * loaded with ({@code MemoryUsageSetting}, {@code StreamCacheCreateFunction}) holds only streams
 * being written or decrypted, never decoded ones, and no setting limits a filter's output. Every
 * decoding does go through one table, {@code FilterFactory.INSTANCE}: each filter there is
 * replaced, once per JVM, by one that counts what it writes. The table has no public setter, so it
 * is changed by reflection; {@code TextExtractionTest}'s stream bomb fails if a PDFBox upgrade
 * moves it. Outside {@link #within} (a test writing a PDF) the filters behave as PDFBox's own.
 *
 * <p>One decoding bypasses the table: a page whose content is a single stream with the one filter
 * {@code /FlateDecode} is inflated as it is parsed ({@code PDPage.getContentsForStreamParsing}). That
 * holds no memory, but nothing bounds it either (1.5 GB of blanks took 17 s to parse), so such pages
 * are read through {@link #boundedPage}, whose content is decoded like every other stream.
 */
final class PdfDecodeLimit {
    /** What the filters write through: the limit of the extraction running on this thread, none outside one. */
    private static final ThreadLocal<UnaryOperator<OutputStream>> GUARD = ThreadLocal.withInitial(UnaryOperator::identity);

    static {
        boundEveryFilter();
    }

    /** Work that reads a PDF. */
    interface Work {
        void run() throws Exception;
    }

    private PdfDecodeLimit() {}

    /** Runs {@code work} with every stream it decodes limited to {@code maxBytes}, overflowing {@code out}. */
    static void within(long maxBytes, TextSink out, Work work) throws Exception {
        GUARD.set(decoded -> new Capped(decoded, maxBytes, out));
        try {
            work.run();
        } finally {
            GUARD.remove();
        }
    }

    /** The page, with its content decoded through the filter table (so within the limit) rather than streamed. */
    static PDPage boundedPage(PDPage page) {
        return new BoundedPage(page);
    }

    private static final class BoundedPage extends PDPage {
        private final PDPage page;

        BoundedPage(PDPage page) {
            super(page.getCOSObject());
            this.page = page;
        }

        @Override
        public RandomAccessRead getContentsForStreamParsing() throws IOException {
            return getContentsForRandomAccess();
        }

        /** The original page's resources: they share the document's cache of fonts (a page made here has none). */
        @Override
        public PDResources getResources() {
            return page.getResources();
        }
    }

    @SuppressWarnings("unchecked")
    private static void boundEveryFilter() {
        try {
            Field table = FilterFactory.class.getDeclaredField("filters");
            table.setAccessible(true);
            Map<COSName, Filter> filters = (Map<COSName, Filter>) table.get(FilterFactory.INSTANCE);
            // one wrapper per filter, not per name: PDFBox drops a filter listed twice by identity
            // (/Fl and /FlateDecode are the same filter)
            Map<Filter, Filter> bounded = new IdentityHashMap<>();
            filters.replaceAll((name, filter) -> bounded.computeIfAbsent(filter, Bounded::new));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("PDFBox's filter table is not where Spindle expects it", e);
        }
    }

    /** A PDFBox filter whose decoded output is limited by the extraction on the calling thread. */
    private static final class Bounded extends Filter {
        private final Filter filter;

        Bounded(Filter filter) {
            this.filter = filter;
        }

        @Override
        public DecodeResult decode(InputStream encoded, OutputStream decoded, COSDictionary parameters, int index)
                throws IOException {
            return filter.decode(encoded, GUARD.get().apply(decoded), parameters, index);
        }

        @Override
        public DecodeResult decode(InputStream encoded, OutputStream decoded, COSDictionary parameters, int index,
                DecodeOptions options) throws IOException {
            return filter.decode(encoded, GUARD.get().apply(decoded), parameters, index, options);
        }

        @Override
        protected void encode(InputStream input, OutputStream encoded, COSDictionary parameters) throws IOException {
            filter.encode(input, encoded, parameters, 0); // the index is unused by encoding
        }
    }

    /** Passes bytes on until there would be more than the limit. */
    private static final class Capped extends FilterOutputStream {
        private final long maxBytes;
        private final TextSink sink;
        private long written;

        Capped(OutputStream out, long maxBytes, TextSink sink) {
            super(out);
            this.maxBytes = maxBytes;
            this.sink = sink;
        }

        @Override
        public void write(int b) throws IOException {
            reserve(1);
            out.write(b);
        }

        @Override
        public void write(byte[] bytes, int offset, int length) throws IOException {
            reserve(length);
            out.write(bytes, offset, length);
        }

        private void reserve(int bytes) {
            written += bytes;
            if (written > maxBytes) {
                throw sink.tooLarge();
            }
        }
    }
}
