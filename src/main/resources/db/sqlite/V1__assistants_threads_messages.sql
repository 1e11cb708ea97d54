-- Each object is a row: the columns Spindle filters and sorts on, and `body`, the object's JSON as the
-- API returns it. `seq` orders objects created in the same second.
CREATE TABLE assistants (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT    NOT NULL UNIQUE,
    project    TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    body       TEXT    NOT NULL
);
CREATE INDEX assistants_by_project ON assistants (project, created_at, seq);

CREATE TABLE threads (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT    NOT NULL UNIQUE,
    project    TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    body       TEXT    NOT NULL
);

CREATE TABLE messages (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT    NOT NULL UNIQUE,
    project    TEXT    NOT NULL,
    thread_id  TEXT    NOT NULL,
    run_id     TEXT,
    created_at BIGINT  NOT NULL,
    body       TEXT    NOT NULL
);
CREATE INDEX messages_by_thread ON messages (thread_id, created_at, seq);
