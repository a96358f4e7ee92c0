-- An incident's identity: when its first alert was decided, so that its alert, repeats and
-- recovery carry one id (PagerDuty's dedup key, Opsgenie's alias). An incident already
-- open keeps the time of its latest alert, the nearest thing known.
ALTER TABLE services ADD COLUMN incident_at INTEGER;
UPDATE services SET incident_at = last_alert_at WHERE last_alert_at IS NOT NULL;
