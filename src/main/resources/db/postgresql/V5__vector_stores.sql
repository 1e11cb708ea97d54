-- Vector stores. The row keeps what the API shows that does not change with its files (`body`);
-- status, file_counts and usage_bytes are derived from vector_store_files when read.
-- `embedding_model` is the model the store's chunks were embedded with: it is never searched with
-- vectors from another one.
CREATE TABLE vector_stores (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,
    project         TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    last_active_at  BIGINT  NOT NULL,
    expires_at      BIGINT,
    expired         BOOLEAN NOT NULL DEFAULT FALSE,
    embedding_model TEXT    NOT NULL,
    body            TEXT    NOT NULL
);
CREATE INDEX vector_stores_by_project ON vector_stores (project, created_at, seq);
CREATE INDEX vector_stores_by_expiry ON vector_stores (expires_at) WHERE expires_at IS NOT NULL;

-- A file in a vector store, and the ingestion work queue (store/LeaseQueue): a row `in_progress`
-- waits to be claimed; lease_* say which node ingests it until when. `id` is the row's own key for
-- the queue; the API names the row by file_id.
CREATE TABLE vector_store_files (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,
    project         TEXT    NOT NULL,
    vector_store_id TEXT    NOT NULL,
    file_id         TEXT    NOT NULL,
    batch_id        TEXT,
    created_at      BIGINT  NOT NULL,
    status          TEXT    NOT NULL,
    usage_bytes     BIGINT  NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    lease_owner     TEXT,
    lease_token     TEXT,
    lease_until     BIGINT,
    body            TEXT    NOT NULL,
    UNIQUE (vector_store_id, file_id)
);
CREATE INDEX vector_store_files_by_store ON vector_store_files (vector_store_id, created_at, seq);
CREATE INDEX vector_store_files_by_file ON vector_store_files (file_id);
CREATE INDEX vector_store_files_by_batch ON vector_store_files (batch_id) WHERE batch_id IS NOT NULL;
CREATE INDEX vector_store_files_by_status ON vector_store_files (status, seq);

CREATE TABLE vector_store_file_batches (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,
    project         TEXT    NOT NULL,
    vector_store_id TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    cancelled       BOOLEAN NOT NULL DEFAULT FALSE,
    body            TEXT    NOT NULL
);

-- The chunks of ingested files with their embeddings (float32, little-endian): the source of truth
-- every node's search index is built from. Written in the one transaction that completes a file.
CREATE TABLE chunks (
    vector_store_id TEXT    NOT NULL,
    file_id         TEXT    NOT NULL,
    ordinal         INTEGER NOT NULL,
    text            TEXT    NOT NULL,
    tokens          INTEGER NOT NULL,
    embedding       BYTEA   NOT NULL,
    PRIMARY KEY (vector_store_id, file_id, ordinal)
);

-- What changed in the chunks, in commit order: each node's search index follows this log
-- ('add' a file's chunks, 'remove' a file's or, with file_id NULL, a whole store's). Writers append
-- under one lock (PostgreSQL: an advisory transaction lock) so that seq order is commit order and a
-- follower reading "seq > last applied" never skips a change committed late.
CREATE TABLE index_changes (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            TEXT    NOT NULL,
    vector_store_id TEXT    NOT NULL,
    file_id         TEXT
);
