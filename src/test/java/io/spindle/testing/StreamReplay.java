package io.spindle.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Replays a run's events the way the SDK stream helpers do (openai-node's {@code AssistantStream},
 * openai-python's {@code AssistantEventHandler}): a snapshot per message and per step from its
 * {@code created} event, every delta merged into it with the SDKs' rules (behaviour dossier §7.7).
 * Fails where an SDK helper would crash or accumulate garbage, and where what was streamed does not
 * add up to what the final events say.
 */
public final class StreamReplay {
    /** Events after which a stream ends (only {@code done} may follow). */
    public static final Set<String> LAST = Set.of("thread.run.requires_action", "thread.run.completed",
            "thread.run.incomplete", "thread.run.failed", "thread.run.cancelled", "thread.run.expired");

    /** Messages and steps as accumulated, by id, in the order they were created; the last run event's run. */
    public record Result(Map<String, ObjectNode> messages, Map<String, ObjectNode> steps, JsonNode run) {
        /** The text accumulated for a message: its text parts' values, joined. */
        public String text(String messageId) {
            ObjectNode message = messages.get(messageId);
            if (message == null) {
                throw new AssertionError("no message " + messageId + " was streamed; streamed: " + messages.keySet());
            }
            return StreamReplay.text(message);
        }

        /** The one message streamed; fails if there were none or several. */
        public String onlyMessageId() {
            if (messages.size() != 1) {
                throw new AssertionError("expected one streamed message, got " + messages.keySet());
            }
            return messages.keySet().iterator().next();
        }
    }

    private final Map<String, ObjectNode> messages = new LinkedHashMap<>();
    private final Map<String, ObjectNode> steps = new LinkedHashMap<>();
    private final Set<String> partsSeen = new HashSet<>();
    private final Set<String> callsSeen = new HashSet<>();
    private JsonNode run;
    private String ended;

    private StreamReplay() {}

    /** Replays events (with or without the final {@code done}) and checks them; see the class comment. */
    public static Result replay(List<SseEvents.Event> events) {
        StreamReplay replay = new StreamReplay();
        for (int i = 0; i < events.size(); i++) {
            SseEvents.Event e = events.get(i);
            try {
                replay.apply(e, i == events.size() - 1);
            } catch (AssertionError failure) {
                throw new AssertionError("event #" + i + " (" + e.name() + "): " + failure.getMessage()
                        + "\nevents: " + order(events), failure);
            }
        }
        return new Result(replay.messages, replay.steps, replay.run);
    }

    /**
     * The {@link #order} of a run (as the SDK streams it, without {@code done}) that calls a built-in tool once and then
     * answers: a tool_calls step with its deltas, then a message_creation step with its message.
     */
    public static final List<String> TOOL_TURN_THEN_ANSWER = List.of(
            "thread.run.created", "thread.run.queued", "thread.run.in_progress",
            "thread.run.step.created", "thread.run.step.in_progress", "thread.run.step.delta*", "thread.run.step.completed",
            "thread.run.step.created", "thread.run.step.in_progress",
            "thread.message.created", "thread.message.in_progress", "thread.message.delta*",
            "thread.message.completed", "thread.run.step.completed", "thread.run.completed");

    /** The event names, with each run of consecutive deltas of one kind written once as {@code NAME*}. */
    public static List<String> order(List<SseEvents.Event> events) {
        List<String> names = new ArrayList<>();
        for (SseEvents.Event e : events) {
            String name = e.name().endsWith(".delta") ? e.name() + "*" : e.name();
            if (!(name.endsWith("*") && !names.isEmpty() && names.getLast().equals(name))) {
                names.add(name);
            }
        }
        return names;
    }

    /** The values of a message's text parts, joined. */
    public static String text(JsonNode message) {
        StringBuilder text = new StringBuilder();
        for (JsonNode part : message.path("content")) {
            if (part.path("type").asText().equals("text")) {
                text.append(part.path("text").path("value").asText());
            }
        }
        return text.toString();
    }

    private void apply(SseEvents.Event e, boolean last) {
        if (ended != null && !e.name().equals("done")) {
            throw new AssertionError("an event after " + ended + ", which ends a stream");
        }
        String name = e.name();
        if (name.equals("done")) {
            if (!last) {
                throw new AssertionError("done is not the last event");
            }
            return;
        }
        if (name.equals("error")) {
            ended = name;
            return;
        }
        JsonNode data = e.json();
        String id = data.path("id").asText();
        if (name.equals("thread.created")) {
            return;
        }
        if (name.equals("thread.message.delta")) {
            messageDelta(id, data.path("delta"));
        } else if (name.startsWith("thread.message.")) {
            message(name, id, data);
        } else if (name.equals("thread.run.step.delta")) {
            stepDelta(id, data.path("delta"));
        } else if (name.startsWith("thread.run.step.")) {
            step(name, id, data);
        } else if (name.startsWith("thread.run.")) {
            run(name, data);
        }
    }

