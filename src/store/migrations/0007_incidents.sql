-- An incident's identity: when its first alert was decided, so that its alert, repeats and
-- recovery carry one id (PagerDuty's dedup key, Opsgenie's alias); and the worst status
-- it alerted about, so that its recovery reaches every channel that got an alert. An
-- incident already open keeps what its latest alert says, the nearest thing known.
ALTER TABLE services ADD COLUMN incident_at INTEGER;
ALTER TABLE services ADD COLUMN incident_worst TEXT;
UPDATE services SET incident_at = last_alert_at, incident_worst = last_alert_status
    WHERE last_alert_at IS NOT NULL;
