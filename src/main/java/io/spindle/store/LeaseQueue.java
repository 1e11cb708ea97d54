package io.spindle.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Collection;
import java.util.Optional;
import java.util.UUID;

/**
 * A table as a durable work queue (db-scheduler's pattern): a node claims a row by writing a lease
 * (owner, token, deadline) on it, renews the leases of the rows it is working on with heartbeats,
 * and hands rows back when it stops. A row whose lease ran out, because its node died or no longer
 * works on it, is claimed again by any node. The same mechanism serves every kind of background
 * work (runs, file ingestion); a kind only says which of its rows are claimable.
 *
 * <p>The table needs the columns {@code id, project, seq, lease_owner, lease_token, lease_until}.
 */
public final class LeaseQueue {
    /** A claimed row: the lease token fences every write the claimant makes. */
    public record Lease(String project, String id, String token) {}

    /**
     * A queue's table and which of its rows wait for work, as an SQL condition on the row (e.g.
     * {@code status = 'in_progress'}); leased rows are skipped until their lease runs out. A node claims first the rows
     * whose {@code ownColumn}, when there is one, names it (a run whose stream is on that node), then the oldest.
     */
    public record Table(String name, String claimable, Optional<String> ownColumn) {
        public Table(String name, String claimable) {
            this(name, claimable, Optional.empty());
        }
    }

    private final Database db;
    private final Table table;
    /** Claims a row nobody holds (an index of unleased rows finds it without visiting the leased ones). */
    private final String claimFreeSql;
    /** Claims a row whose holder let its lease run out (it died, or stopped working on it). */
    private final String claimExpiredSql;
    private final String renewSql;
    private final String releaseSql;

    public LeaseQueue(Database db, Table table) {
        this.db = db;
        this.table = table;
        String skipLocked = db.dialect().forUpdateSkipLocked;
        String claim = "UPDATE " + table.name() + " SET lease_owner = ?, lease_token = ?, lease_until = ? "
                + "WHERE id = (SELECT id FROM " + table.name() + " WHERE (" + table.claimable() + ") AND ";
        this.claimFreeSql = claim + "lease_owner IS NULL ORDER BY "
                + table.ownColumn().map(column -> "CASE WHEN " + column + " = ? THEN 0 ELSE 1 END, ").orElse("")
                + "seq LIMIT 1" + skipLocked + ") RETURNING project, id";
        this.claimExpiredSql = claim + "lease_until < ? ORDER BY seq LIMIT 1" + skipLocked + ") RETURNING project, id";
        this.renewSql = "UPDATE " + table.name() + " SET lease_until = ? WHERE id = ? AND lease_token = ?";
        this.releaseSql = "UPDATE " + table.name() + " SET lease_owner = NULL, lease_token = NULL, lease_until = NULL "
                + "WHERE lease_owner = ?";
    }

    /** Whether this node's database pool is at its limit: no time to take on more work. */
    public boolean saturated() {
        return db.saturated();
    }

    public Table table() {
        return table;
    }

    /** Claims a claimable row, if any: first one nobody holds (this node's own first, then the oldest), else an expired one. */
    public Optional<Lease> claim(String node, long nowMillis, long leaseMillis) {
        String token = UUID.randomUUID().toString();
        long until = nowMillis + leaseMillis;
        Object[] free = table.ownColumn().isPresent() ? new Object[] {node, token, until, node} : new Object[] {node, token, until};
        Optional<Lease> lease = claim(claimFreeSql, token, free);
        return lease.isPresent() ? lease : claim(claimExpiredSql, token, node, token, until, nowMillis);
    }

    private Optional<Lease> claim(String sql, String token, Object... args) {
        return db.writeOne(c -> {
            try (PreparedStatement ps = Sql.prepare(c, sql, args); ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new Lease(rs.getString(1), rs.getString(2), token)) : Optional.empty();
            }
        });
    }

    /**
     * Extends these leases, the rows this node is working on right now, each only while its token
     * still holds. A lease this node holds on a row it no longer works on is not renewed: it runs
     * out, and the row is claimed again.
     */
    public void renew(Collection<Lease> leases, long nowMillis, long leaseMillis) {
        if (leases.isEmpty()) {
            return;
        }
        db.write(c -> {
            try (PreparedStatement ps = c.prepareStatement(renewSql)) {
                for (Lease lease : leases) {
                    ps.setLong(1, nowMillis + leaseMillis);
                    ps.setString(2, lease.id());
                    ps.setString(3, lease.token());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return null;
        });
    }

    /** Hands back every row this node holds, e.g. at start-up after a crash, or at shutdown. */
    public int releaseAll(String node) {
        return db.writeOne(c -> Sql.update(c, releaseSql, node));
    }
}
