package io.spindle.testing;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Server-Sent Events as the Assistants API streams them: parses a body (whole, or as it arrives)
 * into {@link Event}s and checks each event's data against its OpenAI schema. Which schema belongs
 * to which {@code thread.*} event is read from the stream event components of
 * {@code /openai-schemas.json} ({@code ThreadStreamEvent}, {@code RunStreamEvent}, ...); besides
 * those, {@code error} carries an {@code ErrorResponse} ({@code {"error":{...}}}, the shape every
 * SDK raises cleanly, behaviour dossier §7.6) and {@code done} the literal {@code [DONE]}.
 */
public final class SseEvents {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final List<String> STREAM_EVENT_COMPONENTS =
            List.of("ThreadStreamEvent", "RunStreamEvent", "RunStepStreamEvent", "MessageStreamEvent");

    private SseEvents() {}

    /** One event: its {@code event:} name and its {@code data:} text. */
    public record Event(String name, String data) {
        /** The data as JSON ({@code [DONE]} as a text node). */
        public JsonNode json() {
            if (name.equals("done")) {
                return TextNode.valueOf(data);
            }
            try {
                return MAPPER.readTree(data);
            } catch (JsonProcessingException e) {
                throw new AssertionError("event " + name + " has data that is not JSON: " + data, e);
            }
        }

