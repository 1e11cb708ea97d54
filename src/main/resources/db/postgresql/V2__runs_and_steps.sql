-- Runs are also the work queue: lease_owner/lease_token/lease_until say which node executes a run
-- and until when; a run whose lease ran out is claimed again (db-scheduler's pattern).
CREATE TABLE runs (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          TEXT   NOT NULL UNIQUE,
    project     TEXT   NOT NULL,
    thread_id   TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    status      TEXT   NOT NULL,
    expires_at  BIGINT,
    lease_owner TEXT,
    lease_token TEXT,
    lease_until BIGINT,
    body        TEXT   NOT NULL
);
CREATE INDEX runs_by_thread ON runs (thread_id, created_at, seq);
CREATE INDEX runs_by_status ON runs (status, seq);
-- The thread lock: at most one active run per thread, whatever the code above does.
CREATE UNIQUE INDEX runs_one_active_per_thread ON runs (thread_id)
    WHERE status IN ('queued', 'in_progress', 'requires_action', 'cancelling');

CREATE TABLE run_steps (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         TEXT   NOT NULL UNIQUE,
    project    TEXT   NOT NULL,
    thread_id  TEXT   NOT NULL,
    run_id     TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    body       TEXT   NOT NULL
);
CREATE INDEX run_steps_by_run ON run_steps (run_id, created_at, seq);
