package io.spindle.bench;

import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.PDPageContentStream;
import org.apache.pdfbox.pdmodel.font.PDType1Font;
import org.apache.pdfbox.pdmodel.font.Standard14Fonts;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Random;

/** Generated inputs for the file and vector store phases: English-like text, a PDF of it, random bytes. */
final class Corpus {
    /** Common words, each one token for bge's WordPiece vocabulary, so n words are about n tokens. */
    static final String[] WORDS = ("""
            the river city market north winter garden school music paper water light stone bridge train
            station doctor teacher story history science energy power engine system network server client
            table window kitchen forest mountain island ocean harbor village castle church library museum
            theater camera letter number answer question problem method result report market price value
            money bank office company worker manager leader member family friend mother father child
            people country nation state government law court police army war peace trade road car bus ship
            plane airport hotel room house home door wall floor roof fire smoke cloud rain snow wind storm
            summer spring autumn morning evening night week month year century moment hour minute second
            green blue red black white small large young old early late fast slow strong weak warm cold
            open closed simple clear heavy quiet public private local national modern ancient central
            build write read speak learn teach move carry bring send keep hold grow change follow create
            """).strip().split("\\s+");

    private final Random random;

    Corpus(long seed) {
        random = new Random(seed);
    }

    String word() {
        return WORDS[random.nextInt(WORDS.length)];
    }

    /** A sentence of 6 to 15 words. */
    String sentence() {
        int n = 6 + random.nextInt(10);
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < n; i++) {
            String w = word();
            s.append(i == 0 ? Character.toUpperCase(w.charAt(0)) + w.substring(1) : " " + w);
        }
        return s.append('.').toString();
    }

    /** About {@code words} words of text in paragraphs. */
    String text(int words) {
        StringBuilder t = new StringBuilder();
        int n = 0;
        while (n < words) {
            String s = sentence();
            n += s.split(" ").length;
            t.append(s).append(n % 120 < 12 ? "\n\n" : " ");
        }
        return t.toString();
    }

    /** A query of 3 to 6 words. */
    String query() {
        int n = 3 + random.nextInt(4);
        StringBuilder q = new StringBuilder(word());
        for (int i = 1; i < n; i++) q.append(' ').append(word());
        return q.toString();
    }

    /** Writes a PDF of {@code pages} pages, each {@code lines} lines of text in Helvetica; returns its word count. */
    int pdf(Path file, int pages, int lines) throws IOException {
        int words = 0;
        try (PDDocument doc = new PDDocument()) {
            PDType1Font font = new PDType1Font(Standard14Fonts.FontName.HELVETICA);
            for (int p = 0; p < pages; p++) {
                PDPage page = new PDPage();
                doc.addPage(page);
                try (PDPageContentStream c = new PDPageContentStream(doc, page)) {
                    c.beginText();
                    c.setFont(font, 10);
                    c.setLeading(14);
                    c.newLineAtOffset(50, 740);
                    for (int l = 0; l < lines; l++) {
                        StringBuilder line = new StringBuilder();
                        while (line.length() < 90) line.append(word()).append(' ');
                        words += line.toString().split(" ").length;
                        c.showText(line.toString().strip());
                        c.newLine();
                    }
                    c.endText();
                }
            }
            doc.save(file.toFile());
        }
        return words;
    }

    /**
     * Writes {@code bytes} bytes, 64 KiB at a time, never holding more: one random block, each copy
     * stamped with its number (cheap to make, so the client takes little of the CPU it measures).
     */
    static void bytes(OutputStream out, long bytes) throws IOException {
        byte[] block = new byte[64 * 1024];
        new Random(1).nextBytes(block);
        long n = 0;
        for (long left = bytes; left > 0; left -= block.length, n++) {
            for (int i = 0; i < 8; i++) block[i] = (byte) (n >>> (8 * i));
            out.write(block, 0, (int) Math.min(block.length, left));
        }
    }
}
