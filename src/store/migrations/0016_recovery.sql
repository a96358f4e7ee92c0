-- `recover_after`: the passing results in a row at the newest end of a check's history.
ALTER TABLE checks ADD COLUMN consecutive_passes INTEGER NOT NULL DEFAULT 0;
-- `flap:`: since when a service has been flapping (its alerts wait until it settles).
ALTER TABLE services ADD COLUMN flapping_since INTEGER;
