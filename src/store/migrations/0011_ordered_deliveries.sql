-- Deliveries in the order they were decided, at the pace each destination allows.
-- An alert's incident becomes a column (it was only inside the payload) so that the
-- deliveries of one incident are found together; a delivery can be 'superseded' by a
-- later one of its incident (a trigger that a resolve overtook is not sent); each delivery
-- has a random key of its own, kept across its retries and never made again by a restored
-- backup or a new state (Matrix's transaction id); a delivery refused for good keeps a
-- digest of the channel's settings that were refused (`refused_by`), so that changed
-- settings try it at once; a destination that said when to come back (a 429's
-- Retry-After) is left alone until then. SQLite cannot change a CHECK, so
-- the deliveries table is made anew.
ALTER TABLE alerts ADD COLUMN incident TEXT;
UPDATE alerts SET incident = coalesce(
    CASE WHEN json_valid(payload) THEN json_extract(payload, '$.incident') END,
    'cabot/' || service);

CREATE TABLE deliveries_new (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts (id),
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'delivered', 'given_up', 'superseded')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    provider TEXT,
    last_error TEXT,
    done_at INTEGER,
    claimed_by TEXT,
    claim_until INTEGER,
    key TEXT NOT NULL DEFAULT (lower(hex(randomblob(16)))),
    refused_by TEXT
);
INSERT INTO deliveries_new (id, alert_id, channel, recipient, state, attempts,
        next_attempt_at, provider, last_error, done_at, claimed_by, claim_until)
    SELECT id, alert_id, channel, recipient, state, attempts,
        next_attempt_at, provider, last_error, done_at, claimed_by, claim_until
    FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_by_state ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_by_alert ON deliveries (alert_id);

CREATE TABLE paused_destinations (
    destination TEXT PRIMARY KEY,
    until INTEGER NOT NULL,
    reason TEXT NOT NULL
);
