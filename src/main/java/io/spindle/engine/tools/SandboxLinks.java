package io.spindle.engine.tools;

import io.spindle.api.Annotation;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code sandbox:/mnt/data/NAME} links by which an answer points at files code_interpreter wrote in this run: each
 * becomes a {@code file_path} annotation whose {@code text} is the link. A link names a file by its name as written or
 * percent-encoded (a space as {@code %20}), followed by the end of the text or by a character that cannot continue a
 * name (so {@code (sandbox:/mnt/data/a.csv)} and {@code sandbox:/mnt/data/a.csv.} both link {@code a.csv}); the longest
 * written name wins. A link to a file the run did not write stays plain text.
 */
final class SandboxLinks implements Annotator {
    static final String PREFIX = "sandbox:/mnt/data/";

    /** Each way the model may spell a written file's name, to the file's id. */
    private final Map<String, String> spellings = new LinkedHashMap<>();

    /** @param written the files written, by name; a later file of the same name replaced the earlier one */
    private SandboxLinks(Map<String, String> written) {
        written.forEach((name, fileId) -> {
            spellings.put(name, fileId);
            spellings.put(URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20"), fileId);
        });
    }

    static Annotator of(Map<String, String> written) {
        return written.isEmpty() ? NOTHING : new SandboxLinks(written);
    }

    @Override
    public int nextStart(String text, int from) {
        int whole = text.indexOf(PREFIX, from);
        if (whole >= 0) {
            return whole;
        }
        for (int at = Math.max(from, text.length() - PREFIX.length() + 1); at < text.length(); at++) {
            if (PREFIX.startsWith(text.substring(at))) {
                return at;
            }
        }
        return -1;
    }

    @Override
    public Reading read(String text, int start, boolean finished) {
        if (!text.startsWith(PREFIX, start)) {
            boolean beginning = text.length() - start < PREFIX.length() && PREFIX.startsWith(text.substring(start));
            return beginning && !finished ? Reading.UNFINISHED : Reading.NONE;
        }
        int name = start + PREFIX.length();
        int available = text.length() - name;
        int end = -1;
        String fileId = null;
        boolean mayGrow = false;
        for (Map.Entry<String, String> spelling : spellings.entrySet()) {
            String s = spelling.getKey();
            if (available < s.length()) {
                mayGrow |= s.regionMatches(0, text, name, available);
            } else if (text.regionMatches(name, s, 0, s.length())) {
                int after = name + s.length();
                if (after == text.length()) {
                    mayGrow = true;
                }
                if ((after == text.length() || ends(text.charAt(after))) && after > end) {
                    end = after;
                    fileId = spelling.getValue();
                }
            }
        }
        if (mayGrow && !finished) {
            return Reading.UNFINISHED;
        }
        return end < 0 ? Reading.NONE : new Reading(end, Annotation.FILE_PATH, fileId);
    }

    /** Whether {@code c} cannot continue a file name, so a name before it is whole. */
    private static boolean ends(char c) {
        return !(Character.isLetterOrDigit(c) || c == '_' || c == '-' || c == '%');
    }
}
