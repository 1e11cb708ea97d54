package io.spindle.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindle.api.Json;
import io.spindle.api.MessageObject;
import io.spindle.api.RunObject;
import io.spindle.api.RunStepObject;
import io.spindle.api.ToolCall;
import io.spindle.engine.tools.BuiltInTools;
import io.spindle.api.Usage;
import io.spindle.upstream.ImageTokens;
import io.spindle.upstream.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Builds the Chat Completions request for a run's next model call: the instructions as the system
 * message, the thread's messages (truncated to the run's strategy and token budget), this run's
 * earlier messages and tool calls with their outputs, and the run's options; built-in tools are offered to the
 * model as functions, and their calls replayed like any other.
 */
final class Prompt {

    /** The request, its prompt size in tokens, and whether it cannot fit {@code max_prompt_tokens}. */
    record Built(ObjectNode body, int promptTokens, boolean overPromptBudget) {}

    private record Entry(ObjectNode message, int tokens) {}

    /** A thread message for the model, and what its images cost (its text is counted by {@link #entry}). */
    private record Converted(ObjectNode message, int imageTokens) {}

    private Prompt() {}

    static Built build(RunObject run, BuiltInTools.Offer offer, List<MessageObject> threadMessages, List<RunStepObject> steps,
                       Usage used, int contextTokens, ImageSource images) {
        String model = run.model();
        List<Entry> history = new ArrayList<>();
        for (MessageObject m : threadMessages) {
            if (!run.id().equals(m.runId())) {
                Converted c = threadMessage(m, images);
                history.add(entry(model, c.message(), c.imageTokens()));
            }
        }
        Map<String, MessageObject> byId = threadMessages.stream().collect(Collectors.toMap(MessageObject::id, Function.identity()));
        List<Entry> own = ownTurns(model, run, steps, byId, images);
        String instructions = Stream.of(run.instructions(), offer.instructions()).filter(s -> !s.isEmpty())
                .collect(Collectors.joining("\n\n"));
        Entry system = instructions.isEmpty() ? null : entry(model, Json.object().put("role", "system").put("content", instructions), 0);

        JsonNode truncation = run.truncationStrategy();
        if (truncation != null && "last_messages".equals(truncation.path("type").asText())) {
            int keep = truncation.path("last_messages").asInt(Integer.MAX_VALUE);
            while (history.size() > keep) {
                history.removeFirst();
            }
        }
        Long promptBudget = run.maxPromptTokens() == null ? null : run.maxPromptTokens() - used.promptTokens();
        long limit = promptBudget == null ? contextTokens : Math.min(contextTokens, promptBudget);
        int total = tokens(system) + sum(history) + sum(own);
        while (total > limit && !history.isEmpty() && history.size() + own.size() > 1) {
            total -= history.removeFirst().tokens();
        }

        ArrayNode messages = Json.array();
        if (system != null) {
            messages.add(system.message());
        }
        history.forEach(e -> messages.add(e.message()));
        own.forEach(e -> messages.add(e.message()));
        boolean toolsUsed = steps.stream().anyMatch(s -> s.type().equals(RunStepObject.TOOL_CALLS) && !s.inProgress());
        ObjectNode body = options(run, offer, used, toolsUsed);
        body.set("messages", messages);
        return new Built(body, total, promptBudget != null && total > promptBudget);
    }

    /**
     * A stored thread message as a chat message. A user's images become {@code image_url} parts: as given, or, for an
     * {@code image_file}, the file's bytes as a data URL; a file the model cannot be shown becomes a line of text
     * saying so. Chat Completions takes images from users only, so an assistant's (code_interpreter's figures, an
     * image part of a message created as the assistant) are left out.
     */
    private static Converted threadMessage(MessageObject m, ImageSource images) {
        boolean user = m.role().equals("user");
        StringBuilder text = new StringBuilder();
        ArrayNode parts = Json.array();
        int imageTokens = 0;
        boolean shown = false;
        for (JsonNode part : m.content()) {
            String type = part.path("type").asText();
            if (type.equals("text")) {
                addText(text, parts, part.path("text").path("value").asText());
            } else if (user && type.equals("image_url")) {
                parts.addObject().put("type", "image_url").set("image_url", part.path("image_url").deepCopy());
                imageTokens += ImageTokens.unknownSize(part.path("image_url").path("detail").textValue());
                shown = true;
            } else if (user && type.equals("image_file")) {
                JsonNode file = part.path("image_file");
                String fileId = file.path("file_id").asText();
                String detail = file.path("detail").textValue();
                switch (images.image(fileId)) {
                    case ImageSource.Image image -> {
                        ObjectNode url = parts.addObject().put("type", "image_url").putObject("image_url").put("url", image.dataUrl());
                        if (detail != null) {
                            url.put("detail", detail);
                        }
                        imageTokens += ImageTokens.count(image.header().width(), image.header().height(), detail);
                        shown = true;
                    }
                    case ImageSource.Unavailable missing ->
                            addText(text, parts, "[Image " + fileId + " not shown: " + missing.reason() + ".]");
                }
            }
        }
        ObjectNode message = Json.object().put("role", m.role());
        if (shown) {
            message.set("content", parts);
        } else {
            message.put("content", text.toString());
        }
        return new Converted(message, imageTokens);
    }

    private static void addText(StringBuilder text, ArrayNode parts, String value) {
        text.append(text.isEmpty() ? "" : "\n").append(value);
        parts.addObject().put("type", "text").put("text", value);
    }

