package io.spindle.engine;

import static io.spindle.testing.SdkRuns.cancel;
import static io.spindle.testing.SdkRuns.createRun;
import static io.spindle.testing.SdkRuns.pollFor;
import static io.spindle.testing.SdkThreads.threadWith;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.models.beta.assistants.Assistant;
import com.openai.models.beta.assistants.AssistantCreateParams;
import com.openai.models.beta.assistants.CodeInterpreterTool;
import com.openai.models.beta.threads.runs.Run;
import com.openai.models.beta.threads.runs.RunStatus;
import io.spindle.api.Json;
import io.spindle.testing.FakeUpstream.Reply;
import io.spindle.testing.FakeUpstream.ToolCall;
import io.spindle.testing.RunEndToEnd;
import io.spindle.testing.SdkRuns;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Cancelling a run while its code runs interrupts the cell: the time limit here is far longer than the polls wait, so
 * the run can only end cancelled in time if the cancel stopped the code. The session survives the interrupt.
 */
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
class CodeInterpreterCancelSdkTest extends RunEndToEnd {

    @Override
    protected Map<String, String> env() {
        return Map.of("SPINDLE_SANDBOX_TIMEOUT_SECONDS", "3600");
    }

    private static Reply code(String python) {
        return Reply.toolCalls(new ToolCall("call_up_code", "code_interpreter", Json.object().put("code", python).toString()));
    }

    @Test
    void aCancelDuringExecutionInterruptsTheCodeAndTheSessionLivesOn() throws InterruptedException {
        Assistant assistant = sdk().beta().assistants().create(AssistantCreateParams.builder().model("gpt-4o")
                .addTool(CodeInterpreterTool.builder().build()).build());
        String threadId = threadWith(sdk(), "Remember m = 41, then count forever.");
        script(code("m = 41"), Reply.text("Done."));
        pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.COMPLETED);
        forgetUpstreamRequests();
        script(code("n = 0\nwhile True:\n    n += 1"));
        Run run = createRun(sdk(), threadId, assistant.id());
        String steps = "/v1/threads/" + threadId + "/runs/" + run.id() + "/steps";
        api().await(steps, s -> s.path("data").size() == 1, Duration.ofSeconds(10));
        SdkRuns.sleep(300); // the session is warm: the cell starts within milliseconds of its step

        cancel(sdk(), run);

        Run cancelled = pollFor(sdk(), run, RunStatus.CANCELLED);
        assertThat(cancelled.cancelledAt()).isPresent();
        assertThat(api().get(steps).ok().path("data").path(0).path("status").asText()).isEqualTo("cancelled");

        forgetUpstreamRequests();
        script(code("print(m + 1)"), Reply.text("42"));
        Run next = pollFor(sdk(), createRun(sdk(), threadId, assistant.id()), RunStatus.COMPLETED);
        JsonNode call = api().get("/v1/threads/" + threadId + "/runs/" + next.id() + "/steps?order=asc").ok()
                .path("data").path(0).path("step_details").path("tool_calls").path(0);
        assertThat(call.path("code_interpreter").path("outputs").path(0).path("logs").asText())
                .as("the interrupt kept the session and its variables").isEqualTo("42\n");
    }
}