    private void run(String name, JsonNode data) {
        if (run != null && !run.path("id").equals(data.path("id"))) {
            throw new AssertionError("events of two runs in one stream: " + run.path("id") + " and " + data.path("id"));
        }
        String status = name.substring("thread.run.".length());
        if (!status.equals("created") && !data.path("status").asText().equals(status)) {
            throw new AssertionError("the run's status is " + data.path("status") + " in " + name);
        }
        run = data;
        if (name.equals("thread.run.requires_action")) {
            ObjectNode step = inProgressToolStep();
            JsonNode required = data.path("required_action").path("submit_tool_outputs").path("tool_calls");
            List<ObjectNode> streamed = new ArrayList<>();
            step.path("step_details").path("tool_calls").forEach(c -> streamed.add(call(c)));
            List<ObjectNode> asked = new ArrayList<>();
            required.forEach(c -> asked.add(call(c)));
            if (!streamed.equals(asked)) {
                throw new AssertionError("the tool calls streamed " + streamed + " are not the ones required " + asked);
            }
        }
        if (LAST.contains(name)) {
            ended = name;
        }
    }

    private ObjectNode inProgressToolStep() {
        ObjectNode found = null;
        for (ObjectNode s : steps.values()) {
            if (s.path("type").asText().equals("tool_calls") && s.path("status").asText().equals("in_progress")) {
                found = s;
            }
        }
        if (found == null) {
            throw new AssertionError("requires_action, but no tool_calls step in progress was streamed; steps: " + steps);
        }
        return found;
    }

    /**
     * A call as compared between stream and final events: its id, a function's name and arguments, a code_interpreter
     * call's code and outputs (without the merge index its deltas give each output).
     */
    private static ObjectNode call(JsonNode c) {
        ObjectNode out = JsonNodeFactory.instance.objectNode().put("id", c.path("id").asText())
                .put("function", c.path("function").path("name").asText() + c.path("function").path("arguments").asText())
                .put("input", c.path("code_interpreter").path("input").asText());
        ArrayNode outputs = out.putArray("outputs");
        for (JsonNode o : c.path("code_interpreter").path("outputs")) {
            ObjectNode output = o.deepCopy();
            output.remove("index");
            outputs.add(output);
        }
        return out;
    }

    private void message(String name, String id, JsonNode data) {
        if (name.equals("thread.message.created")) {
            if (messages.containsKey(id)) {
                throw new AssertionError("message " + id + " created twice");
            }
            messages.put(id, data.deepCopy());
            return;
        }
        ObjectNode snapshot = messages.get(id);
        if (snapshot == null) {
            throw new AssertionError(name + " for message " + id + " before its thread.message.created");
        }
        String status = name.substring("thread.message.".length());
        if (!data.path("status").asText().equals(status)) {
            throw new AssertionError("the message's status is " + data.path("status") + " in " + name);
        }
        if (!status.equals("in_progress") && !text(snapshot).equals(text(data))) {
            throw new AssertionError("the deltas of message " + id + " add up to '" + text(snapshot)
                    + "' but " + name + " says '" + text(data) + "'");
        }
        if (status.equals("completed") && !asStored(snapshot.path("content")).equals(data.path("content"))) {
            throw new AssertionError("the deltas of message " + id + " add up to content " + asStored(snapshot.path("content"))
                    + " but " + name + " says " + data.path("content"));
        }
        ArrayNode content = (ArrayNode) snapshot.get("content");
        ObjectNode replaced = data.deepCopy();
        replaced.set("content", content);
        messages.put(id, replaced);
    }

    private final Set<String> annotationsSeen = new HashSet<>();

    /**
     * Accumulated content as a stored message shows it: without the {@code index} of parts and annotations, and without
     * the empty {@code quote} the live API sent only in citation deltas.
     */
    private static JsonNode asStored(JsonNode content) {
        ArrayNode out = content.deepCopy();
        for (JsonNode part : out) {
            ((ObjectNode) part).remove("index");
            for (JsonNode a : part.path("text").path("annotations")) {
                ((ObjectNode) a).remove("index");
                if (a.path("file_citation").isObject()) {
                    ((ObjectNode) a.path("file_citation")).remove("quote");
                }
            }
        }
        return out;
    }

    private void messageDelta(String id, JsonNode delta) {
        ObjectNode snapshot = messages.get(id);
        if (snapshot == null) {
            throw new AssertionError("thread.message.delta for message " + id + " before its thread.message.created");
        }
        for (JsonNode part : delta.path("content")) {
            if (!part.path("index").isIntegralNumber()) {
                throw new AssertionError("a content delta without a numeric index: " + part);
            }
            String key = id + "/" + part.path("index").asInt();
            boolean first = partsSeen.add(key);
            if (part.path("type").asText().equals("text")) {
                JsonNode annotations = part.path("text").path("annotations");
                if (first && !annotations.isArray()) {
                    throw new AssertionError("the first text delta of a part must carry \"annotations\" ([] or new ones), got " + part);
                }
                if (!first && part.path("text").has("annotations") && annotations.isEmpty()) {
                    throw new AssertionError("a later text delta of a part re-sends \"annotations\": [] " + part);
                }
                for (JsonNode a : annotations) {
                    // merged by index: an annotation sent twice would have its start and end indices summed
                    if (!a.path("index").isIntegralNumber() || !annotationsSeen.add(key + "/" + a.path("index").asInt())) {
                        throw new AssertionError("an annotation without a new numeric index (the SDKs would merge it into another): " + part);
                    }
                }
            }
        }
        ObjectNode d = delta.deepCopy();
        d.remove("role");
        merge(snapshot, d);
    }

