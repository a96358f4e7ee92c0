-- Every check on its own clock: a run leases each check it runs (claimed_by, claim_until)
-- so that overlapping runs never run the same check at once, and a killed run's leases
-- lapse by themselves. A delivery is leased the same way while one run sends it.
ALTER TABLE checks ADD COLUMN claimed_by TEXT;
ALTER TABLE checks ADD COLUMN claim_until INTEGER;
ALTER TABLE deliveries ADD COLUMN claimed_by TEXT;
ALTER TABLE deliveries ADD COLUMN claim_until INTEGER;
