package io.spindle.ingest;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.jsoup.nodes.Node;
import org.jsoup.nodes.TextNode;
import org.jsoup.select.NodeFilter;
import org.jsoup.select.NodeTraversor;

/**
 * HTML (jsoup): the text a browser shows. The title, then the body with each block element (heading,
 * paragraph, list item, table row, ...) on lines of its own, table cells separated by tabs,
 * whitespace collapsed as a browser collapses it except inside {@code pre}. Scripts, styles,
 * templates and elements marked {@code hidden} are dropped. The character set comes from a byte
 * order mark or a {@code <meta>} tag, else UTF-8.
 *
 * <p>jsoup builds the whole tree in memory (several times the file's size), so a file larger than
 * the text limit, in bytes, is refused before parsing.
 */
final class HtmlExtractor implements Extractor {
    private static final Set<String> HIDDEN = Set.of("script", "style", "noscript", "template");
    private static final Set<String> CELLS = Set.of("td", "th");

    @Override
    public String format() {
        return "HTML";
    }

    @Override
    public void extract(Path file, TextSink out) throws Exception {
        out.refuseInputLargerThanLimit(Files.size(file));
        Document document = Jsoup.parse(file.toFile(), null);
        String title = document.title().strip();
        if (!title.isEmpty()) {
            out.append(title).blankLine();
        }
        NodeTraversor.filter(new Visible(out), document.body());
    }

    private static final class Visible implements NodeFilter {
        private final TextSink out;
        private final StringBuilder words = new StringBuilder();
        private int preformatted;

        Visible(TextSink out) {
            this.out = out;
        }

        @Override
        public FilterResult head(Node node, int depth) {
            if (node instanceof TextNode text) {
                if (preformatted > 0) {
                    out.append(text.getWholeText());
                } else {
                    collapsed(text.getWholeText());
                }
            } else if (node instanceof Element element) {
                String name = element.normalName();
                if (HIDDEN.contains(name) || element.hasAttr("hidden")) {
                    return FilterResult.SKIP_ENTIRELY;
                }
                if (name.equals("pre")) {
                    preformatted++;
                }
                if (CELLS.contains(name)) {
                    if (element.previousElementSibling() != null) {
                        out.append('\t');
                    }
                } else if (name.equals("br") || element.isBlock()) {
                    out.newline();
                }
            }
            return FilterResult.CONTINUE;
        }

        @Override
        public FilterResult tail(Node node, int depth) {
            if (node instanceof Element element && !CELLS.contains(element.normalName())) {
                if (element.normalName().equals("pre")) {
                    preformatted--;
                }
                if (element.isBlock()) {
                    out.newline();
                }
            }
            return FilterResult.CONTINUE;
        }

        /** Runs of whitespace (a no-break space included) become one space, as a browser shows them. */
        private void collapsed(String text) {
            boolean gap = false;
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (Character.isWhitespace(c) || c == '\u00A0') {
                    gap = true;
                    continue;
                }
                if (gap) {
                    out.append(words).space();
                    words.setLength(0);
                    gap = false;
                }
                words.append(c);
            }
            out.append(words);
            words.setLength(0);
            if (gap) {
                out.space();
            }
        }
    }
}
