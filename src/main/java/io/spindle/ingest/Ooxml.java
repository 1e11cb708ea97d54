package io.spindle.ingest;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Enumeration;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.poi.openxml4j.opc.OPCPackage;
import org.apache.poi.openxml4j.util.ZipEntrySource;
import org.apache.poi.openxml4j.util.ZipFileZipEntrySource;
import org.apache.poi.openxml4j.util.ZipSecureFile;

/**
 * Opens Office Open XML packages (docx, pptx, xlsx) read-only, straight from the file: parts are
 * inflated only when read (media never are), and POI writes no temporary files.
 *
 * <p>POI's zip-bomb guard is JVM-wide (static settings of {@link ZipSecureFile}); it is set here,
 * once, when the first package is opened, and nothing else in Spindle uses POI:
 * <ul>
 *   <li>an entry that inflates more than 100 times its compressed size is refused (POI's default
 *       ratio, stated so nobody relaxes it by accident);</li>
 *   <li>no single part inflates past {@link #MAX_PART_BYTES} (POI's default is 4 GB);</li>
 *   <li>up to {@link #MAX_ENTRIES} entries (POI's default of 1,000 refuses decks of a few hundred
 *       slides, each of which is several entries).</li>
 * </ul>
 * On top of that, each package gets a budget for all the bytes read from it together: Word and
 * PowerPoint documents are parsed into XML trees that take about 11 times the XML's size in heap
 * (measured: 10 MB of {@code document.xml} became 114 MB), so {@link #TREE_BUDGET_BYTES} bounds
 * their memory; a package over its budget is too large.
 */
final class Ooxml {
    static final double MIN_INFLATE_RATIO = 0.01;
    static final long MAX_PART_BYTES = 64L * 1024 * 1024;
    static final long MAX_ENTRIES = 20_000;
    /** The XML a docx or pptx may have in all: about 350 MB of heap while it is read. */
    static final long TREE_BUDGET_BYTES = 32L * 1024 * 1024;

    static {
        ZipSecureFile.setMinInflateRatio(MIN_INFLATE_RATIO);
        ZipSecureFile.setMaxEntrySize(MAX_PART_BYTES);
        ZipSecureFile.setMaxFileCount(MAX_ENTRIES);
    }

    private Ooxml() {}

    /**
     * The package, read-only, allowed to inflate {@code budgetBytes} in all before it counts as too
     * large for {@code out}. Opened through {@link ZipSecureFile} directly: POI's own
     * {@code OPCPackage.open(File)} falls back, on a zip whose central directory is damaged, to
     * reading every entry into memory from a stream; here such a file simply fails.
     */
    static OPCPackage open(Path file, long budgetBytes, TextSink out) throws Exception {
        ZipSecureFile zip = new ZipSecureFile(file.toFile());
        try {
            return OPCPackage.open(new Budgeted(new ZipFileZipEntrySource(zip), budgetBytes, out));
        } catch (Exception | Error e) {
            zip.close();
            throw e;
        }
    }

    /** Counts the bytes inflated from every entry together; past the budget the document is too large. */
    private static final class Budgeted implements ZipEntrySource {
        private final ZipEntrySource zip;
        private final long budget;
        private final TextSink out;
        private long inflated;

        Budgeted(ZipEntrySource zip, long budget, TextSink out) {
            this.zip = zip;
            this.budget = budget;
            this.out = out;
        }

        @Override
        public Enumeration<? extends ZipArchiveEntry> getEntries() {
            return zip.getEntries();
        }

        @Override
        public ZipArchiveEntry getEntry(String name) {
            return zip.getEntry(name);
        }

        @Override
        public InputStream getInputStream(ZipArchiveEntry entry) throws IOException {
            return new FilterInputStream(zip.getInputStream(entry)) {
                @Override
                public int read() throws IOException {
                    int b = super.read();
                    if (b >= 0) {
                        count(1);
                    }
                    return b;
                }

                @Override
                public int read(byte[] buffer, int offset, int length) throws IOException {
                    int n = super.read(buffer, offset, length);
                    if (n > 0) {
                        count(n);
                    }
                    return n;
                }
            };
        }

        private void count(int bytes) {
            inflated += bytes;
            if (inflated > budget) {
                throw out.tooLarge();
            }
        }

        @Override
        public void close() throws IOException {
            zip.close();
        }

        @Override
        public boolean isClosed() {
            return zip.isClosed();
        }
    }
}
