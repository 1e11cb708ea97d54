package io.spindle.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindle.testing.TestPostgres;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The runs table as a work queue, on each database: a heartbeat renews only the leases of the claims it is given
 * (the runs a node really executes), and the expiry sweep finds runs that a stuck node still holds past their deadline.
 * Times are passed in, so nothing here waits.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Database.Dialect.class)
class RunQueueTest {
    private static final String PROJECT = "project-one";
    private static final long LEASE = 2_000;

    @Parameter
    Database.Dialect dialect;

    @TempDir
    Path dataDir;

    private String url;
    private Database db;
    private RunQueue runs;
    private LeaseQueue queue;

    @BeforeEach
    void open() {
        if (dialect == Database.Dialect.POSTGRESQL) {
            url = TestPostgres.freshDatabase();
            db = Database.postgres(url, 2);
        } else {
            db = Database.sqlite(dataDir);
        }
        runs = new RunQueue(db);
        queue = runs.leases();
    }

    @AfterEach
    void close() {
        db.close();
        if (url != null) {
            TestPostgres.dropDatabase(url);
        }
    }

    @Test
    void aHeartbeatRenewsOnlyTheLeasesOfTheClaimsItIsGiven() {
        String executing = insertRun("queued", null);
        String vanished = insertRun("queued", null);
        LeaseQueue.Lease live = queue.claim("node-a", 1_000, LEASE).orElseThrow();
        LeaseQueue.Lease gone = queue.claim("node-a", 1_000, LEASE).orElseThrow();
        assertThat(List.of(live.id(), gone.id())).containsExactly(executing, vanished);

        // node-a still executes the first run only: the lease it holds on the second is not renewed
        queue.renew(List.of(live), 2_500, LEASE);
        assertThat(leaseUntil(executing)).isEqualTo(4_500);
        assertThat(leaseUntil(vanished)).isEqualTo(3_000);

        // once that lease ran out, another node claims the run; the first run's lease still holds
        LeaseQueue.Lease taken = queue.claim("node-b", 3_500, LEASE).orElseThrow();
        assertThat(taken.id()).isEqualTo(vanished);
        assertThat(queue.claim("node-b", 3_500, LEASE)).isEmpty();

        // a claim whose lease was taken over renews nothing: its token no longer holds
        queue.renew(List.of(live, gone), 4_000, LEASE);
        assertThat(leaseUntil(executing)).isEqualTo(6_000);
        assertThat(leaseUntil(vanished)).isEqualTo(5_500);
        assertThat(leaseOwner(vanished)).isEqualTo("node-b");
    }

    @Test
    void expiredRunsIncludeThoseStillLeasedAGraceAfterTheirDeadline() {
        long now = 1_000;
        long grace = 2;
        String waiting = insertRun("requires_action", now - 1);
        String orphaned = insertRun("in_progress", now - 1);
        String stuck = insertRun("in_progress", now - grace - 1);
        String justPast = insertRun("in_progress", now - 1);
        String notYet = insertRun("queued", now + 10);
        insertRun("completed", null);
        lease(orphaned, "node-a", now * 1000 - 1);
        lease(stuck, "node-a", now * 1000 + LEASE);
        lease(justPast, "node-a", now * 1000 + LEASE);

        List<String> expired = runs.expired(now, now * 1000, grace).stream().map(RunQueue.RunRef::runId).toList();

        // the node executing justPast still has a lease time to end it itself (it aborts its model call at the deadline)
        assertThat(expired).containsExactly(waiting, orphaned, stuck).doesNotContain(justPast, notYet);
    }

    private String insertRun(String status, Long expiresAt) {
        String id = "run_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
        db.write(c -> Sql.update(c, "INSERT INTO runs (id, project, thread_id, created_at, status, expires_at, body) VALUES (?, ?, ?, ?, ?, ?, ?)",
                id, PROJECT, "thread_" + id, 0L, status, expiresAt, "{}"));
        return id;
    }

    private void lease(String runId, String owner, long until) {
        db.write(c -> Sql.update(c, "UPDATE runs SET lease_owner = ?, lease_token = ?, lease_until = ? WHERE id = ?",
                owner, UUID.randomUUID().toString(), until, runId));
    }

    private long leaseUntil(String runId) {
        return Long.parseLong(column(runId, "lease_until").orElseThrow());
    }

    private String leaseOwner(String runId) {
        return column(runId, "lease_owner").orElse(null);
    }

    private Optional<String> column(String runId, String column) {
        return db.read(c -> {
            try (PreparedStatement ps = Sql.prepare(c, "SELECT " + column + " FROM runs WHERE id = ?", runId);
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                return Optional.ofNullable(rs.getString(1));
            }
        });
    }
}
