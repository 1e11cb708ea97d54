package io.spindle.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * A strict parser of Prometheus' text exposition format (version 0.0.4), for tests: no Java library on Maven Central
 * parses it (the Prometheus Java client only writes it). It refuses what Prometheus would refuse or what makes figures
 * ambiguous: bad names, label syntax or escapes, values that are not numbers, a sample before its family's TYPE or
 * apart from its family, a TYPE or HELP given twice, a duplicate series, and histograms whose buckets are not
 * cumulative or whose {@code +Inf} bucket differs from {@code _count}.
 */
public final class PrometheusText {
    private static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final Set<String> TYPES = Set.of("counter", "gauge", "histogram", "summary", "untyped");
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    public record Sample(String name, Map<String, String> labels, double value) {}

    public record Family(String name, String type, String help, List<Sample> samples) {}

    /** A parsed scrape: its families by name. */
    public record Scrape(Map<String, Family> families) {

        /**
         * The value of the one series named {@code sample} whose labels include {@code labels} (name, value, name,
         * value…); 0 when there is none (a counter not yet incremented is not shown). Fails when several match.
         */
        public double value(String sample, String... labels) {
            List<Sample> found = samples(sample, labels);
            if (found.size() > 1) {
                throw new AssertionError(found.size() + " series match " + sample + " " + List.of(labels) + ": " + found);
            }
            return found.isEmpty() ? 0 : found.getFirst().value();
        }

        /** Every series named {@code sample} whose labels include {@code labels}. */
        public List<Sample> samples(String sample, String... labels) {
            Map<String, String> wanted = new LinkedHashMap<>();
            for (int i = 0; i < labels.length; i += 2) {
                wanted.put(labels[i], labels[i + 1]);
            }
            return families.values().stream().flatMap(f -> f.samples().stream())
                    .filter(s -> s.name().equals(sample) && s.labels().entrySet().containsAll(wanted.entrySet()))
                    .toList();
        }

        public List<Sample> all() {
            return families.values().stream().flatMap(f -> f.samples().stream()).toList();
        }
    }

    private PrometheusText() {}

    /** {@code GET url} (the body as text; the status and content type checked), parsed. */
    public static Scrape scrape(String url) {
        HttpResponse<String> response = get(url, null);
        if (response.statusCode() != 200) {
            throw new AssertionError("GET " + url + " answered " + response.statusCode() + ": " + response.body());
        }
        String type = response.headers().firstValue("content-type").orElse("");
        if (!type.equals("text/plain; version=0.0.4; charset=utf-8")) {
            throw new AssertionError("GET " + url + " answered with content type '" + type + "'");
        }
        return parse(response.body());
    }

