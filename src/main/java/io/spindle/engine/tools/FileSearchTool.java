package io.spindle.engine.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindle.api.ApiException;
import io.spindle.api.Json;
import io.spindle.api.MessageObject;
import io.spindle.api.RunObject;
import io.spindle.api.ThreadObject;
import io.spindle.api.ToolCall;
import io.spindle.api.Tools;
import io.spindle.api.VectorStoreObject;
import io.spindle.search.ChunkHit;
import io.spindle.search.EmbeddingException;
import io.spindle.search.VectorStoreSearch;
import io.spindle.store.Store;
import io.spindle.store.VectorStoreRepository;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * {@code file_search}: the model searches the vector stores of the run's assistant and thread (at most one each) with
 * one or more queries, and reads back the best chunks, each under the marker it cites them with.
 */
public final class FileSearchTool implements BuiltInTool {
    /** Runs wait this long for files still being ingested into the thread's store (dossier §10). */
    static final Duration WAIT_FOR_THREAD_FILES = Duration.ofSeconds(60);
    private static final long POLL_MILLIS = 250;

    private final Store store;
    private final VectorStoreRepository vectorStores;
    private final VectorStoreSearch search;
    private final Duration waitForThreadFiles;

    public FileSearchTool(Store store, VectorStoreRepository vectorStores, VectorStoreSearch search) {
        this(store, vectorStores, search, WAIT_FOR_THREAD_FILES);
    }

    FileSearchTool(Store store, VectorStoreRepository vectorStores, VectorStoreSearch search, Duration waitForThreadFiles) {
        this.store = store;
        this.vectorStores = vectorStores;
        this.search = search;
        this.waitForThreadFiles = waitForThreadFiles;
    }

    @Override
    public String type() {
        return ToolCall.FileSearch.TYPE;
    }

    @Override
    public ObjectNode function(JsonNode toolEntry) {
        ObjectNode fn = Json.object().put("name", type()).put("description",
                "Searches the files the user uploaded and returns the passages most relevant to the queries. "
                        + "Use it whenever the answer may be in the user's files.");
        ObjectNode parameters = fn.putObject("parameters").put("type", "object");
        ObjectNode queries = parameters.putObject("properties").putObject("queries").put("type", "array")
                .put("description", "One or more search queries; several phrasings of the question find more.");
        queries.putObject("items").put("type", "string");
        parameters.putArray("required").add("queries");
        return fn;
    }

    @Override
    public String instructions(String project, RunObject run, List<MessageObject> threadMessages) {
        return FileSearchOutput.instructions();
    }

    /** The results of the run's searches, each citable by its marker. */
    @Override
    public Annotator annotator(List<ToolCall> calls) {
        List<CitationSource> sources = new ArrayList<>();
        for (ToolCall call : calls) {
            if (call instanceof ToolCall.FileSearch fs) {
                for (int i = 0; i < fs.results().size(); i++) {
                    ToolCall.FileSearch.Result r = fs.results().get(i);
                    sources.add(new CitationSource(fs.search(), i, r.fileId(), r.fileName()));
                }
            }
        }
        return CitationMarkers.of(sources);
    }

    @Override
    public ToolCall begin(String callId, String arguments, JsonNode toolEntry, ToolRun run) {
        JsonNode ranking = toolEntry.path("file_search").path("ranking_options");
        return new ToolCall.FileSearch(callId, arguments, run.ordinal(), ranking.path("ranker").asText("default_2024_08_21"),
                ranking.path("score_threshold").asDouble(0), List.of(), null);
    }

