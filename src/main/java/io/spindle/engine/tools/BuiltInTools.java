package io.spindle.engine.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.spindle.api.ApiException;
import io.spindle.api.Json;
import io.spindle.api.MessageObject;
import io.spindle.api.RunObject;
import io.spindle.api.ToolCall;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/** The built-in tools this server executes, by type; a run's tools entries of other types are echoed, not offered. */
public final class BuiltInTools {
    private final Map<String, BuiltInTool> byType = new LinkedHashMap<>();

    public BuiltInTools(List<BuiltInTool> tools) {
        tools.forEach(t -> byType.put(t.type(), t));
    }

    public static BuiltInTools none() {
        return new BuiltInTools(List.of());
    }

    /**
     * What a run offers the model besides its functions: each enabled built-in tool with its tools entry. A function
     * of the run named like a built-in tool shadows it, so the model's call is never ambiguous.
     */
    public Offer offer(String project, RunObject run, List<MessageObject> threadMessages) {
        Set<String> functions = new HashSet<>();
        for (JsonNode t : run.tools()) {
            if (t.path("type").asText().equals(ToolCall.Function.TYPE)) {
                functions.add(t.path("function").path("name").asText());
            }
        }
        List<Offered> offered = new ArrayList<>();
        for (JsonNode t : run.tools()) {
            BuiltInTool tool = byType.get(t.path("type").asText());
            if (tool != null && !functions.contains(tool.type()) && offered.stream().noneMatch(o -> o.tool() == tool)) {
                offered.add(new Offered(tool, t));
            }
        }
        return new Offer(project, run, threadMessages, List.copyOf(offered));
    }

    /**
     * Refuses {@code tools} (an assistant's or a run's) that enable a built-in tool this server cannot execute: a 400
     * naming {@code tools}, saying why.
     */
    public void checkAvailable(JsonNode tools) {
        for (JsonNode t : tools) {
            BuiltInTool tool = byType.get(t.path("type").asText());
            if (tool == null) {
                continue;
            }
            tool.unavailable().ifPresent(why -> {
                throw ApiException.invalid(tool.type() + " is not available on this server: " + why, "tools", "unsupported_value");
            });
        }
    }

    /** A built-in tool a run enabled, with its {@code tools} entry (its options). */
    public record Offered(BuiltInTool tool, JsonNode entry) {}

    /** The built-in tools one run offers, for a turn whose prompt holds {@code threadMessages}. */
    public record Offer(String project, RunObject run, List<MessageObject> threadMessages, List<Offered> tools) {

        /** The offered tool the model called by this function name, if it is one. */
        public Optional<Offered> forName(String name) {
            return tools.stream().filter(o -> o.tool().type().equals(name)).findFirst();
        }

        /** The tools as Chat Completions function definitions. */
        public ArrayNode definitions() {
            ArrayNode out = Json.array();
            tools.forEach(o -> out.addObject().put("type", "function").set("function", o.tool().function(o.entry())));
            return out;
        }

        /** What the system prompt says about them (empty when none says anything). */
        public String instructions() {
            return tools.stream().map(o -> o.tool().instructions(project, run, threadMessages)).filter(s -> !s.isEmpty())
                    .collect(Collectors.joining("\n\n"));
        }

        /** What the answer may refer to after the run's completed {@code calls}, as each offered tool reads them. */
        public Annotator annotator(List<ToolCall> calls) {
            return Annotator.all(tools.stream().map(o -> o.tool().annotator(calls)).toList());
        }
    }
}
