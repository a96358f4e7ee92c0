-- The pair: what the peer's serve-status last answered this node's run (its document as
-- JSON, or why it could not be pulled), one row.
CREATE TABLE peer_pull (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    tried_at INTEGER NOT NULL,
    -- when a document was last pulled, and it
    pulled_at INTEGER,
    document TEXT,
    -- why the last try failed; NULL when it did not
    problem TEXT,
    -- when the witness was last reached, and whether it then saw the primary running
    witness_at INTEGER,
    witness_running INTEGER,
    -- since when this node has said the peer is down (its last run's end); NULL: not down
    down_since INTEGER
);
