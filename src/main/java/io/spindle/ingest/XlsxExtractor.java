package io.spindle.ingest;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.Locale;
import org.apache.poi.openxml4j.opc.OPCPackage;
import org.apache.poi.ss.usermodel.DataFormatter;
import org.apache.poi.ss.util.CellReference;
import org.apache.poi.util.XMLHelper;
import org.apache.poi.xssf.eventusermodel.ReadOnlySharedStringsTable;
import org.apache.poi.xssf.eventusermodel.XSSFReader;
import org.apache.poi.xssf.eventusermodel.XSSFSheetXMLHandler;
import org.apache.poi.xssf.model.StylesTable;
import org.apache.poi.xssf.usermodel.XSSFComment;
import org.xml.sax.InputSource;
import org.xml.sax.XMLReader;

/**
 * Excel (POI's streaming XSSF reader): each sheet as its name on a line, then one line per row with
 * the cells' displayed values separated by tabs, empty cells kept as empty columns so values stay
 * under their column. Sheets are read as SAX events, so a large sheet costs no more memory than its
 * text, and the package has no budget beyond POI's limit per part: only the shared strings table,
 * one part, is held whole.
 */
final class XlsxExtractor implements Extractor {

    @Override
    public String format() {
        return "Excel";
    }

    @Override
    public void extract(Path file, TextSink out) throws Exception {
        try (OPCPackage pkg = Ooxml.open(file, Long.MAX_VALUE, out)) {
            XSSFReader reader = new XSSFReader(pkg);
            ReadOnlySharedStringsTable strings = new ReadOnlySharedStringsTable(pkg, false);
            StylesTable styles = reader.getStylesTable();
            DataFormatter formatter = new DataFormatter(Locale.ROOT);
            XSSFReader.SheetIterator sheets = reader.getSheetIterator();
            while (sheets.hasNext()) {
                try (InputStream sheet = sheets.next()) {
                    out.blankLine().append(sheets.getSheetName()).newline();
                    XMLReader parser = XMLHelper.newXMLReader();
                    parser.setContentHandler(new XSSFSheetXMLHandler(styles, strings, new Rows(out), formatter, false));
                    parser.parse(new InputSource(sheet));
                }
            }
        }
    }

    /** Writes rows as tab-separated lines. */
    private static final class Rows implements XSSFSheetXMLHandler.SheetContentsHandler {
        private final TextSink out;
        private int nextColumn;

        Rows(TextSink out) {
            this.out = out;
        }

        @Override
        public void startRow(int row) {
            nextColumn = 0;
        }

        @Override
        public void endRow(int row) {
            if (nextColumn > 0) {
                out.append('\n');
            }
        }

        @Override
        public void cell(String reference, String value, XSSFComment comment) {
            int column = reference == null ? nextColumn : new CellReference(reference).getCol();
            for (int c = Math.min(column, nextColumn); c < column; c++) {
                out.append('\t');
            }
            if (nextColumn > 0) {
                out.append('\t');
            }
            out.append(value == null ? "" : value);
            nextColumn = Math.max(column, nextColumn) + 1;
        }
    }
}