    private void step(String name, String id, JsonNode data) {
        String status = name.substring("thread.run.step.".length());
        if (name.equals("thread.run.step.created")) {
            if (steps.containsKey(id)) {
                throw new AssertionError("step " + id + " created twice");
            }
            steps.put(id, data.deepCopy());
            return;
        }
        ObjectNode snapshot = steps.get(id);
        if (snapshot == null && !status.equals("completed")) {
            throw new AssertionError(name + " for step " + id + " before its thread.run.step.created");
        }
        if (!data.path("status").asText().equals(status)) {
            throw new AssertionError("the step's status is " + data.path("status") + " in " + name);
        }
        if (snapshot != null && data.path("type").asText().equals("tool_calls")) {
            List<ObjectNode> streamed = new ArrayList<>();
            snapshot.path("step_details").path("tool_calls").forEach(c -> streamed.add(call(c)));
            List<ObjectNode> got = new ArrayList<>();
            data.path("step_details").path("tool_calls").forEach(c -> got.add(call(c)));
            if (!streamed.isEmpty() && !streamed.equals(got)) {
                throw new AssertionError("the tool calls streamed " + streamed + " are not the ones " + name + " lists: " + got);
            }
        }
        // the SDKs take the new state as the snapshot (a tool step submitted in an earlier stream is unknown: fine)
        steps.put(id, data.deepCopy());
    }

    private void stepDelta(String id, JsonNode delta) {
        ObjectNode snapshot = steps.get(id);
        if (snapshot == null) {
            throw new AssertionError("thread.run.step.delta for step " + id + " before its thread.run.step.created");
        }
        for (JsonNode call : delta.path("step_details").path("tool_calls")) {
            if (!call.path("index").isIntegralNumber()) {
                throw new AssertionError("a tool call delta without a numeric index: " + call);
            }
            boolean first = callsSeen.add(id + "/" + call.path("index").asInt());
            boolean function = call.path("type").asText().equals("function");
            if (first && !(call.hasNonNull("id") && call.hasNonNull("type") && (!function || call.path("function").hasNonNull("name")))) {
                throw new AssertionError("the first delta of a tool call must carry id, type (and a function's name): " + call);
            }
            if (!first && (call.has("id") || call.path("function").has("name"))) {
                throw new AssertionError("a later delta of a tool call re-sends id or name (the SDKs would concatenate them): " + call);
            }
        }
        merge(snapshot, delta);
    }

    /** openai-node's {@code AssistantStream.accumulateDelta}, on JSON trees. */
    static void merge(ObjectNode acc, JsonNode delta) {
        delta.properties().forEach(entry -> {
            String key = entry.getKey();
            JsonNode value = entry.getValue();
            JsonNode current = acc.get(key);
            if (current == null || current.isNull() || key.equals("index") || key.equals("type")) {
                acc.set(key, value.deepCopy());
            } else if (current.isTextual() && value.isTextual()) {
                acc.put(key, current.asText() + value.asText());
            } else if (current.isNumber() && value.isNumber()) {
                acc.put(key, current.decimalValue().add(value.decimalValue()));
            } else if (current.isObject() && value.isObject()) {
                merge((ObjectNode) current, value);
            } else if (current.isArray() && value.isArray()) {
                ArrayNode list = (ArrayNode) current;
                boolean scalars = true;
                for (JsonNode item : list) {
                    scalars &= item.isTextual() || item.isNumber();
                }
                if (scalars) {
                    value.forEach(item -> list.add(item.deepCopy()));
                    return;
                }
                for (JsonNode item : value) {
                    if (!item.isObject() || !item.path("index").isIntegralNumber()) {
                        throw new AssertionError("a list delta entry without a numeric index: " + item);
                    }
                    int index = item.get("index").asInt();
                    if (index < list.size() && !list.get(index).isNull()) {
                        merge((ObjectNode) list.get(index), item);
                    } else {
                        while (list.size() < index) {
                            list.addNull();
                        }
                        if (index == list.size()) {
                            list.add(item.deepCopy());
                        } else {
                            list.set(index, item.deepCopy());
                        }
                    }
                }
            } else {
                throw new AssertionError("the SDKs cannot merge " + key + ": " + value + " into " + current);
            }
        });
    }
}
