-- What staff tell customers on the status page. An incident post (`cabot incident open`)
-- names the services it concerns (a JSON list) and is open until resolved.
CREATE TABLE incident_posts (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    services TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    resolved_at INTEGER
);
-- Its timeline, the opening first: status is investigating, identified, monitoring or
-- resolved; `announced_at` is when it went to `status.announce`'s channels.
CREATE TABLE incident_updates (
    id INTEGER PRIMARY KEY,
    post_id INTEGER NOT NULL REFERENCES incident_posts (id),
    at INTEGER NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    by TEXT,
    announced_at INTEGER
);
CREATE INDEX incident_updates_of_post ON incident_updates (post_id, at);
-- Dated maintenance (`cabot maintenance add`): shown ahead on the page, alerts held while
-- it lasts. `services` is a JSON list (empty: every service); `time_zone` is how its
-- times are shown. Each of its start and end is announced once.
CREATE TABLE maintenance_windows (
    id INTEGER PRIMARY KEY,
    services TEXT NOT NULL,
    from_at INTEGER NOT NULL,
    to_at INTEGER NOT NULL,
    time_zone TEXT NOT NULL,
    message TEXT NOT NULL,
    by TEXT,
    created_at INTEGER NOT NULL,
    cancelled_at INTEGER,
    announced_start_at INTEGER,
    announced_end_at INTEGER
);
