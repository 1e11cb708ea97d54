package io.spindle.store;

import io.spindle.api.Json;
import io.spindle.api.MessageObject;
import io.spindle.api.RunObject;
import io.spindle.api.RunStepObject;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One transaction's view of a run (see {@link Store#changeRun}): read the run, its steps and
 * messages; record the new run, steps and messages. What is recorded is written when the change
 * returns, in the same transaction.
 */
public final class RunChange {
    private final Connection connection;
    private final String project;
    private RunObject run;
    private boolean runChanged;
    private boolean releaseLease;
    private List<RunStepObject> steps;
    private final Map<String, RunStepObject> savedSteps = new LinkedHashMap<>();
    private final Map<String, MessageObject> savedMessages = new LinkedHashMap<>();
    private final RunObject before;
    private final List<Saved> journal = new ArrayList<>();
    private String streamNode;
    private boolean streamNodeChanged;
    /** Messages read in this change, so that reading one again costs no round trip. */
    private final Map<String, Optional<MessageObject>> readMessages = new HashMap<>();

    /** One object recorded by this change, in the order the change recorded them: its state before (null if new) and after. */
    public record Saved(Object before, Object after) {}
    private final Set<String> deletedSteps = new HashSet<>();
    private final Set<String> deletedMessages = new HashSet<>();

    RunChange(Connection connection, String project, RunObject run, String streamNode) {
        this.connection = connection;
        this.project = project;
        this.run = run;
        this.before = run;
        this.streamNode = streamNode;
    }

    /**
     * The node whose client streams the run's current turn, or null when nobody streams it: where the run's events must
     * go. Set by the request that began the turn (creating the run, or submitting its tool outputs).
     */
    public String streamNode() {
        return streamNode;
    }

    /** Begins a turn streamed by a client of {@code node} (null: nobody streams it). */
    public void streamTo(String node) {
        streamNode = node;
        streamNodeChanged = true;
    }

    public RunObject run() {
        return run;
    }

    public String project() {
        return project;
    }

    /** The run's steps in creation order, including those recorded in this change. */
    public List<RunStepObject> steps() {
        if (steps == null) {
            try {
                steps = new ArrayList<>(Sql.all(connection, RunStepObject.class,
                        "SELECT body FROM run_steps WHERE run_id = ? ORDER BY created_at, seq", run.id()));
            } catch (SQLException e) {
                throw new StoreException(e);
            }
        }
        List<RunStepObject> out = new ArrayList<>();
        for (RunStepObject s : steps) {
            if (!deletedSteps.contains(s.id())) {
                out.add(savedSteps.getOrDefault(s.id(), s));
            }
        }
        for (RunStepObject s : savedSteps.values()) {
            if (steps.stream().noneMatch(existing -> existing.id().equals(s.id()))) {
                out.add(s);
            }
        }
        return out;
    }

    public Optional<MessageObject> message(String id) {
        if (deletedMessages.contains(id)) {
            return Optional.empty();
        }
        if (savedMessages.containsKey(id)) {
            return Optional.of(savedMessages.get(id));
        }
        return readMessages.computeIfAbsent(id, this::readMessage);
    }

    private Optional<MessageObject> readMessage(String id) {
        try {
            return Sql.one(connection, MessageObject.class, "SELECT body FROM messages WHERE project = ? AND id = ?", project, id);
        } catch (SQLException e) {
            throw new StoreException(e);
        }
    }

    public void setRun(RunObject updated) {
        journal.add(new Saved(run, updated));
        run = updated;
        runChanged = true;
    }

    public void saveStep(RunStepObject step) {
        RunStepObject previous = steps().stream().filter(s -> s.id().equals(step.id())).findFirst().orElse(null);
        journal.add(new Saved(previous, step));
        deletedSteps.remove(step.id());
        savedSteps.put(step.id(), step);
    }

    /** Records a step that does not exist yet (its id is new): nothing needs to be read first. */
    public void saveNewStep(RunStepObject step) {
        journal.add(new Saved(null, step));
        deletedSteps.remove(step.id());
        savedSteps.put(step.id(), step);
    }

    /** Records a message that does not exist yet (its id is new): nothing needs to be read first. */
    public void saveNewMessage(MessageObject message) {
        journal.add(new Saved(null, message));
        deletedMessages.remove(message.id());
        savedMessages.put(message.id(), message);
    }

    public void saveMessage(MessageObject message) {
        journal.add(new Saved(message(message.id()).orElse(null), message));
        deletedMessages.remove(message.id());
        savedMessages.put(message.id(), message);
    }

    /** Removes a step of this run (one left unfinished by an answer that a later answer replaced). */
    public void deleteStep(String id) {
        savedSteps.remove(id);
        deletedSteps.add(id);
    }

    /** Removes a message of this run (one left unfinished by an answer that a later answer replaced). */
    public void deleteMessage(String id) {
        savedMessages.remove(id);
        deletedMessages.add(id);
    }

    /** Runs a statement in this change's transaction (e.g. a notification sent at commit). */
    void execute(String sql, Object... args) {
        try {
            Sql.execute(connection, sql, args);
        } catch (SQLException e) {
            throw new StoreException(e);
        }
    }

    /** Hands the run back to the queue: nobody executes it until it is claimed again. */
    public void releaseLease() {
        releaseLease = true;
        runChanged = true;
    }

    void write() throws SQLException {
        if (runChanged || streamNodeChanged) {
            String lease = releaseLease ? ", lease_owner = NULL, lease_token = NULL, lease_until = NULL" : "";
            Sql.update(connection, "UPDATE runs SET status = ?, expires_at = ?, body = ?, stream_node = ?" + lease + " WHERE id = ?",
                    run.status(), run.expiresAt(), Json.write(run), streamNode, run.id());
        }
        for (String id : deletedSteps) {
            Sql.update(connection, "DELETE FROM run_steps WHERE project = ? AND run_id = ? AND id = ?", project, run.id(), id);
        }
        for (String id : deletedMessages) {
            Sql.update(connection, "DELETE FROM messages WHERE project = ? AND run_id = ? AND id = ?", project, run.id(), id);
        }
        for (RunStepObject s : savedSteps.values()) {
            Sql.update(connection, "INSERT INTO run_steps (id, project, thread_id, run_id, created_at, body) VALUES (?, ?, ?, ?, ?, ?) "
                    + "ON CONFLICT (id) DO UPDATE SET body = excluded.body",
                    s.id(), project, s.threadId(), s.runId(), s.createdAt(), Json.write(s));
        }
        for (MessageObject m : savedMessages.values()) {
            Sql.update(connection, "INSERT INTO messages (id, project, thread_id, run_id, created_at, body) VALUES (?, ?, ?, ?, ?, ?) "
                    + "ON CONFLICT (id) DO UPDATE SET body = excluded.body",
                    m.id(), project, m.threadId(), m.runId(), m.createdAt(), Json.write(m));
        }
    }

    /** Whether the run is still queued or in progress after this change: neither ended nor waiting for its client. */
    public boolean midTurn() {
        return run.status().equals(RunObject.QUEUED) || run.status().equals(RunObject.IN_PROGRESS);
    }

    /** Everything this change recorded, in order: what the run's events are made of. */
    public List<Saved> journal() {
        return List.copyOf(journal);
    }

    /** The run as it was when the change began. */
    public RunObject runBefore() {
        return before;
    }
}
