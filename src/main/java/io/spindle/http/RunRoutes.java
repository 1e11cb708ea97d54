package io.spindle.http;

import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.spindle.api.ApiException;
import io.spindle.api.Ids;
import io.spindle.api.MessageRequest;
import io.spindle.api.RunObject;
import io.spindle.api.RunRequest;
import io.spindle.api.RunStepObject;
import io.spindle.engine.Runs;
import io.spindle.store.Store;
import java.util.List;

/**
 * Runs and their steps: {@code /v1/threads/runs}, {@code /v1/threads/{thread_id}/runs/...}. Run
 * answers carry {@code openai-poll-after-ms} so that SDK pollers ask again soon.
 */
final class RunRoutes implements HttpService {
    private static final HeaderName POLL_AFTER = HeaderNames.create("openai-poll-after-ms");

    private final Store store;
    private final Runs runs;
    private final String pollAfterMillis;

    RunRoutes(Store store, Runs runs, int pollAfterMillis) {
        this.store = store;
        this.runs = runs;
        this.pollAfterMillis = Integer.toString(pollAfterMillis);
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/threads/runs", this::createThreadAndRun)
                .any("/threads/runs", Http::methodNotAllowed)
                .post("/threads/{thread_id}/runs", this::create)
                .get("/threads/{thread_id}/runs", this::list)
                .any("/threads/{thread_id}/runs", Http::methodNotAllowed)
                .get("/threads/{thread_id}/runs/{run_id}", this::retrieve)
                .post("/threads/{thread_id}/runs/{run_id}", this::modify)
                .any("/threads/{thread_id}/runs/{run_id}", Http::methodNotAllowed)
                .post("/threads/{thread_id}/runs/{run_id}/cancel", this::cancel)
                .any("/threads/{thread_id}/runs/{run_id}/cancel", Http::methodNotAllowed)
                .post("/threads/{thread_id}/runs/{run_id}/submit_tool_outputs", this::submitToolOutputs)
                .any("/threads/{thread_id}/runs/{run_id}/submit_tool_outputs", Http::methodNotAllowed)
                .get("/threads/{thread_id}/runs/{run_id}/steps", this::listSteps)
                .any("/threads/{thread_id}/runs/{run_id}/steps", Http::methodNotAllowed)
                .get("/threads/{thread_id}/runs/{run_id}/steps/{step_id}", this::retrieveStep)
                .any("/threads/{thread_id}/runs/{run_id}/steps/{step_id}", Http::methodNotAllowed);
    }

    private void create(ServerRequest req, ServerResponse res) {
        String threadId = ThreadRoutes.existingId(store, req);
        boolean include = include(req);
        RunRequest.Parsed parsed = RunRequest.createRun(Http.body(req));
        answer(req, res, runs.create(Http.project(req), threadId, parsed), include);
    }

    private void createThreadAndRun(ServerRequest req, ServerResponse res) {
        RunRequest.Parsed parsed = RunRequest.createThreadAndRun(Http.body(req));
        answer(req, res, runs.createThreadAndRun(Http.project(req), parsed), false);
    }

    private void list(ServerRequest req, ServerResponse res) {
        String threadId = ThreadRoutes.existingId(store, req);
        Http.send(req, res, store.runs(Http.project(req), threadId, Http.listQuery(req)));
    }

    private void retrieve(ServerRequest req, ServerResponse res) {
        send(req, res, find(req));
    }

    private void modify(ServerRequest req, ServerResponse res) {
        RunObject run = find(req);
        var metadata = MessageRequest.modifyMetadata(Http.body(req), run.metadata());
        send(req, res, runs.modify(Http.project(req), run.threadId(), run.id(), metadata));
    }

    private void cancel(ServerRequest req, ServerResponse res) {
        RunObject run = find(req);
        send(req, res, runs.cancel(Http.project(req), run.threadId(), run.id()));
    }

    private void submitToolOutputs(ServerRequest req, ServerResponse res) {
        RunObject run = find(req);
        RunRequest.ToolOutputs outputs = RunRequest.toolOutputs(Http.body(req));
        answer(req, res, runs.submitToolOutputs(Http.project(req), run.threadId(), run.id(), outputs), false);
    }

    private void listSteps(ServerRequest req, ServerResponse res) {
        RunObject run = find(req);
        boolean include = include(req);
        Http.send(req, res, store.steps(Http.project(req), run.threadId(), run.id(), Http.listQuery(req)).map(s -> s.published(include)));
    }

    private void retrieveStep(ServerRequest req, ServerResponse res) {
        RunObject run = find(req);
        boolean include = include(req);
        String id = Http.pathId(req, "step_id", Ids.STEP);
        RunStepObject step = store.step(Http.project(req), run.threadId(), run.id(), id)
                .orElseThrow(() -> ApiException.notFound("run step", id));
        Http.send(req, res, step.published(include));
    }

    private RunObject find(ServerRequest req) {
        String threadId = ThreadRoutes.existingId(store, req);
        String id = Http.pathId(req, "run_id", Ids.RUN);
        return store.run(Http.project(req), threadId, id).orElseThrow(() -> ApiException.notFound("run", id));
    }

    private void send(ServerRequest req, ServerResponse res, RunObject run) {
        res.header(POLL_AFTER, pollAfterMillis);
        Http.send(req, res, run);
    }

    /**
     * {@code include[]} (the SDKs' spelling) or {@code include}: only file_search result content exists; true when
     * it was asked for.
     */
    private static boolean include(ServerRequest req) {
        return !RunRequest.include(req.query().all("include[]", List::of)).isEmpty()
                | !RunRequest.include(req.query().all("include", List::of)).isEmpty();
    }

    /**
     * The run as JSON, or, when the client asked for {@code stream: true}, its events (steps with file_search result
     * content when {@code include} says so).
     */
    private void answer(ServerRequest req, ServerResponse res, Runs.Started started, boolean include) {
        if (started.events() == null) {
            send(req, res, started.run());
            return;
        }
        String project = Http.project(req);
        RunObject run = started.run();
        EventStream.send(res, started.events(), include, () -> store.run(project, run.threadId(), run.id()).orElse(null));
    }
}
