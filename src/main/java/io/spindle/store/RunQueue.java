package io.spindle.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The runs table as work: which runs are claimable ({@link #TABLE}, for {@link LeaseQueue}), and
 * the two questions only runs ask: which are past their deadline, and which were asked to stop.
 */
public final class RunQueue {
    /** Runs a node executes: queued ones, and in-progress or cancelling ones whose node is gone. */
    public static final LeaseQueue.Table TABLE = new LeaseQueue.Table("runs", "status IN ('queued', 'in_progress', 'cancelling')",
            // a node takes the runs its own clients stream first: their events then never cross the database
            Optional.of("stream_node"));

    /** A run, named with its project. */
    public record RunRef(String project, String runId) {}

    /** The queued runs of all projects: how many, and when the oldest was created (epoch seconds; 0 when none). */
    public record Backlog(long runs, long oldestCreatedAt) {}

    private final Database db;

    public RunQueue(Database db) {
        this.db = db;
    }

    /** The lease queue over the runs table. */
    public LeaseQueue leases() {
        return new LeaseQueue(db, TABLE);
    }

    /**
     * Active runs past their deadline that their executor did not end: nobody holds them (waiting for
     * tool outputs, or orphaned), or their lease ran out, or they are still leased more than
     * {@code graceSeconds} after the deadline (the node executing them is stuck).
     */
    public List<RunRef> expired(long nowSeconds, long nowMillis, long graceSeconds) {
        return refs("SELECT project, id FROM runs WHERE status IN ('queued', 'in_progress', 'requires_action', 'cancelling') "
                + "AND expires_at < ? AND (lease_owner IS NULL OR lease_until < ? OR expires_at < ?) ORDER BY seq LIMIT 100",
                nowSeconds, nowMillis, nowSeconds - graceSeconds);
    }

    /** Runs this node executes that were asked to stop (cancel from any node). */
    public List<RunRef> cancelling(String node) {
        return refs("SELECT project, id FROM runs WHERE lease_owner = ? AND status = 'cancelling'", node);
    }

    /** What waits for a node to execute it now, for {@code /metrics}. */
    public Backlog backlog() {
        return db.read(c -> {
            try (PreparedStatement ps = Sql.prepare(c, "SELECT COUNT(*), COALESCE(MIN(created_at), 0) FROM runs WHERE status = 'queued'");
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new Backlog(rs.getLong(1), rs.getLong(2));
            }
        });
    }

    /** Where a run came from (see {@link RunOrigin}), read by the node that executes it; unknown when the run is gone. */
    public RunOrigin origin(String runId) {
        return db.read(c -> {
            try (PreparedStatement ps = Sql.prepare(c, "SELECT trace_parent, queued_at FROM runs WHERE id = ?", runId);
                 ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return RunOrigin.UNKNOWN;
                }
                Optional<String> traceParent = Optional.ofNullable(rs.getString(1));
                long queuedAt = rs.getLong(2);
                return new RunOrigin(traceParent, rs.wasNull() ? OptionalLong.empty() : OptionalLong.of(queuedAt));
            }
        });
    }

    private List<RunRef> refs(String sql, Object... args) {
        return db.read(c -> {
            try (PreparedStatement ps = Sql.prepare(c, sql, args); ResultSet rs = ps.executeQuery()) {
                List<RunRef> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(new RunRef(rs.getString(1), rs.getString(2)));
                }
                return out;
            }
        });
    }
}