    /** {@code GET url}, with {@code Authorization: Bearer key} unless {@code key} is null. */
    public static HttpResponse<String> get(String url, String key) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).GET();
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        try {
            return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public static Scrape parse(String text) {
        if (!text.isEmpty() && !text.endsWith("\n")) {
            throw new IllegalArgumentException("the exposition does not end with a line feed");
        }
        Map<String, String> types = new LinkedHashMap<>();
        Map<String, String> helps = new LinkedHashMap<>();
        Map<String, List<Sample>> samples = new LinkedHashMap<>();
        Set<String> closed = new HashSet<>();
        Set<String> series = new HashSet<>();
        String current = null;
        String[] lines = text.split("\n", -1);
        for (int n = 0; n < lines.length - 1; n++) {
            String line = lines[n];
            try {
                if (line.isEmpty()) {
                    continue;
                }
                if (line.startsWith("#")) {
                    String[] parts = line.split(" ", 4);
                    if (parts.length >= 3 && (parts[1].equals("TYPE") || parts[1].equals("HELP"))) {
                        String family = name(parts[2], METRIC_NAME);
                        if (closed.contains(family) || (samples.containsKey(family) && !family.equals(current))) {
                            throw new IllegalArgumentException("metadata for " + family + " after its samples");
                        }
                        Map<String, String> into = parts[1].equals("TYPE") ? types : helps;
                        String value = parts.length == 4 ? parts[3] : "";
                        if (parts[1].equals("TYPE") && !TYPES.contains(value)) {
                            throw new IllegalArgumentException("unknown type '" + value + "'");
                        }
                        if (into.put(family, parts[1].equals("HELP") ? unescapeHelp(value) : value) != null) {
                            throw new IllegalArgumentException(parts[1] + " given twice for " + family);
                        }
                        if (current != null && !current.equals(family)) {
                            closed.add(current);
                        }
                        current = family;
                    }
                    continue;
                }
                Sample sample = sample(line);
                String family = familyOf(sample.name(), types);
                if (!family.equals(current) || closed.contains(family)) {
                    throw new IllegalArgumentException("sample of " + family + " apart from its family's TYPE and other samples");
                }
                if (!series.add(sample.name() + new TreeMap<>(sample.labels()))) {
                    throw new IllegalArgumentException("series given twice");
                }
                samples.computeIfAbsent(family, f -> new ArrayList<>()).add(sample);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("line " + (n + 1) + " '" + line + "': " + e.getMessage(), e);
            }
        }
        Map<String, Family> families = new LinkedHashMap<>();
        types.forEach((name, type) -> {
            Family family = new Family(name, type, helps.get(name), List.copyOf(samples.getOrDefault(name, List.of())));
            if (type.equals("histogram")) {
                checkHistogram(family);
            }
            families.put(name, family);
        });
        return new Scrape(families);
    }

    /** The family a sample belongs to: its own name, or a histogram's or summary's with the suffix taken off. */
    private static String familyOf(String sample, Map<String, String> types) {
        if (types.containsKey(sample)) {
            return sample;
        }
        for (String suffix : List.of("_bucket", "_sum", "_count")) {
            if (sample.endsWith(suffix)) {
                String base = sample.substring(0, sample.length() - suffix.length());
                String type = types.get(base);
                if ("histogram".equals(type) || ("summary".equals(type) && !suffix.equals("_bucket"))) {
                    return base;
                }
            }
        }
        throw new IllegalArgumentException("no TYPE for " + sample);
    }

    private static Sample sample(String line) {
        int i = 0;
        while (i < line.length() && line.charAt(i) != '{' && line.charAt(i) != ' ') {
            i++;
        }
        String name = name(line.substring(0, i), METRIC_NAME);
        Map<String, String> labels = new LinkedHashMap<>();
        if (i < line.length() && line.charAt(i) == '{') {
            i++;
            while (line.charAt(i) != '}') {
                int eq = line.indexOf('=', i);
                String label = name(line.substring(i, eq), LABEL_NAME);
                if (line.charAt(eq + 1) != '"') {
                    throw new IllegalArgumentException("label value of " + label + " not quoted");
                }
                StringBuilder value = new StringBuilder();
                int j = eq + 2;
                for (; line.charAt(j) != '"'; j++) {
                    char c = line.charAt(j);
                    if (c == '\\') {
                        char next = line.charAt(++j);
                        value.append(switch (next) {
                            case '\\' -> '\\';
                            case '"' -> '"';
                            case 'n' -> '\n';
                            default -> throw new IllegalArgumentException("bad escape \\" + next);
                        });
                    } else {
                        value.append(c);
                    }
                }
                if (labels.put(label, value.toString()) != null) {
                    throw new IllegalArgumentException("label " + label + " given twice");
                }
                i = j + 1;
                if (line.charAt(i) == ',') {
                    i++;
                } else if (line.charAt(i) != '}') {
                    throw new IllegalArgumentException("expected , or } at " + i);
                }
            }
            i++;
        }
        if (i >= line.length() || line.charAt(i) != ' ') {
            throw new IllegalArgumentException("no value");
        }
        String[] rest = line.substring(i + 1).split(" ", -1);
        if (rest.length > 2) {
            throw new IllegalArgumentException("more than a value and a timestamp");
        }
        if (rest.length == 2) {
            Long.parseLong(rest[1]);
        }
        return new Sample(name, Map.copyOf(labels), number(rest[0]));
    }

    private static double number(String text) {
        return switch (text) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> {
                if (!text.matches("[-+]?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?")) {
                    throw new IllegalArgumentException("'" + text + "' is not a number");
                }
                yield Double.parseDouble(text);
            }
        };
    }

    private static String name(String text, Pattern pattern) {
        if (!pattern.matcher(text).matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a valid name");
        }
        return text;
    }

    private static String unescapeHelp(String text) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' && i + 1 < text.length() && (text.charAt(i + 1) == '\\' || text.charAt(i + 1) == 'n')) {
                out.append(text.charAt(++i) == 'n' ? '\n' : '\\');
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** Per series, buckets cumulative in {@code le} order, ending with {@code +Inf} equal to {@code _count}. */
    private static void checkHistogram(Family family) {
        Map<Map<String, String>, TreeMap<Double, Double>> buckets = new LinkedHashMap<>();
        Map<Map<String, String>, Double> counts = new LinkedHashMap<>();
        for (Sample s : family.samples()) {
            if (s.name().endsWith("_bucket")) {
                Map<String, String> series = new TreeMap<>(s.labels());
                String le = series.remove("le");
                if (le == null) {
                    throw new IllegalArgumentException(family.name() + " has a bucket without le");
                }
                buckets.computeIfAbsent(series, k -> new TreeMap<>()).put(number(le), s.value());
            } else if (s.name().endsWith("_count")) {
                counts.put(new TreeMap<>(s.labels()), s.value());
            }
        }
        buckets.forEach((series, byBound) -> {
            double previous = 0;
            for (double count : byBound.values()) {
                if (count < previous) {
                    throw new IllegalArgumentException(family.name() + series + " has buckets that are not cumulative");
                }
                previous = count;
            }
            if (byBound.lastKey() != Double.POSITIVE_INFINITY || !Double.valueOf(previous).equals(counts.get(series))) {
                throw new IllegalArgumentException(family.name() + series + ": the +Inf bucket is not the _count");
            }
        });
    }
}
