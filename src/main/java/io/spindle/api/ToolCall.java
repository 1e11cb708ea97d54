package io.spindle.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * One call of a {@code tool_calls} run step, typed by its kind. Each kind knows its stored form (what the engine needs
 * to replay it to the model), its wire form, the first delta a stream shows of it, and the function call the model
 * wrote and the output it read back, so that replaying a run's calls never asks which kind a call is.
 */
public sealed interface ToolCall {

    String id();

    /** The name of the function the model called. */
    String name();

    /** The JSON arguments the model wrote. */
    String arguments();

    /** What the model reads back; null until the call has it. */
    String output();

    /** The call as kept in the step's stored JSON. */
    ObjectNode stored();

    /** The call as clients see it; file_search result content only when asked for with {@code include[]}. */
    ObjectNode wire(boolean includeResultContent);

    /** The delta that announces the call in a stream, at position {@code index} of the step's calls. */
    ObjectNode startDelta(int index);

    /**
     * The deltas that show what the executed call produced, before its step completes, text cut into pieces of at most
     * {@code maxChars} characters; none when streams show the result only with the completed step (file_search, as
     * recorded) or there is nothing to show.
     */
    default List<ObjectNode> resultDeltas(int index, int maxChars) {
        return List.of();
    }

    default boolean pending() {
        return output() == null;
    }

    /**
     * The content parts the executed call adds to the run's next assistant message, before its text: an
     * {@code image_file} part per figure code_interpreter showed; none for most calls.
     */
    default List<ObjectNode> answerParts() {
        return List.of();
    }

    static ToolCall parse(JsonNode stored) {
        return switch (stored.path("type").asText()) {
            case FileSearch.TYPE -> FileSearch.parse(stored);
            case CodeInterpreter.TYPE -> CodeInterpreter.parse(stored);
            default -> Function.parse(stored);
        };
    }

    static List<ToolCall> parseAll(JsonNode storedCalls) {
        List<ToolCall> out = new ArrayList<>(storedCalls.size());
        storedCalls.forEach(c -> out.add(parse(c)));
        return out;
    }

    static ArrayNode storedAll(List<ToolCall> calls) {
        ArrayNode out = Json.array();
        calls.forEach(c -> out.add(c.stored()));
        return out;
    }

    /** A call of one of the run's functions: the client runs it and submits its output. */
    record Function(String id, String name, String arguments, String output) implements ToolCall {
        public static final String TYPE = "function";

        static Function parse(JsonNode stored) {
            JsonNode fn = stored.path("function");
            JsonNode output = fn.path("output");
            return new Function(stored.path("id").asText(), fn.path("name").asText(), fn.path("arguments").asText(),
                    output.isTextual() ? output.textValue() : null);
        }

        public Function withOutput(String newOutput) {
            return new Function(id, name, arguments, newOutput);
        }

        @Override
        public ObjectNode stored() {
            ObjectNode out = Json.object().put("id", id).put("type", TYPE);
            out.putObject("function").put("name", name).put("arguments", arguments).put("output", output);
            return out;
        }

        @Override
        public ObjectNode wire(boolean includeResultContent) {
            return stored();
        }

        @Override
        public ObjectNode startDelta(int index) {
            ObjectNode out = Json.object().put("index", index).put("id", id).put("type", TYPE);
            out.putObject("function").put("name", name).put("arguments", "").putNull("output");
            return out;
        }

        /** A piece of the arguments as the model writes them, for a stream. */
        public static ObjectNode argumentsDelta(int index, String piece) {
            ObjectNode out = Json.object().put("index", index).put("type", TYPE);
            out.putObject("function").put("arguments", piece);
            return out;
        }

        /** The call as {@code required_action.submit_tool_outputs.tool_calls} lists it. */
        public ObjectNode required() {
            ObjectNode out = Json.object().put("id", id).put("type", TYPE);
            out.putObject("function").put("name", name).put("arguments", arguments);
            return out;
        }
    }

