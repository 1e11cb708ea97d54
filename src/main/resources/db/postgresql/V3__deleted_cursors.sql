-- Where deleted assistants and messages stood in their lists, so that a page cursor naming a
-- just-deleted object still works (the "list a page, delete it, list the next page" loop).
CREATE TABLE deleted_cursors (
    id         TEXT   NOT NULL PRIMARY KEY,
    project    TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    seq        BIGINT NOT NULL
);
