-- Each change of a service's status, for the status page's 24-hour strip and `history`.
CREATE TABLE service_history (
    id INTEGER PRIMARY KEY,
    service TEXT NOT NULL,
    at INTEGER NOT NULL,
    status TEXT NOT NULL
);
CREATE INDEX service_history_by_service ON service_history (service, at);

-- Services that already exist start their history at their current status.
INSERT INTO service_history (service, at, status) SELECT name, since, status FROM services;
