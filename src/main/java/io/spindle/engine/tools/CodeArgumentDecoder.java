package io.spindle.engine.tools;

/**
 * Decodes, piece by piece, the code a model writes as code_interpreter arguments, so the code can stream as it is
 * written: the JSON string value of the top-level {@code code} field of {@code {"code": "..."}}, or the arguments as
 * they are when they are not a JSON object (models sometimes send bare code). What it returns, concatenated, is what
 * {@link io.spindle.api.ToolCall.CodeInterpreter#input()} reads from the whole arguments. Nothing is returned before
 * the code starts, so arguments found not to be JSON early enough are still passed on whole; a high surrogate waits
 * for its pair, so no piece holds half a character.
 */
public final class CodeArgumentDecoder {
    private static final String FIELD = "code";

    private enum State { START, BARE, BEFORE_KEY, KEY, AFTER_KEY, BEFORE_VALUE, CODE, SKIP_STRING, SKIP_VALUE, AFTER_VALUE, DONE }

    private State state = State.START;
    /** The arguments read so far, until the code starts: what is passed on if they turn out not to be JSON. */
    private final StringBuilder seen = new StringBuilder();
    private final StringBuilder key = new StringBuilder();
    private final StringBuilder ignored = new StringBuilder();
    /** Inside a string (a key, the code, a skipped value): the escape read so far, from its backslash. */
    private final StringBuilder escape = new StringBuilder();
    /** Depth of brackets inside a skipped value, and whether the skip is inside one of its strings. */
    private int depth;
    private boolean skipInString;
    private boolean skipEscaped;
    private boolean valueIsCode;
    private char heldHighSurrogate;

    /** The code this piece of the arguments adds (possibly empty). */
    public String feed(String piece) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < piece.length(); i++) {
            char c = piece.charAt(i);
            if (state != State.CODE && state != State.BARE && state != State.DONE) {
                seen.append(c);
            }
            step(c, out);
        }
        return release(out);
    }

    private void step(char c, StringBuilder out) {
        switch (state) {
            case START -> {
                if (c == '{') {
                    state = State.BEFORE_KEY;
                } else if (!isWhitespace(c)) {
                    bare(out);
                }
            }
            case BARE -> out.append(c);
            case BEFORE_KEY -> {
                if (c == '"') {
                    key.setLength(0);
                    state = State.KEY;
                } else if (c == '}') {
                    state = State.DONE;
                } else if (!isWhitespace(c) && c != ',') {
                    bare(out);
                }
            }
            case KEY -> string(c, key, State.AFTER_KEY);
            case AFTER_KEY -> {
                if (c == ':') {
                    valueIsCode = key.toString().equals(FIELD);
                    state = State.BEFORE_VALUE;
                } else if (!isWhitespace(c)) {
                    bare(out);
                }
            }
            case BEFORE_VALUE -> {
                if (isWhitespace(c)) {
                    return;
                }
                if (c == '"') {
                    state = valueIsCode ? State.CODE : State.SKIP_STRING;
                    if (valueIsCode) {
                        seen.setLength(0);
                    }
                } else {
                    depth = 0;
                    skipInString = false;
                    state = State.SKIP_VALUE;
                    skip(c);
                }
            }
            case CODE -> string(c, out, State.DONE);
            case SKIP_STRING -> {
                string(c, ignored, State.AFTER_VALUE);
                ignored.setLength(0);
            }
            case SKIP_VALUE -> skip(c);
            case AFTER_VALUE -> {
                if (c == ',') {
                    state = State.BEFORE_KEY;
                } else if (c == '}') {
                    state = State.DONE;
                } else if (!isWhitespace(c)) {
                    bare(out);
                }
            }
            case DONE -> {
                // what follows the code (other fields, the closing brace) adds nothing to it
            }
        }
    }

    /** One character of a JSON string, decoded into {@code into}; the closing quote moves on to {@code next}. */
    private void string(char c, StringBuilder into, State next) {
        if (!escape.isEmpty()) {
            escape.append(c);
            if (escape.charAt(1) == 'u') {
                if (escape.length() == 6) {
                    into.append(hex(escape.substring(2)));
                    escape.setLength(0);
                }
                return;
            }
            into.append(switch (c) {
                case 'n' -> '\n';
                case 't' -> '\t';
                case 'r' -> '\r';
                case 'b' -> '\b';
                case 'f' -> '\f';
                default -> c; // \" \\ \/
            });
            escape.setLength(0);
        } else if (c == '\\') {
            escape.append(c);
        } else if (c == '"') {
            state = next;
        } else {
            into.append(c);
        }
    }

    /** One character of a skipped number, literal, object or array (its end is the comma or brace after it). */
    private void skip(char c) {
        if (skipInString) {
            if (skipEscaped) {
                skipEscaped = false;
            } else if (c == '\\') {
                skipEscaped = true;
            } else if (c == '"') {
                skipInString = false;
            }
            return;
        }
        switch (c) {
            case '"' -> skipInString = true;
            case '{', '[' -> depth++;
            case '}', ']' -> {
                if (depth == 0) {
                    state = State.DONE; // the closing brace of the arguments
                } else {
                    depth--;
                }
            }
            case ',' -> {
                if (depth == 0) {
                    state = State.BEFORE_KEY;
                }
            }
            default -> {
                // part of a number or literal
            }
        }
    }

    /** The arguments are not a JSON object: everything read so far is code, and so is everything after. */
    private void bare(StringBuilder out) {
        state = State.BARE;
        out.append(seen);
        seen.setLength(0);
    }

    /** The decoded characters, but for a trailing high surrogate, which waits for the next piece. */
    private String release(StringBuilder out) {
        if (heldHighSurrogate != 0) {
            out.insert(0, heldHighSurrogate);
            heldHighSurrogate = 0;
        }
        if (!out.isEmpty() && Character.isHighSurrogate(out.charAt(out.length() - 1))) {
            heldHighSurrogate = out.charAt(out.length() - 1);
            out.setLength(out.length() - 1);
        }
        return out.toString();
    }

    /** The character of a {@code \\uXXXX} escape; a malformed one is kept as written (Jackson would refuse it). */
    private static String hex(String digits) {
        for (int i = 0; i < digits.length(); i++) {
            if (Character.digit(digits.charAt(i), 16) < 0) {
                return "\\u" + digits;
            }
        }
        return String.valueOf((char) Integer.parseInt(digits, 16));
    }

    private static boolean isWhitespace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
    }
}
