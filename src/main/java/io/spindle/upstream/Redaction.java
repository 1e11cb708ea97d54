package io.spindle.upstream;

import java.net.URI;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Removes secrets from text about the model endpoint before it is logged: the configured key wherever it appears,
 * anything that looks like a key ({@code Bearer …}, {@code sk-…}, the value of an {@code Authorization} or
 * {@code api-key} header) and the {@code user:password@} of URLs. Upstream bodies can echo the request's headers,
 * and exception messages can hold the URL, so every piece of upstream text goes through here.
 */
public final class Redaction {
    static final String MASK = "[redacted]";
    /** Longest text kept, so that an upstream cannot flood the log through its error bodies. */
    static final int MAX_CHARS = 2_000;
    /** A configured secret shorter than this is not searched for: it would mask ordinary words. */
    private static final int MIN_SECRET_CHARS = 6;
    /** Longer than any key-like value the patterns look for. */
    private static final int MARGIN = 1_024;

    /** {@code Authorization: Bearer x}, {@code "api-key":"x"}, {@code x-api-key=x}: the header's whole value. */
    private static final Pattern HEADER_VALUE = Pattern.compile(
            "(?i)((?:proxy-)?authorization|x-api-key|api[-_]?key|x-goog-api-key|access[-_]?token)"
                    + "([\"']?\\s*[:=]\\s*\\[?\\s*[\"']?)"
                    + "((?:(?:bearer|basic|token)\\s+)?[^\\s\"',;}\\]]+)");
    private static final Pattern SCHEME_TOKEN = Pattern.compile("(?i)\\b(bearer|basic)\\s+[A-Za-z0-9._~+/=-]+");
    /** Key formats of the common providers: OpenAI and compatibles (sk-, sk-proj-), Groq, Hugging Face, Google, xAI. */
    private static final Pattern KEY_LIKE = Pattern.compile(
            "\\b(?:sk|rk|pk)-[A-Za-z0-9_-]{8,}|\\b(?:gsk|hf|xai)_[A-Za-z0-9_-]{8,}|\\bxai-[A-Za-z0-9_-]{8,}|\\bAIza[A-Za-z0-9_-]{20,}");
    private static final Pattern URL_USER_INFO = Pattern.compile("(?i)\\b([a-z][a-z0-9+.-]*://)[^/\\s@\"']+@");

    /** The log has one line per event. */
    private static final Pattern LINE_BREAKS = Pattern.compile("\\s*[\\r\\n]+\\s*");

    private final List<String> secrets;
    /** How much more than {@value #MAX_CHARS} characters is searched: enough for any secret across the cut. */
    private final int margin;

    private Redaction(List<String> secrets) {
        this.secrets = secrets;
        this.margin = MARGIN + secrets.stream().mapToInt(String::length).max().orElse(0);
    }

    /** Redacts the configured key, and the password of the endpoint's URL, besides everything key-like. */
    public static Redaction of(Optional<String> apiKey, URI endpoint) {
        String userInfo = endpoint.getRawUserInfo();
        Stream<String> fromUrl = userInfo == null ? Stream.empty()
                : Stream.of(userInfo, userInfo.substring(userInfo.indexOf(':') + 1));
        return new Redaction(Stream.concat(apiKey.stream(), fromUrl).filter(s -> s.length() >= MIN_SECRET_CHARS).toList());
    }

    /**
     * {@code text} without secrets, on one line, cut to {@value #MAX_CHARS} characters. What is redacted is a little longer than
     * what is kept, so that a secret across the cut is still found whole (and the patterns' cost stays bounded).
     */
    public String text(String text) {
        if (text == null) {
            return "";
        }
        String out = text.length() > MAX_CHARS + margin ? text.substring(0, MAX_CHARS + margin) : text;
        for (String secret : secrets) {
            out = out.replace(secret, MASK);
        }
        out = LINE_BREAKS.matcher(patterns(out)).replaceAll(" ");
        return out.length() > MAX_CHARS ? out.substring(0, MAX_CHARS) + "…" : out;
    }

    /** {@code text} (a short one) without key-like values and URL credentials. */
    public static String patterns(String text) {
        String out = HEADER_VALUE.matcher(text).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + m.group(2) + MASK));
        out = SCHEME_TOKEN.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + " " + MASK));
        out = KEY_LIKE.matcher(out).replaceAll(MASK);
        return URL_USER_INFO.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + MASK + "@"));
    }

    /** The URL without its {@code user:password@}, query and fragment (where keys are sometimes passed). */
    public static String url(URI url) {
        String path = url.getRawPath() == null ? "" : url.getRawPath();
        return url.getScheme() + "://" + url.getHost() + (url.getPort() < 0 ? "" : ":" + url.getPort()) + path;
    }
}
