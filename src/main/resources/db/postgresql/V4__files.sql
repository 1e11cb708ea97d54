-- Uploaded files: the row holds what the API shows (`body`); the bytes are in file_chunks, so that
-- every node reads every file. `expires_at` is set when the upload asked for expires_after; an
-- expired file reads as deleted.
CREATE TABLE files (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         TEXT   NOT NULL UNIQUE,
    project    TEXT   NOT NULL,
    purpose    TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    body       TEXT   NOT NULL
);
CREATE INDEX files_by_project ON files (project, created_at, seq);
CREATE INDEX files_by_expiry ON files (expires_at) WHERE expires_at IS NOT NULL;

-- A file's bytes in chunks of 1 MiB (the last one shorter), written in the transaction that inserts
-- the file's row and deleted in the one that deletes it (store/DatabaseBlobs): a crash mid-upload
-- rolls them back with the row. EXTERNAL storage skips TOAST compression, which costs CPU on every
-- write and gains nothing on files that are mostly compressed already (PDFs, images, archives).
CREATE TABLE file_chunks (
    file_id TEXT    NOT NULL,
    seq     INTEGER NOT NULL,
    data    BYTEA   NOT NULL,
    PRIMARY KEY (file_id, seq)
);
ALTER TABLE file_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