    /**
     * This run's own work, in order: its messages, and each function-call round as an assistant
     * message with {@code tool_calls} followed by one {@code tool} message per output. Text written
     * just before a round joins that round's assistant message.
     */
    private static List<Entry> ownTurns(String model, RunObject run, List<RunStepObject> steps, Map<String, MessageObject> byId,
                                        ImageSource images) {
        List<ObjectNode> out = new ArrayList<>();
        ObjectNode pendingText = null;
        for (RunStepObject step : steps) {
            if (step.inProgress()) {
                // an unfinished step is the turn being (re)done now, with the text written just before its calls
                if (pendingText != null && out.getLast() == pendingText) {
                    out.removeLast();
                }
                pendingText = null;
                continue;
            }
            if (step.type().equals(RunStepObject.MESSAGE_CREATION)) {
                MessageObject m = byId.get(step.stepDetails().path("message_creation").path("message_id").asText());
                if (m != null) {
                    // the run's own messages are the assistant's: they show no images
                    pendingText = threadMessage(m, images).message();
                    out.add(pendingText);
                }
                continue;
            }
            JsonNode calls = step.stepDetails().path("tool_calls");
            if (calls.isEmpty()) {
                pendingText = null;
                continue;
            }
            ObjectNode assistant = pendingText != null ? pendingText : Json.object().put("role", "assistant").putNull("content");
            if (pendingText == null) {
                out.add(assistant);
            }
            ArrayNode toolCalls = assistant.putArray("tool_calls");
            List<ToolCall> typed = ToolCall.parseAll(calls);
            for (ToolCall call : typed) {
                ObjectNode tc = toolCalls.addObject().put("id", call.id()).put("type", "function");
                tc.putObject("function").put("name", call.name()).put("arguments", call.arguments());
            }
            for (ToolCall call : typed) {
                out.add(Json.object().put("role", "tool").put("tool_call_id", call.id())
                        .put("content", call.output() == null ? "" : call.output()));
            }
            pendingText = null;
        }
        return out.stream().map(m -> entry(model, m, 0)).toList();
    }

    /** The run's options as Chat Completions parameters; the offered built-in tools are functions to the model. */
    private static ObjectNode options(RunObject run, BuiltInTools.Offer offer, Usage used, boolean toolsUsed) {
        ObjectNode body = Json.object().put("model", run.model()).put("stream", true);
        body.putObject("stream_options").put("include_usage", true);
        ArrayNode tools = Json.array();
        for (JsonNode tool : run.tools()) {
            if (tool.path("type").asText().equals("function")) {
                ObjectNode fn = tool.path("function").deepCopy();
                if (!fn.path("strict").asBoolean(false)) {
                    fn.remove("strict");
                }
                tools.addObject().put("type", "function").set("function", fn);
            }
        }
        tools.addAll(offer.definitions());
        if (!tools.isEmpty()) {
            body.set("tools", tools);
            JsonNode choice = toolChoice(run.toolChoice(), offer, toolsUsed);
            if (choice != null) {
                body.set("tool_choice", choice);
            }
            body.put("parallel_tool_calls", run.parallelToolCalls());
        }
        JsonNode format = run.responseFormat();
        if (format != null && format.isObject() && !format.path("type").asText().equals("text")) {
            body.set("response_format", format);
        }
        if (run.temperature() != null) {
            body.put("temperature", run.temperature());
        }
        if (run.topP() != null) {
            body.put("top_p", run.topP());
        }
        if (run.reasoningEffort() != null) {
            body.put("reasoning_effort", run.reasoningEffort());
        }
        if (run.maxCompletionTokens() != null) {
            body.put("max_completion_tokens", run.maxCompletionTokens() - used.completionTokens());
        }
        return body;
    }

    /**
     * {@code tool_choice} for Chat Completions: {@code auto}, {@code none}, {@code required} and a function pass as
     * they are; a built-in tool ({@code {"type":"file_search"}}) becomes its function until the run has called a
     * tool once (its results then lead to the answer rather than to the same call again); a tool the run does not
     * offer is left to the model.
     */
    private static JsonNode toolChoice(JsonNode choice, BuiltInTools.Offer offer, boolean toolsUsed) {
        if (choice == null || choice.isTextual() || choice.path("type").asText().equals("function")) {
            return choice;
        }
        if (toolsUsed) {
            return null;
        }
        return offer.forName(choice.path("type").asText()).<JsonNode>map(o -> {
            ObjectNode fn = Json.object().put("type", "function");
            fn.putObject("function").put("name", o.tool().type());
            return fn;
        }).orElse(null);
    }

    private static Entry entry(String model, ObjectNode message, int imageTokens) {
        int tokens = Tokenizer.PER_MESSAGE + imageTokens;
        JsonNode content = message.path("content");
        if (content.isTextual()) {
            tokens += Tokenizer.count(model, content.asText());
        } else {
            for (JsonNode part : content) {
                tokens += Tokenizer.count(model, part.path("text").asText());
            }
        }
        for (JsonNode call : message.path("tool_calls")) {
            tokens += Tokenizer.count(model, call.path("function").path("name").asText())
                    + Tokenizer.count(model, call.path("function").path("arguments").asText());
        }
        return new Entry(message, tokens);
    }

    private static int tokens(Entry e) {
        return e == null ? 0 : e.tokens();
    }

    private static int sum(List<Entry> entries) {
        return entries.stream().mapToInt(Entry::tokens).sum();
    }
}
