-- What checks remember from one run to the next, by key: a domain's last RDAP lookup
-- (`rdap:domain:<name>`), the IANA bootstrap file as last fetched (`rdap:bootstrap:dns`).
-- `value` is JSON; `updated_at` is when it was last written (Unix seconds).
CREATE TABLE check_memory (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