    @Override
    public ToolCall execute(ToolCall begun, ToolRun run) {
        ToolCall.FileSearch call = (ToolCall.FileSearch) begun;
        JsonNode entry = entryOf(run);
        Integer maxResults = entry.path("file_search").has("max_num_results")
                ? entry.path("file_search").path("max_num_results").asInt() : null;
        List<String> queries = queries(call.arguments());
        if (queries.isEmpty()) {
            return call.withResults(List.of(), "The search did not run: call file_search with {\"queries\": [\"...\"]}, "
                    + "a list of one or more non-empty search queries.");
        }
        List<String> storeIds = storeIds(run);
        if (storeIds.isEmpty()) {
            return call.withResults(List.of(), FileSearchOutput.of(run.run().model(), maxResults, call.search(), List.of()).text());
        }
        List<ChunkHit> hits;
        try {
            hits = search.search(run.project(), storeIds, queries, FileSearchOutput.maxResults(run.run().model(), maxResults),
                    call.scoreThreshold());
        } catch (ApiException e) {
            throw new ToolFailure("server_error", e.getMessage());
        } catch (EmbeddingException e) {
            throw new ToolFailure("server_error", "The embedding model could not embed the search queries.");
        }
        List<FileSearchOutput.Hit> found = hits.stream().map(h -> new FileSearchOutput.Hit(h.fileId(), h.fileName(), h.score(),
                Json.tree(h.attributes()), h.text())).toList();
        FileSearchOutput output = FileSearchOutput.of(run.run().model(), maxResults, call.search(), found);
        List<ToolCall.FileSearch.Result> results = output.results().stream()
                .map(h -> new ToolCall.FileSearch.Result(h.fileId(), h.fileName(), h.score(), h.attributes(), h.text())).toList();
        return call.withResults(results, output.text());
    }

    /** The run's file_search entry (its options); the run offered the tool, so it has one. */
    private JsonNode entryOf(ToolRun run) {
        for (JsonNode t : run.run().tools()) {
            if (t.path("type").asText().equals(type())) {
                return t;
            }
        }
        return Json.object();
    }

    /** {@code {"queries": [...]}} as the model wrote it; a lone {@code "query"} string is taken too. */
    static List<String> queries(String arguments) {
        JsonNode args;
        try {
            args = Json.readTree(arguments);
        } catch (RuntimeException e) {
            return List.of();
        }
        Set<String> out = new LinkedHashSet<>();
        args.path("queries").forEach(q -> {
            if (q.isTextual() && !q.textValue().isBlank()) {
                out.add(q.textValue().strip());
            }
        });
        if (args.path("query").isTextual() && !args.path("query").textValue().isBlank()) {
            out.add(args.path("query").textValue().strip());
        }
        return List.copyOf(out);
    }

    /**
     * The assistant's store and the thread's store (at most one each), once the thread's files are ingested or the
     * wait for them ran out. A store deleted since is left out; an expired one fails the run.
     */
    private List<String> storeIds(ToolRun run) {
        List<String> ids = new ArrayList<>();
        store.assistant(run.project(), run.run().assistantId()).flatMap(a -> Tools.vectorStoreId(a.toolResources())).ifPresent(ids::add);
        Optional<String> threadStore = store.thread(run.project(), run.run().threadId()).flatMap(ThreadObject::vectorStoreId);
        threadStore.ifPresent(id -> {
            if (!ids.contains(id)) {
                ids.add(id);
            }
        });
        threadStore.ifPresent(id -> awaitFiles(run, id));
        List<String> usable = new ArrayList<>();
        for (String id : ids) {
            Optional<VectorStoreObject> found = vectorStores.find(run.project(), id);
            if (found.isEmpty()) {
                continue;
            }
            if (found.get().status().equals("expired")) {
                throw new ToolFailure("server_error", "Vector store '" + id + "' has expired.");
            }
            usable.add(id);
        }
        return usable;
    }

    /** Waits while the thread's store has files in progress, at most the wait's length, and not past a cancel. */
    private void awaitFiles(ToolRun run, String storeId) {
        long until = System.nanoTime() + waitForThreadFiles.toNanos();
        while (!run.isCancelled() && System.nanoTime() < until) {
            Optional<VectorStoreObject> found = vectorStores.find(run.project(), storeId);
            if (found.isEmpty() || !found.get().status().equals("in_progress")) {
                return;
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
