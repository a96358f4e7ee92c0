-- Alerts: what the policy remembers per service, the outbox of decided alerts with one
-- delivery per channel and recipient, every delivery attempt, acks and silences.
ALTER TABLE services ADD COLUMN last_alert_at INTEGER;
ALTER TABLE services ADD COLUMN last_alert_status TEXT;

CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    service TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    previous_status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    -- the alert as channels send it (JSON), frozen when it was decided
    payload TEXT NOT NULL
);
CREATE INDEX alerts_by_time ON alerts (created_at);

CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts (id),
    channel TEXT NOT NULL,
    -- an email address or phone number; '' where the channel has one destination
    recipient TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'given_up')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    provider TEXT,
    last_error TEXT,
    done_at INTEGER
);
CREATE INDEX deliveries_by_state ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_by_alert ON deliveries (alert_id);

CREATE TABLE attempts (
    id INTEGER PRIMARY KEY,
    delivery_id INTEGER NOT NULL REFERENCES deliveries (id),
    at INTEGER NOT NULL,
    provider TEXT NOT NULL,
    ok INTEGER NOT NULL,
    error TEXT
);
CREATE INDEX attempts_by_delivery ON attempts (delivery_id);

CREATE TABLE acks (
    service TEXT PRIMARY KEY,
    until INTEGER NOT NULL,
    by TEXT,
    note TEXT,
    created_at INTEGER NOT NULL
);

CREATE TABLE silences (
    service TEXT PRIMARY KEY,
    until INTEGER NOT NULL,
    by TEXT,
    created_at INTEGER NOT NULL
);
