-- Keep each check's latest result beside it, so `status` and `serve-status` read
-- current state without touching the history; remember which checks and services
-- are still in the config; index results by time so retention prunes in batches.
ALTER TABLE checks ADD COLUMN last_ok INTEGER;
ALTER TABLE checks ADD COLUMN last_message TEXT;
ALTER TABLE checks ADD COLUMN last_duration_ms INTEGER;
ALTER TABLE checks ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
ALTER TABLE services ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
ALTER TABLE runs ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;

UPDATE checks SET
    last_ok = (SELECT r.ok FROM results r WHERE r.check_id = checks.id ORDER BY r.id DESC LIMIT 1),
    last_message = (SELECT r.message FROM results r WHERE r.check_id = checks.id ORDER BY r.id DESC LIMIT 1),
    last_duration_ms = (SELECT r.duration_ms FROM results r WHERE r.check_id = checks.id ORDER BY r.id DESC LIMIT 1);

CREATE INDEX results_by_time ON results (at);
