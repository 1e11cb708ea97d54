/*
 * Spindle - Apache-2.0 project code.
 *
 * Checks OpenAiSchemas against real api.openai.com response bodies (copied from the recordings in
 * ../shared/recordings, which come from openai/openai-dotnet's MIT-licensed session records) and
 * against broken variants of them, which must be rejected.
 */
package io.spindle.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

class OpenAiSchemasTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** assistant-crud.json, entry 3: POST /v1/assistants (with metadata). */
    private static final String ASSISTANT = """
            {
              "id": "asst_nhxgDqo6qGQapC8t5lPpo7kB",
              "object": "assistant",
              "created_at": 1761861541,
              "name": null,
              "description": null,
              "model": "gpt-4o",
              "instructions": null,
              "tools": [],
              "top_p": 1.0,
              "temperature": 1.0,
              "reasoning_effort": null,
              "tool_resources": {},
              "metadata": {
                "test_metadata_cleanup_eligible": "hello!"
              },
              "response_format": "auto"
            }
            """;

    /** run-basic-polled.json, entry 2: GET /v1/threads/{id}/runs on a thread without runs. */
    private static final String EMPTY_RUN_LIST = """
            {
              "object": "list",
              "data": [],
              "first_id": null,
              "last_id": null,
              "has_more": false
            }
            """;

    /** run-code-interpreter-steps.json, entry 3: POST /v1/threads/{id}/runs (queued). */
    private static final String RUN = """
            {
              "id": "run_aiOgmOSxtqwaLG3JZAhGsAgR",
              "object": "thread.run",
              "created_at": 1761861560,
              "assistant_id": "asst_0s6U9WqQrHOr3C1PRnAcQuwo",
              "thread_id": "thread_OS44jZFnGgFsgkVM85h4FzVY",
              "status": "queued",
              "started_at": null,
              "expires_at": 1761862160,
              "cancelled_at": null,
              "failed_at": null,
              "completed_at": null,
              "required_action": null,
              "last_error": null,
              "model": "gpt-4o",
              "instructions": "You help the user with mathematical descriptions and visualizations.",
              "tools": [
                {
                  "type": "code_interpreter"
                }
              ],
              "tool_resources": {},
              "metadata": {},
              "temperature": 1.0,
              "top_p": 1.0,
              "reasoning_effort": null,
              "max_completion_tokens": null,
              "max_prompt_tokens": null,
              "truncation_strategy": {
                "type": "auto",
                "last_messages": null
              },
              "incomplete_details": null,
              "usage": null,
              "response_format": "auto",
              "tool_choice": "auto",
              "parallel_tool_calls": true
            }
            """;

    /** error-404-file-not-found.json, entry 0: GET /v1/files/fake_id (404, extra "detail"). */
    private static final String ERROR = """
            {
              "error": {
                "message": "No such File object: fake_id",
                "type": "invalid_request_error",
                "param": "id",
                "code": null
              },
              "detail": {
                "message": "No such File object: fake_id",
                "code": null
              }
            }
            """;

    @Test
    void recordedBodiesAreValid() {
        assertThatCode(() -> {
            OpenAiSchemas.assertValid("AssistantObject", ASSISTANT);
            OpenAiSchemas.assertValid("ListRunsResponse", EMPTY_RUN_LIST);
            OpenAiSchemas.assertValid("RunObject", RUN);
            OpenAiSchemas.assertValid("ErrorResponse", ERROR);
        }).doesNotThrowAnyException();
    }

    @Test
    void jsonNodeOverloadValidatesToo() {
        assertThatCode(() -> OpenAiSchemas.assertValid("RunObject", json(RUN))).doesNotThrowAnyException();
    }

    @Test
    void streamEventWrapperResolvesReferencesAcrossComponents() {
        ObjectNode event = MAPPER.createObjectNode().put("event", "thread.run.created");
        event.set("data", json(RUN));
        assertThatCode(() -> OpenAiSchemas.assertValid("AssistantStreamEvent", event)).doesNotThrowAnyException();
        assertThatCode(() -> OpenAiSchemas.assertValid("AssistantStreamEvent", """
                {"event": "done", "data": "[DONE]"}
                """)).doesNotThrowAnyException();

        event.put("event", "thread.run.exploded");
        assertThatThrownBy(() -> OpenAiSchemas.assertValid("AssistantStreamEvent", event))
                .isInstanceOf(AssertionError.class);
    }

    @Test
    void assistantWithoutToolsIsRejected() {
        ObjectNode assistant = json(ASSISTANT);
        assistant.remove("tools");

        assertThatThrownBy(() -> OpenAiSchemas.assertValid("AssistantObject", assistant))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("AssistantObject")
                .hasMessageContaining("required property 'tools' not found")
                .hasMessageContaining("asst_nhxgDqo6qGQapC8t5lPpo7kB"); // the body is shown
    }

    @Test
    void runWithBogusStatusIsRejected() {
        ObjectNode run = json(RUN);
        run.put("status", "bogus");

        assertThatThrownBy(() -> OpenAiSchemas.assertValid("RunObject", run))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("$.status")
                .hasMessageContaining("enumeration");
    }

    @Test
    void runWithWrongTypesIsRejectedWithEveryProblemListed() {
        ObjectNode run = json(RUN);
        run.put("created_at", "yesterday");
        run.put("parallel_tool_calls", "yes");
        run.putArray("tools").addObject().put("type", "telepathy");

        assertThatThrownBy(() -> OpenAiSchemas.assertValid("RunObject", run))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("$.created_at")
                .hasMessageContaining("$.parallel_tool_calls")
                .hasMessageContaining("$.tools[0]");
    }

    @Test
    void nonEmptyListStillNeedsStringIds() {
        ObjectNode list = json(EMPTY_RUN_LIST);
        list.put("first_id", 42);

        assertThatThrownBy(() -> OpenAiSchemas.assertValid("ListRunsResponse", list))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("$.first_id");
    }

    @Test
    void errorWithoutMessageIsRejected() {
        ObjectNode error = json(ERROR);
        ((ObjectNode) error.get("error")).remove("message");

        assertThatThrownBy(() -> OpenAiSchemas.assertValid("ErrorResponse", error))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("$.error")
                .hasMessageContaining("required property 'message' not found");
    }

    @Test
    void nullRunInstructionsAreRejectedAsTheSpecSays() {
        // Known spec gap: the live API returned "instructions": null for runs of assistants without
        // instructions, but the spec's RunObject.instructions is a plain string.
        ObjectNode run = json(RUN);
        run.putNull("instructions");

        assertThatThrownBy(() -> OpenAiSchemas.assertValid("RunObject", run))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("$.instructions");
    }

    @Test
    void hugeBodiesAreTruncatedInTheMessage() {
        ObjectNode list = json(EMPTY_RUN_LIST);
        for (int i = 0; i < 50; i++) {
            ObjectNode run = json(RUN);
            run.put("status", "bogus");
            list.withArray("data").add(run);
        }

        assertThatThrownBy(() -> OpenAiSchemas.assertValid("ListRunsResponse", list))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("$.data[49].status")
                .hasMessageContaining("truncated");
    }

    @Test
    void notJsonIsAnAssertionFailure() {
        assertThatThrownBy(() -> OpenAiSchemas.assertValid("ErrorResponse", "{\"error\": "))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("does not parse");
        assertThatThrownBy(() -> OpenAiSchemas.assertValid("ErrorResponse", "{} {}"))
                .isInstanceOf(AssertionError.class);
    }

    @Test
    void unknownComponentIsAProgrammingError() {
        assertThatThrownBy(() -> OpenAiSchemas.assertValid("NoSuchObject", "{}"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("NoSuchObject");
        assertThat(OpenAiSchemas.componentNames())
                .contains("AssistantObject", "RunObject", "RunStepObject", "AssistantStreamEvent", "Error");
    }

    private static ObjectNode json(String text) {
        try {
            JsonNode node = MAPPER.readTree(text);
            return (ObjectNode) node;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
