package io.spindle.engine.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindle.api.FileObject;
import io.spindle.api.Ids;
import io.spindle.api.Json;
import io.spindle.api.MessageObject;
import io.spindle.api.RunObject;
import io.spindle.api.ToolCall;
import io.spindle.sandbox.Execution;
import io.spindle.sandbox.FileName;
import io.spindle.sandbox.Sandbox;
import io.spindle.sandbox.SandboxException;
import io.spindle.sandbox.Session;
import io.spindle.sandbox.SessionPool;
import io.spindle.store.Blobs;
import io.spindle.store.FileRepository;
import io.spindle.store.Store;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * {@code code_interpreter}: the model runs Python in the sandbox session of the run's thread (variables survive
 * between calls and runs). The thread's and the assistant's files are put in {@code /mnt/data} first, once per session;
 * what the code prints becomes a {@code logs} output, each figure an {@code image} output, and each file it writes an
 * {@code assistants_output} file the model may link as {@code sandbox:/mnt/data/NAME}.
 */
public final class CodeInterpreterTool implements BuiltInTool {
    public static final String OUTPUT_PURPOSE = "assistants_output";

    private final Store store;
    private final FileRepository files;
    private final Sandbox sandbox;
    private final SessionPool sessions;
    private final Duration timeLimit;
    private final InstantSource clock;
    /** The file ids already put into each live session; an ended session drops out with its entry. */
    private final Map<Session, Set<String>> filesIn = Collections.synchronizedMap(new WeakHashMap<>());

    public CodeInterpreterTool(Store store, FileRepository files, Sandbox sandbox, SessionPool sessions, Duration timeLimit,
                               InstantSource clock) {
        this.store = store;
        this.files = files;
        this.sandbox = sandbox;
        this.sessions = sessions;
        this.timeLimit = timeLimit;
        this.clock = clock;
    }

    @Override
    public String type() {
        return ToolCall.CodeInterpreter.TYPE;
    }

    @Override
    public Optional<String> unavailable() {
        Sandbox.Probe probe = sandbox.probe();
        return probe.works() ? Optional.empty() : Optional.of(probe.reason()
                + ". Spindle's README (section code_interpreter) says how to enable it.");
    }

    @Override
    public ObjectNode function(JsonNode toolEntry) {
        ObjectNode fn = Json.object().put("name", type()).put("description",
                "Runs Python code in a stateful Jupyter-like session and returns what it prints (the value of a final "
                        + "expression too) and any error. Variables and imports persist between calls. The user's files "
                        + "are in /mnt/data (the working directory); save files you make for the user there too. "
                        + "Figures drawn with matplotlib are shown to the user. There is no internet access.");
        ObjectNode parameters = fn.putObject("parameters").put("type", "object");
        parameters.putObject("properties").putObject("code").put("type", "string").put("description", "The Python code to run.");
        parameters.putArray("required").add("code");
        return fn;
    }

    @Override
    public String instructions(String project, RunObject run, List<MessageObject> threadMessages) {
        String files = String.join(", ", inputFiles(project, run, threadMessages).keySet());
        return "When you use code_interpreter to make a file for the user, save it under /mnt/data and link it in your "
                + "answer as sandbox:/mnt/data/NAME."
                + (files.isEmpty() ? "" : " The user's files are in /mnt/data: " + files + ".");
    }

    /** The files the run's code_interpreter calls wrote, each linkable by name; a later file replaces an earlier one. */
    @Override
    public Annotator annotator(List<ToolCall> calls) {
        Map<String, String> written = new LinkedHashMap<>();
        for (ToolCall call : calls) {
            if (call instanceof ToolCall.CodeInterpreter ci) {
                ci.files().forEach(f -> written.put(f.name(), f.fileId()));
            }
        }
        return SandboxLinks.of(written);
    }

    @Override
    public ToolCall begin(String callId, String arguments, JsonNode toolEntry, ToolRun run) {
        return new ToolCall.CodeInterpreter(callId, arguments);
    }

    /** The code, as the model writes it, in {@code input} deltas. */
    @Override
    public ArgumentStream argumentStream(int index) {
        CodeArgumentDecoder code = new CodeArgumentDecoder();
        return piece -> {
            String input = code.feed(piece);
            return input.isEmpty() ? List.of() : List.of(ToolCall.CodeInterpreter.inputDelta(index, input));
        };
    }

    @Override
    public ToolCall execute(ToolCall begun, ToolRun run) {
        ToolCall.CodeInterpreter call = (ToolCall.CodeInterpreter) begun;
        String code = call.input();
        if (code.isBlank()) {
            return call.withOutputs(List.of(), List.of(), "Nothing ran: call code_interpreter with {\"code\": \"...\"}, the Python to run.");
        }
        Ran ran;
        try {
            ran = sessions.use(run.run().threadId(), session -> {
                putFiles(session, run);
                if (run.isCancelled()) {
                    return new Ran(CANCELLED, List.of());
                }
                // a cancel interrupts the cell within a few tenths of a second, wherever it arrives
                Execution execution = session.execute(code, timeLimit, run::isCancelled);
                List<Written> written = new ArrayList<>();
                if (!execution.sessionEnded()) {
                    execution.files().forEach(f -> written.add(Written.read(session, f.name())));
                }
                return new Ran(execution, written);
            });
        } catch (SandboxException e) {
            String said = "The code did not run: " + e.getMessage();
            return call.withOutputs(List.of(new ToolCall.CodeInterpreter.Logs(said)), List.of(), said);
        }
        return outputs(call, ran, run.project());
    }

