-- `recover_after`: the passing results in a row at the newest end of a check's history.
ALTER TABLE checks ADD COLUMN consecutive_passes INTEGER NOT NULL DEFAULT 0;
