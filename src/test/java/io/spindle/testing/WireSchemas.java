package io.spindle.testing;

import java.util.List;
import java.util.regex.Pattern;

/**
 * Which OpenAI component schema a response body must match, from its method, path and status.
 * Both test clients ({@link Api} and {@link Sdk}) pass every JSON body they receive through
 * {@link #check}, so no test can forget to validate.
 */
public final class WireSchemas {
    private record Rule(String method, Pattern path, String schema) {}

    private static final String ID = "[^/]+";
    private static final List<Rule> RULES = List.of(
            rule("POST", "/assistants", "AssistantObject"),
            rule("GET", "/assistants", "ListAssistantsResponse"),
            rule("GET|POST", "/assistants/" + ID, "AssistantObject"),
            rule("DELETE", "/assistants/" + ID, "DeleteAssistantResponse"),
            rule("POST", "/threads", "ThreadObject"),
            // before /threads/{id}, which "runs" would match too
            rule("POST", "/threads/runs", "RunObject"),
            rule("GET|POST", "/threads/" + ID, "ThreadObject"),
            rule("DELETE", "/threads/" + ID, "DeleteThreadResponse"),
            rule("POST", "/threads/" + ID + "/messages", "MessageObject"),
            rule("GET", "/threads/" + ID + "/messages", "ListMessagesResponse"),
            rule("GET|POST", "/threads/" + ID + "/messages/" + ID, "MessageObject"),
            rule("DELETE", "/threads/" + ID + "/messages/" + ID, "DeleteMessageResponse"),
            rule("POST", "/threads/" + ID + "/runs", "RunObject"),
            rule("GET", "/threads/" + ID + "/runs", "ListRunsResponse"),
            rule("GET|POST", "/threads/" + ID + "/runs/" + ID, "RunObject"),
            rule("POST", "/threads/" + ID + "/runs/" + ID + "/(cancel|submit_tool_outputs)", "RunObject"),
            rule("GET", "/threads/" + ID + "/runs/" + ID + "/steps", "ListRunStepsResponse"),
            rule("GET", "/threads/" + ID + "/runs/" + ID + "/steps/" + ID, "RunStepObject"),
            rule("POST", "/files", "OpenAIFile"),
            rule("GET", "/files", "ListFilesResponse"),
            rule("GET", "/files/" + ID, "OpenAIFile"),
            rule("DELETE", "/files/" + ID, "DeleteFileResponse"),
            rule("POST", "/vector_stores/" + ID + "/search", "VectorStoreSearchResultsPage"),
            rule("POST", "/vector_stores", "VectorStoreObject"),
            rule("GET", "/vector_stores", "ListVectorStoresResponse"),
            rule("GET|POST", "/vector_stores/" + ID, "VectorStoreObject"),
            rule("DELETE", "/vector_stores/" + ID, "DeleteVectorStoreResponse"),
            rule("POST", "/vector_stores/" + ID + "/files", "VectorStoreFileObject"),
            rule("GET", "/vector_stores/" + ID + "/files", "ListVectorStoreFilesResponse"),
            rule("GET|POST", "/vector_stores/" + ID + "/files/" + ID, "VectorStoreFileObject"),
            rule("DELETE", "/vector_stores/" + ID + "/files/" + ID, "DeleteVectorStoreFileResponse"),
            rule("GET", "/vector_stores/" + ID + "/files/" + ID + "/content", "VectorStoreFileContentResponse"),
            rule("POST", "/vector_stores/" + ID + "/file_batches", "VectorStoreFileBatchObject"),
            rule("GET", "/vector_stores/" + ID + "/file_batches/" + ID, "VectorStoreFileBatchObject"),
            rule("POST", "/vector_stores/" + ID + "/file_batches/" + ID + "/cancel", "VectorStoreFileBatchObject"),
            rule("GET", "/vector_stores/" + ID + "/file_batches/" + ID + "/files", "ListVectorStoreFilesResponse"),
            rule("GET", "/models", "ListModelsResponse"),
            // model names may hold slashes
            rule("GET", "/models/.+", "Model"));

    private WireSchemas() {}

    private static Rule rule(String methods, String path, String schema) {
        return new Rule(methods, Pattern.compile("^(/v1)?" + path + "/?$"), schema);
    }

    /** The schema for a response, or null when the route has none (health checks). */
    public static String schemaFor(String method, String path, int status) {
        if (status >= 400) {
            return "ErrorResponse";
        }
        for (Rule r : RULES) {
            if (method.matches(r.method()) && r.path().matcher(path).matches()) {
                return r.schema();
            }
        }
        return null;
    }

    /** Validates a JSON response body; throws AssertionError when it does not match its schema. */
    public static void check(String method, String path, int status, String body) {
        String schema = schemaFor(method, path, status);
        if (schema == null) {
            if (!path.equals("/healthz") && !path.equals("/readyz")) {
                throw new AssertionError("no schema known for " + method + " " + path + " (" + status + ")");
            }
            return;
        }
        OpenAiSchemas.assertValid(schema, body);
    }
}
