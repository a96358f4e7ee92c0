-- `recover_after`: the passing results in a row at the newest end of a check's history.
ALTER TABLE checks ADD COLUMN consecutive_passes INTEGER NOT NULL DEFAULT 0;
-- `flap:`: since when a service has been flapping (its alerts wait until it settles).
ALTER TABLE services ADD COLUMN flapping_since INTEGER;
-- `network_checks:`: a failure seen while cabot's own network was down says nothing of
-- the service (1: inconclusive; not counted for debounce, no alert).
ALTER TABLE results ADD COLUMN inconclusive INTEGER NOT NULL DEFAULT 0;
-- Since when every network check has failed, and how many results were inconclusive
-- since; one row while the network is down.
CREATE TABLE network_down (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    since INTEGER NOT NULL,
    inconclusive INTEGER NOT NULL DEFAULT 0
);