    private static final Execution CANCELLED = new Execution("", Optional.of("The run was cancelled before the code ran."),
            List.of(), List.of(), false, false);

    /** What a cell did, with the bytes of the files it wrote. */
    private record Ran(Execution execution, List<Written> written) {}

    /** A file the cell wrote: its bytes, or why they could not be read (a link, a FIFO, too large). */
    private record Written(String name, byte[] bytes, String unreadable) {
        static Written read(Session session, String name) {
            try {
                return new Written(name, session.readFile(name), null);
            } catch (SandboxException e) {
                return new Written(name, null, e.getMessage());
            }
        }
    }

    /** The cell's outputs as the step shows them and as the model reads them back; images and files are stored. */
    private ToolCall.CodeInterpreter outputs(ToolCall.CodeInterpreter call, Ran ran, String project) {
        Execution execution = ran.execution();
        String logs = execution.logs() + execution.error().map(e -> (execution.logs().isEmpty()
                || execution.logs().endsWith("\n") ? "" : "\n") + e).orElse("");
        List<ToolCall.CodeInterpreter.Output> outputs = new ArrayList<>();
        StringBuilder text = new StringBuilder(logs);
        if (!logs.isEmpty()) {
            outputs.add(new ToolCall.CodeInterpreter.Logs(logs));
        }
        for (int i = 0; i < execution.images().size(); i++) {
            FileObject image = storeOutput(project, "image-" + (i + 1) + ".png", execution.images().get(i));
            outputs.add(new ToolCall.CodeInterpreter.Image(image.id()));
            line(text, "[a figure was shown to the user: " + image.filename() + "]");
        }
        List<String> links = new ArrayList<>();
        List<ToolCall.CodeInterpreter.WrittenFile> stored = new ArrayList<>();
        for (Written file : ran.written()) {
            if (file.bytes() != null) {
                stored.add(new ToolCall.CodeInterpreter.WrittenFile(file.name(), storeOutput(project, file.name(), file.bytes()).id()));
                links.add("sandbox:/mnt/data/" + file.name());
            } else {
                links.add(file.name() + " (cannot be offered for download: " + file.unreadable() + ")");
            }
        }
        if (!links.isEmpty()) {
            line(text, "Files written (link them in your answer as shown so that the user can download them): "
                    + String.join(", ", links));
        }
        if (text.isEmpty()) {
            text.append("The code ran without output.");
        }
        return call.withOutputs(outputs, stored, text.toString());
    }

    private static void line(StringBuilder text, String line) {
        if (!text.isEmpty() && text.charAt(text.length() - 1) != '\n') {
            text.append('\n');
        }
        text.append(line);
    }

    private FileObject storeOutput(String project, String filename, byte[] bytes) {
        String id = Ids.file();
        try (Blobs.Received received = files.receive(id, new ByteArrayInputStream(bytes))) {
            FileObject file = new FileObject(id, OUTPUT_PURPOSE, filename, received.size(), clock.instant().getEpochSecond(), null);
            files.insert(project, file, received);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Puts the run's input files into the session under their names, those it does not have yet. */
    private void putFiles(Session session, ToolRun run) {
        Set<String> present = filesIn.computeIfAbsent(session, s -> Collections.synchronizedSet(new HashSet<>()));
        List<MessageObject> messages = store.threadMessages(run.project(), run.run().threadId());
        for (Map.Entry<String, FileObject> file : inputFiles(run.project(), run.run(), messages).entrySet()) {
            if (present.contains(file.getValue().id())) {
                continue;
            }
            try (InputStream in = files.content(file.getValue()).orElse(null)) {
                if (in != null) {
                    session.putFile(file.getKey(), in);
                    present.add(file.getValue().id());
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /**
     * The files of the assistant's and the thread's {@code tool_resources.code_interpreter.file_ids} and of the
     * thread's code_interpreter attachments, by their name in {@code /mnt/data}: the file's name, or its id when that
     * cannot be a name there (a {@code /} in it, say) or an earlier file has it. A file deleted since is left out.
     */
    private Map<String, FileObject> inputFiles(String project, RunObject run, List<MessageObject> threadMessages) {
        Set<String> ids = new LinkedHashSet<>();
        store.assistant(project, run.assistantId()).ifPresent(a -> fileIds(a.toolResources(), ids));
        store.thread(project, run.threadId()).ifPresent(t -> fileIds(t.toolResources(), ids));
        for (MessageObject m : threadMessages) {
            attachedFileIds(m.attachments(), ids);
        }
        Map<String, FileObject> byName = new LinkedHashMap<>();
        for (String id : ids) {
            files.file(project, id).ifPresent(file -> {
                String name = nameInSandbox(file);
                byName.put(byName.containsKey(name) ? file.id() : name, file);
            });
        }
        return byName;
    }

    /** The file's name, or its id when the name cannot be one under {@code /mnt/data}. */
    private static String nameInSandbox(FileObject file) {
        try {
            return FileName.check(file.filename());
        } catch (SandboxException e) {
            return file.id();
        }
    }

    private static void fileIds(JsonNode toolResources, Set<String> into) {
        if (toolResources != null) {
            toolResources.path(ToolCall.CodeInterpreter.TYPE).path("file_ids").forEach(id -> into.add(id.asText()));
        }
    }

    private static void attachedFileIds(JsonNode attachments, Set<String> into) {
        if (attachments == null) {
            return;
        }
        for (JsonNode a : attachments) {
            for (JsonNode tool : a.path("tools")) {
                if (tool.path("type").asText().equals(ToolCall.CodeInterpreter.TYPE)) {
                    into.add(a.path("file_id").asText());
                }
            }
        }
    }
}
