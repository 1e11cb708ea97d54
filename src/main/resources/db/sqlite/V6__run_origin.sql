-- Where a run came from, for its trace: the W3C traceparent of the request that created it (null when that
-- request was not traced) and when it was queued, in epoch milliseconds (created_at counts seconds only).
-- The node that executes the run, maybe another one or after a restart, reads them to parent the run's spans.
ALTER TABLE runs ADD COLUMN trace_parent TEXT;
ALTER TABLE runs ADD COLUMN queued_at BIGINT;