        /** The event as OpenAI frames it: {@code event: NAME\ndata: DATA\n\n}. */
        public String frame() {
            return "event: " + name + "\ndata: " + data + "\n\n";
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** The OpenAI schema of an event's data, or null for {@code done}; fails for a name outside the catalogue. */
    public static String schemaFor(String eventName) {
        return switch (eventName) {
            case "done" -> null;
            case "error" -> "ErrorResponse";
            default -> {
                String schema = Catalogue.SCHEMAS.get(eventName);
                if (schema == null) {
                    throw new AssertionError("'" + eventName + "' is not an Assistants stream event; known: "
                            + Catalogue.SCHEMAS.keySet() + ", error, done");
                }
                yield schema;
            }
        };
    }

    /** The names of the {@code thread.*} events, with the schema of their data. */
    public static Map<String, String> catalogue() {
        return Catalogue.SCHEMAS;
    }

    /** Checks one event: a known name, and data valid against its schema ({@code done}: exactly {@code [DONE]}). */
    public static void validate(Event event) {
        String schema = schemaFor(event.name());
        if (schema == null) {
            if (!event.data().equals("[DONE]")) {
                throw new AssertionError("event done must carry data [DONE], got: " + event.data());
            }
            return;
        }
        try {
            OpenAiSchemas.assertValid(schema, event.json());
        } catch (AssertionError e) {
            throw new AssertionError("event " + event.name() + ": " + e.getMessage(), e);
        }
    }

    /** Parses a whole SSE body (see {@link Decoder}) and validates every event. */
    public static List<Event> parseAndValidate(String body) {
        List<Event> events = parse(body);
        events.forEach(SseEvents::validate);
        return events;
    }

    /** Parses a whole SSE body; an unterminated last event is an error. */
    public static List<Event> parse(String body) {
        Decoder decoder = new Decoder();
        List<Event> events = new ArrayList<>(decoder.feed(body.getBytes(StandardCharsets.UTF_8)));
        decoder.end();
        return events;
    }

    /**
     * Incremental SSE parser (the WHATWG rules: lines end in LF, CRLF or CR; one space after the
     * colon is dropped; several {@code data} lines join with LF; lines starting with a colon are
     * comments; an event without {@code event:} is named {@code message}).
     */
    public static final class Decoder {
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();
        private boolean afterCr;
        private String name;
        private StringBuilder data;

        /** Feeds bytes; returns the events they completed. */
        public List<Event> feed(byte[] bytes) {
            return feed(bytes, 0, bytes.length);
        }

        public List<Event> feed(byte[] bytes, int offset, int length) {
            List<Event> done = new ArrayList<>();
            for (int i = offset; i < offset + length; i++) {
                byte b = bytes[i];
                if (afterCr && b == '\n') {
                    afterCr = false;
                    continue;
                }
                afterCr = b == '\r';
                if (b == '\n' || b == '\r') {
                    Event e = line(line.toString(StandardCharsets.UTF_8));
                    line.reset();
                    if (e != null) {
                        done.add(e);
                    }
                } else {
                    line.write(b);
                }
            }
            return done;
        }

        /** The body ended: fails if it ended inside an event. */
        public void end() {
            if (line.size() > 0 || name != null || data != null) {
                throw new AssertionError("the stream ended inside an event (no blank line after it): name=" + name
                        + " data=" + data + " rest=" + line.toString(StandardCharsets.UTF_8));
            }
        }

        private Event line(String text) {
            if (text.isEmpty()) {
                if (name == null && data == null) {
                    return null;
                }
                Event e = new Event(name == null ? "message" : name, data == null ? "" : data.toString());
                name = null;
                data = null;
                return e;
            }
            if (text.startsWith(":")) {
                return null;
            }
            int colon = text.indexOf(':');
            String field = colon < 0 ? text : text.substring(0, colon);
            String value = colon < 0 ? "" : text.substring(colon + 1);
            if (value.startsWith(" ")) {
                value = value.substring(1);
            }
            switch (field) {
                case "event" -> name = value;
                case "data" -> {
                    if (data == null) {
                        data = new StringBuilder(value);
                    } else {
                        data.append('\n').append(value);
                    }
                }
                default -> { } // id, retry and unknown fields do not concern these tests
            }
            return null;
        }
    }

    /**
     * Passes a stream's bytes through unchanged while validating each event as it completes, so a
     * streaming client still sees events as they arrive. A bad event throws {@link AssertionError}
     * from {@code read}; {@link #events()} lists the events seen so far.
     */
    public static final class CheckingInputStream extends FilterInputStream {
        private final Decoder decoder = new Decoder();
        private final List<Event> events = Collections.synchronizedList(new ArrayList<>());

        public CheckingInputStream(InputStream in) {
            super(in);
        }

        public List<Event> events() {
            return List.copyOf(events);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                check(new byte[] {(byte) b}, 0, 1);
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = super.read(buffer, offset, length);
            if (n > 0) {
                check(buffer, offset, n);
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            byte[] skipped = new byte[(int) Math.min(n, 8192)];
            int read = read(skipped, 0, skipped.length);
            return Math.max(read, 0);
        }

        @Override
        public boolean markSupported() {
            return false;
        }

        private void check(byte[] buffer, int offset, int length) {
            for (Event e : decoder.feed(buffer, offset, length)) {
                validate(e);
                events.add(e);
            }
        }
    }

    /** Event name → schema, from the stream event components of the schema file. */
    private static final class Catalogue {
        static final Map<String, String> SCHEMAS = read();

        private static Map<String, String> read() {
            JsonNode components;
            try (InputStream in = SseEvents.class.getResourceAsStream(OpenAiSchemas.RESOURCE)) {
                if (in == null) {
                    throw new IllegalStateException(OpenAiSchemas.RESOURCE + " is not on the classpath");
                }
                components = MAPPER.readTree(in).path("components").path("schemas");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Map<String, String> schemas = new TreeMap<>();
            for (String component : STREAM_EVENT_COMPONENTS) {
                for (JsonNode variant : components.path(component).path("oneOf")) {
                    String ref = variant.path("properties").path("data").path("$ref").asText();
                    for (JsonNode name : variant.path("properties").path("event").path("enum")) {
                        schemas.put(name.asText(), ref.substring(ref.lastIndexOf('/') + 1));
                    }
                }
            }
            if (schemas.size() < 20) {
                throw new IllegalStateException("expected the stream event catalogue in " + OpenAiSchemas.RESOURCE
                        + ", found only " + schemas);
            }
            return Collections.unmodifiableMap(schemas);
        }
    }
}
