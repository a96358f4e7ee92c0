-- When each check was first seen in the config, which its standing does not tell (that
-- moves with every change of state): a heartbeat that was never pinged is owed its first
-- ping from there. Checks already known take their first result's time, or the nearest.
ALTER TABLE checks ADD COLUMN added_at INTEGER;
UPDATE checks SET added_at = coalesce(
    (SELECT min(at) FROM results WHERE results.check_id = checks.id),
    status_since, last_run_at);
