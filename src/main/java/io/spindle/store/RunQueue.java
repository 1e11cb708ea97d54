package io.spindle.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The runs table as a durable work queue. A node claims a run by writing a lease (owner, token,
 * deadline) on its row, renews the leases of the runs it is executing with heartbeats, and hands
 * runs back when it stops. A run whose lease ran out, because its node died or no longer executes
 * it, is claimed again by any node.
 */
public final class RunQueue {
    /** A claimed run: the lease token fences every write the claimant makes (see {@link Store#changeRun}). */
    public record Claim(String project, String runId, String leaseToken) {}

    /** A run, named with its project. */
    public record RunRef(String project, String runId) {}

    private static final String CLAIMABLE = "status IN ('queued', 'in_progress', 'cancelling') "
            + "AND (lease_owner IS NULL OR lease_until < ?)";

    private final Database db;

    public RunQueue(Database db) {
        this.db = db;
    }

    /** Claims the oldest claimable run, if any. */
    public Optional<Claim> claim(String node, long nowMillis, long leaseMillis) {
        String token = UUID.randomUUID().toString();
        String skipLocked = db.dialect() == Database.Dialect.POSTGRESQL ? " FOR UPDATE SKIP LOCKED" : "";
        String sql = "UPDATE runs SET lease_owner = ?, lease_token = ?, lease_until = ? "
                + "WHERE id = (SELECT id FROM runs WHERE " + CLAIMABLE + " ORDER BY seq LIMIT 1" + skipLocked + ") "
                + "RETURNING project, id";
        return db.write(c -> {
            try (PreparedStatement ps = Sql.prepare(c, sql, node, token, nowMillis + leaseMillis, nowMillis);
                 ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new Claim(rs.getString(1), rs.getString(2), token)) : Optional.empty();
            }
        });
    }

    /**
     * Extends the leases of these claims, the runs this node is executing right now, each only while
     * its token still holds. A lease this node holds for a run it no longer executes is not renewed:
     * it runs out, and the run is claimed again (or expired).
     */
    public void renew(Collection<Claim> claims, long nowMillis, long leaseMillis) {
        if (claims.isEmpty()) {
            return;
        }
        db.write(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE runs SET lease_until = ? WHERE id = ? AND lease_token = ?")) {
                for (Claim claim : claims) {
                    ps.setLong(1, nowMillis + leaseMillis);
                    ps.setString(2, claim.runId());
                    ps.setString(3, claim.leaseToken());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return null;
        });
    }

    /** Hands back every run this node holds, e.g. at start-up after a crash, or at shutdown. */
    public int releaseAll(String node) {
        return db.write(c -> Sql.update(c,
                "UPDATE runs SET lease_owner = NULL, lease_token = NULL, lease_until = NULL WHERE lease_owner = ?", node));
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
