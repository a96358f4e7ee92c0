-- The first schema: checks, their results, services and completed runs.
CREATE TABLE checks (
    id INTEGER PRIMARY KEY,
    service TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    importance TEXT NOT NULL,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    failing INTEGER NOT NULL DEFAULT 0,
    status_since INTEGER,
    last_run_at INTEGER,
    UNIQUE (service, name)
);

CREATE TABLE results (
    id INTEGER PRIMARY KEY,
    check_id INTEGER NOT NULL REFERENCES checks (id),
    at INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX results_by_check ON results (check_id, id);

CREATE TABLE services (
    name TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    since INTEGER NOT NULL
);

CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    started_at INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    checks_run INTEGER NOT NULL
);
