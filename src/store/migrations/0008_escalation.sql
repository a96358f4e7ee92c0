-- How many of a service's escalation steps its current incident has reached, so that each
-- step fires once and its people hear of the recovery.
ALTER TABLE services ADD COLUMN escalation_steps INTEGER NOT NULL DEFAULT 0;
