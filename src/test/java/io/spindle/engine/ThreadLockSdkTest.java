package io.spindle.engine;

import static io.spindle.testing.SdkRuns.assertBadRequest;
import static io.spindle.testing.SdkRuns.assistant;
import static io.spindle.testing.SdkRuns.cancel;
import static io.spindle.testing.SdkRuns.createRun;
import static io.spindle.testing.SdkRuns.pendingCallIds;
import static io.spindle.testing.SdkRuns.pollFor;
import static io.spindle.testing.SdkRuns.runs;
import static io.spindle.testing.SdkRuns.submit;
import static io.spindle.testing.SdkRuns.threadMessages;
import static io.spindle.testing.SdkThreads.addMessage;
import static io.spindle.testing.SdkThreads.texts;
import static io.spindle.testing.SdkThreads.threadWith;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.models.beta.assistants.Assistant;
import com.openai.models.beta.threads.runs.Run;
import com.openai.models.beta.threads.runs.RunStatus;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.FakeUpstream.ToolCall;
import io.spindle.testing.RunEndToEnd;
import io.spindle.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/** The thread lock, on both storages: while a run is active its thread takes no new run and no new message. */
@ParameterizedClass(name = "{0}")
@EnumSource(TestServer.Storage.class)
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
class ThreadLockSdkTest extends RunEndToEnd {

    @Parameter
    TestServer.Storage storage;

    @Override
    protected TestServer.Storage storage() {
        return storage;
    }

    private void assertLocked(String threadId, String runId, String assistantId) {
        assertBadRequest(() -> createRun(sdk(), threadId, assistantId),
                "Thread " + threadId + " already has an active run " + runId + ".");
        assertBadRequest(() -> addMessage(sdk(), threadId, "one more thing"),
                "Can't add messages to " + threadId + " while a run " + runId + " is active.");
    }

    @Test
    void aRunInProgressLocksItsThreadUntilItEnds() throws InterruptedException {
        Assistant assistant = assistant(sdk(), null);
        String threadId = threadWith(sdk(), "first");
        script(Reply.hang());
        Run running = pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.IN_PROGRESS);
        // in_progress comes before the model call: the hang must be taken by this run, not the next one
        awaitUpstreamRequests(1);

        assertLocked(threadId, running.id(), assistant.id());
        assertThat(runs(sdk(), threadId)).extracting(Run::id).containsExactly(running.id());
        assertThat(texts(threadMessages(sdk(), threadId))).containsExactly("first");

        String otherThread = threadWith(sdk(), "elsewhere");
        script(Reply.text("not locked"));
        assertThat(pollFor(sdk(), createRun(sdk(), otherThread, assistant.id()), RunStatus.COMPLETED).status())
                .isEqualTo(RunStatus.COMPLETED);

        cancel(sdk(), running);
        pollFor(sdk(), running, RunStatus.CANCELLED);

        addMessage(sdk(), threadId, "second");
        script(Reply.text("answer two"));
        pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.COMPLETED);
        assertThat(texts(threadMessages(sdk(), threadId))).containsExactly("first", "second", "answer two");
    }

    @Test
    void aRunWaitingForOutputsLocksItsThread() {
        Assistant assistant = assistant(sdk(), null, "get_weather");
        String threadId = threadWith(sdk(), "Weather?");
        script(Reply.toolCalls(new ToolCall("u1", "get_weather", "{}")), Reply.text("Sunny."));
        Run waiting = pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.REQUIRES_ACTION);

        assertLocked(threadId, waiting.id(), assistant.id());

        submit(sdk(), waiting, pendingCallIds(waiting).getFirst(), "sunny");
        pollFor(sdk(), waiting, RunStatus.COMPLETED);

        addMessage(sdk(), threadId, "Thanks");
        script(Reply.text("You're welcome."));
        pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.COMPLETED);
        assertThat(texts(threadMessages(sdk(), threadId))).containsExactly("Weather?", "Sunny.", "Thanks", "You're welcome.");
    }

    @Test
    void theLockErrorsAreAlso400OnTheWire() throws InterruptedException {
        Assistant assistant = assistant(sdk(), null);
        String threadId = threadWith(sdk(), "first");
        script(Reply.hang());
        Run running = pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.IN_PROGRESS);
        awaitUpstreamRequests(1);

        JsonNode runError = api().post("/v1/threads/" + threadId + "/runs", "{\"assistant_id\": \"" + assistant.id() + "\"}").error(400);
        JsonNode messageError = api().post("/v1/threads/" + threadId + "/messages", "{\"role\": \"user\", \"content\": \"x\"}").error(400);

        assertThat(runError.path("message").asText()).isEqualTo("Thread " + threadId + " already has an active run " + running.id() + ".");
        assertThat(runError.path("type").asText()).isEqualTo("invalid_request_error");
        assertThat(messageError.path("message").asText())
                .isEqualTo("Can't add messages to " + threadId + " while a run " + running.id() + " is active.");
        cancel(sdk(), running);
        pollFor(sdk(), running, RunStatus.CANCELLED);
    }
}
