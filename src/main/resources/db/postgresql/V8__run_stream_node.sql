-- The node whose client streams the run's current turn (the request that created the run or submitted its tool
-- outputs with stream: true), or NULL when nobody streams it: the executor sends events only there.
ALTER TABLE runs ADD COLUMN stream_node TEXT;
