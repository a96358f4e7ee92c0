-- The last good copy of each calendar rota's iCalendar, so that a calendar that cannot be
-- fetched or read never leaves nobody on duty. `source` is a digest of where it came from
-- (an address may hold a secret): a copy from another calendar is not used. `tried_at` and
-- `problem` are the last attempt's, so a calendar that does not answer is tried again only
-- once its refresh interval has passed.
CREATE TABLE oncall_calendars (
    rota TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    body TEXT,
    read_at INTEGER,
    tried_at INTEGER NOT NULL,
    problem TEXT
);
-- Ack links that have acknowledged, by a digest of their token, so that none acts twice.
-- Kept until the link expires.
CREATE TABLE ack_links_used (
    token TEXT PRIMARY KEY,
    service TEXT NOT NULL,
    by TEXT NOT NULL,
    used_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
