-- One-off duty overrides (`cabot oncall override ROTA USER --for 8h`): USER is on duty for
-- ROTA from `start` until `until`, whatever the rotation says.
CREATE TABLE oncall_overrides (
    id INTEGER PRIMARY KEY,
    rota TEXT NOT NULL,
    user TEXT NOT NULL,
    start INTEGER NOT NULL,
    until INTEGER NOT NULL,
    by TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX oncall_overrides_by_rota ON oncall_overrides (rota, until);
