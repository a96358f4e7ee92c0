-- A failed result may count at less than its check's importance (a Nagios plugin's
-- WARNING), and may carry performance data; heartbeat checks receive pings.
ALTER TABLE results ADD COLUMN importance TEXT;
ALTER TABLE results ADD COLUMN perfdata TEXT;
ALTER TABLE checks ADD COLUMN failing_importance TEXT;
ALTER TABLE checks ADD COLUMN last_perfdata TEXT;

CREATE TABLE pings (
    id INTEGER PRIMARY KEY,
    service TEXT NOT NULL,
    check_name TEXT NOT NULL,
    at INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    message TEXT,
    -- 'cli' for `cabot ping`, else the address of the HTTP client
    source TEXT NOT NULL
);
CREATE INDEX pings_by_check ON pings (service, check_name, id);
