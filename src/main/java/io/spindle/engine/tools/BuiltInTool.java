package io.spindle.engine.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindle.api.MessageObject;
import io.spindle.api.RunObject;
import io.spindle.api.ToolCall;
import java.util.List;
import java.util.Optional;

/**
 * A tool Spindle executes inside the run (file_search, code_interpreter), as opposed to a function the client
 * executes. The model sees it as a function named after its type; the engine offers it, announces its calls, executes
 * them and replays them to the model without knowing which tool it is.
 */
public interface BuiltInTool {

    /** The {@code tools[].type} it serves, which is also the name of the function the model calls. */
    String type();

    /** The function offered to the model ({@code name}, {@code description}, {@code parameters}) for the run's tool entry. */
    ObjectNode function(JsonNode toolEntry);

    /**
     * Why this server cannot execute the tool (code_interpreter without a working sandbox), or empty when it can.
     * Assistants and runs that enable an unavailable tool are refused at creation ({@link BuiltInTools#checkAvailable}).
     */
    default Optional<String> unavailable() {
        return Optional.empty();
    }

    /**
     * What the system prompt of {@code run} says about using the tool, or an empty string; {@code threadMessages} are
     * the thread's messages the prompt is built from.
     */
    String instructions(String project, RunObject run, List<MessageObject> threadMessages);

    /** The call as the model began it: not executed yet, shown in the step and announced to streams as such. */
    ToolCall begin(String callId, String arguments, JsonNode toolEntry, ToolRun run);

    /**
     * What streams show of a call at position {@code index} of its step while the model writes its arguments; by
     * default nothing (the call shows only its start delta until it is executed).
     */
    default ArgumentStream argumentStream(int index) {
        return ArgumentStream.none();
    }

    /**
     * Executes the call inside the run and returns it with its output. May block (it waits for files still being
     * ingested, for instance) and should give up when {@link ToolRun#isCancelled()} turns true.
     *
     * @throws ToolFailure when the run cannot go on (the run then fails with the failure's code and message)
     */
    ToolCall execute(ToolCall begun, ToolRun run);

    /**
     * What the run's answer may refer to after {@code calls}, the run's completed calls of every kind in order (a tool
     * reads its own): citations of file_search results, links to files code_interpreter wrote.
     */
    default Annotator annotator(List<ToolCall> calls) {
        return Annotator.NOTHING;
    }
}
