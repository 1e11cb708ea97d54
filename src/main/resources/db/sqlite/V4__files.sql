-- Uploaded files: the row holds what the API shows (`body`); the bytes are a blob file of the same
-- id under <data dir>/files/, moved into place before the row commits (store/DiskBlobs).
-- `expires_at` is set when the upload asked for expires_after; an expired file reads as deleted.
CREATE TABLE files (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT    NOT NULL UNIQUE,
    project    TEXT    NOT NULL,
    purpose    TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT,
    body       TEXT    NOT NULL
);
CREATE INDEX files_by_project ON files (project, created_at, seq);
CREATE INDEX files_by_expiry ON files (expires_at) WHERE expires_at IS NOT NULL;