    /**
     * A search of the run's vector stores, executed inside the run. Besides the wire fields it keeps what the model
     * asked ({@code arguments}), the search's number within the run (the first number of its citation markers), and
     * the text the model read back; results keep their content, shown only when a client asks for it.
     */
    record FileSearch(String id, String arguments, int search, String ranker, double scoreThreshold, List<Result> results,
                      String output) implements ToolCall {
        public static final String TYPE = "file_search";
        /** Where the fields only Spindle reads are kept in the stored call. */
        private static final String OWN = "spindle";

        public record Result(String fileId, String fileName, double score, JsonNode attributes, String text) {}

        static FileSearch parse(JsonNode stored) {
            JsonNode fs = stored.path(TYPE);
            List<Result> results = new ArrayList<>();
            for (JsonNode r : fs.path("results")) {
                results.add(new Result(r.path("file_id").asText(), r.path("file_name").asText(), r.path("score").asDouble(),
                        r.path("attributes").isObject() ? r.path("attributes") : Json.object(),
                        r.path("content").path(0).path("text").asText("")));
            }
            JsonNode own = stored.path(OWN);
            JsonNode output = own.path("output");
            return new FileSearch(stored.path("id").asText(), own.path("arguments").asText(""), own.path("search").asInt(),
                    fs.path("ranking_options").path("ranker").asText(), fs.path("ranking_options").path("score_threshold").asDouble(),
                    List.copyOf(results), output.isTextual() ? output.textValue() : null);
        }

        public FileSearch withResults(List<Result> newResults, String newOutput) {
            return new FileSearch(id, arguments, search, ranker, scoreThreshold, List.copyOf(newResults), newOutput);
        }

        @Override
        public String name() {
            return TYPE;
        }

        @Override
        public ObjectNode stored() {
            ObjectNode out = wire(true);
            out.putObject(OWN).put("arguments", arguments).put("search", search).put("output", output);
            return out;
        }

        @Override
        public ObjectNode wire(boolean includeResultContent) {
            ObjectNode out = Json.object().put("id", id).put("type", TYPE);
            ObjectNode fs = out.putObject(TYPE);
            fs.set("ranking_options", rankingOptions());
            ArrayNode list = fs.putArray("results");
            for (Result r : results) {
                ObjectNode item = list.addObject().put("file_id", r.fileId()).put("file_name", r.fileName())
                        .put("score", r.score());
                item.set("attributes", r.attributes());
                if (includeResultContent) {
                    item.putArray("content").addObject().put("type", "text").put("text", r.text());
                }
            }
            return out;
        }

        @Override
        public ObjectNode startDelta(int index) {
            ObjectNode out = Json.object().put("index", index).put("id", id).put("type", TYPE);
            ObjectNode fs = out.putObject(TYPE);
            fs.set("ranking_options", rankingOptions());
            fs.putArray("results");
            return out;
        }

        private ObjectNode rankingOptions() {
            return Json.object().put("ranker", ranker).put("score_threshold", scoreThreshold);
        }
    }

