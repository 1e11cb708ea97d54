-- The runs a node may claim without taking them from another: a claim finds the next one here instead of visiting
-- every run being executed (thousands, with thousands of streams open).
CREATE INDEX runs_unleased ON runs (seq) WHERE lease_owner IS NULL AND status IN ('queued', 'in_progress', 'cancelling');
