-- Retention (engine/Retention). `modified_at`: the last time the thread, or one of its messages, was modified or a
-- message deleted (NULL: never); new messages and runs count by their own created_at.
ALTER TABLE threads ADD COLUMN modified_at BIGINT;
-- Deleting a thread deletes its steps by thread (messages and runs have their thread's index already).
CREATE INDEX run_steps_by_thread ON run_steps (thread_id);
-- When a retention sweep last found the file referenced, or first saw it (NULL: not seen yet).
ALTER TABLE files ADD COLUMN referenced_at BIGINT;
CREATE INDEX files_by_referenced ON files (referenced_at);

-- Background work done by one node of a cluster at a time, a row per kind, through store/LeaseQueue: the lease is
-- held while the work runs, and afterwards until the work is due again.
CREATE TABLE scheduled_work (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT    NOT NULL UNIQUE,
    project     TEXT    NOT NULL,
    lease_owner TEXT,
    lease_token TEXT,
    lease_until BIGINT
);
INSERT INTO scheduled_work (id, project) VALUES ('retention', '');