    /**
     * Python the model ran in the thread's sandbox session. The wire form shows the code ({@code input}) and its
     * outputs: a {@code logs} output (printed text and the error) and one {@code image} output per figure, each a file.
     * The stored form also keeps what the model wrote ({@code arguments}) and the text it read back.
     */
    record CodeInterpreter(String id, String arguments, List<Output> outputs, List<WrittenFile> files, String output)
            implements ToolCall {
        public static final String TYPE = "code_interpreter";
        private static final String OWN = "spindle";

        /** A call the model has begun: nothing ran yet. */
        public CodeInterpreter(String id, String arguments) {
            this(id, arguments, List.of(), List.of(), null);
        }

        /**
         * A file the code wrote under {@code /mnt/data}, stored as an {@code assistants_output} file; clients do not
         * see it in the step (OpenAI showed none), the answer's {@code sandbox:/mnt/data/NAME} links point at it.
         */
        public record WrittenFile(String name, String fileId) {}

        /** One entry of {@code outputs}: the cell's logs, or an image stored as a file. */
        public sealed interface Output {
            ObjectNode json();

            /** The entry as list items of deltas, at {@code index} of the outputs: long logs in several pieces. */
            default List<ObjectNode> deltaItems(int index, int maxChars) {
                ObjectNode item = Json.object().put("index", index);
                item.setAll(json());
                return List.of(item);
            }

            static Output parse(JsonNode json) {
                return json.path("type").asText().equals("image")
                        ? new Image(json.path("image").path("file_id").asText())
                        : new Logs(json.path("logs").asText());
            }
        }

        public record Logs(String logs) implements Output {
            @Override
            public ObjectNode json() {
                return Json.object().put("type", "logs").put("logs", logs);
            }

            /** Pieces the SDKs concatenate; each says its {@code type} too, which they replace, so typed clients parse it. */
            @Override
            public List<ObjectNode> deltaItems(int index, int maxChars) {
                List<String> pieces = logs.isEmpty() ? List.of("") : TextPieces.cut(logs, maxChars);
                return pieces.stream()
                        .map(piece -> Json.object().put("index", index).put("type", "logs").put("logs", piece)).toList();
            }
        }

        public record Image(String fileId) implements Output {
            @Override
            public ObjectNode json() {
                ObjectNode out = Json.object().put("type", "image");
                out.putObject("image").put("file_id", fileId);
                return out;
            }
        }

        static CodeInterpreter parse(JsonNode stored) {
            List<Output> outputs = new ArrayList<>();
            stored.path(TYPE).path("outputs").forEach(o -> outputs.add(Output.parse(o)));
            JsonNode own = stored.path(OWN);
            JsonNode output = own.path("output");
            String arguments = own.path("arguments").isTextual() ? own.path("arguments").textValue()
                    : Json.object().put("code", stored.path(TYPE).path("input").asText()).toString();
            List<WrittenFile> files = new ArrayList<>();
            own.path("files").forEach(f -> files.add(new WrittenFile(f.path("name").asText(), f.path("file_id").asText())));
            return new CodeInterpreter(stored.path("id").asText(), arguments, List.copyOf(outputs), List.copyOf(files),
                    output.isTextual() ? output.textValue() : null);
        }

        public CodeInterpreter withOutputs(List<Output> newOutputs, List<WrittenFile> written, String newOutput) {
            return new CodeInterpreter(id, arguments, List.copyOf(newOutputs), List.copyOf(written), newOutput);
        }

        /** An {@code image_file} part for each figure shown. */
        @Override
        public List<ObjectNode> answerParts() {
            List<ObjectNode> parts = new ArrayList<>();
            for (Output o : outputs) {
                if (o instanceof Image image) {
                    ObjectNode part = Json.object().put("type", "image_file");
                    part.putObject("image_file").put("file_id", image.fileId());
                    parts.add(part);
                }
            }
            return parts;
        }

        /**
         * The code: the {@code code} argument as the function was offered; models sometimes send bare code instead of
         * JSON, which is taken as it is.
         */
        public String input() {
            try {
                JsonNode args = Json.readTree(arguments);
                if (args.isObject()) {
                    return args.path("code").asText("");
                }
            } catch (RuntimeException e) {
                // not JSON: bare code
            }
            return arguments;
        }

        @Override
        public String name() {
            return TYPE;
        }

        @Override
        public ObjectNode stored() {
            ObjectNode out = wire(true);
            ObjectNode own = out.putObject(OWN).put("arguments", arguments).put("output", output);
            if (!files.isEmpty()) {
                ArrayNode list = own.putArray("files");
                files.forEach(f -> list.addObject().put("name", f.name()).put("file_id", f.fileId()));
            }
            return out;
        }

        @Override
        public ObjectNode wire(boolean includeResultContent) {
            ObjectNode out = Json.object().put("id", id).put("type", TYPE);
            ObjectNode ci = out.putObject(TYPE).put("input", input());
            ArrayNode list = ci.putArray("outputs");
            outputs.forEach(o -> list.add(o.json()));
            return out;
        }

        @Override
        public ObjectNode startDelta(int index) {
            ObjectNode out = Json.object().put("index", index).put("id", id).put("type", TYPE);
            out.putObject(TYPE).put("input", "").putArray("outputs");
            return out;
        }

        /** A piece of the code as the model writes it, for a stream. */
        public static ObjectNode inputDelta(int index, String piece) {
            ObjectNode out = Json.object().put("index", index).put("type", TYPE);
            out.putObject(TYPE).put("input", piece);
            return out;
        }

        /**
         * The outputs, each item with its {@code index} in the list as the SDK helpers merge them: in one delta while
         * they fit in {@code maxChars}, long logs in pieces of their own.
         */
        @Override
        public List<ObjectNode> resultDeltas(int index, int maxChars) {
            List<ObjectNode> deltas = new ArrayList<>();
            ArrayNode list = Json.array();
            int size = 0;
            for (int i = 0; i < outputs.size(); i++) {
                for (ObjectNode item : outputs.get(i).deltaItems(i, maxChars)) {
                    int length = item.toString().length();
                    if (!list.isEmpty() && size + length > maxChars) {
                        deltas.add(outputsDelta(index, list));
                        list = Json.array();
                        size = 0;
                    }
                    list.add(item);
                    size += length;
                }
            }
            if (!list.isEmpty()) {
                deltas.add(outputsDelta(index, list));
            }
            return deltas;
        }

        private static ObjectNode outputsDelta(int index, ArrayNode outputs) {
            ObjectNode out = Json.object().put("index", index).put("type", TYPE);
            out.putObject(TYPE).set("outputs", outputs);
            return out;
        }
    }
}
