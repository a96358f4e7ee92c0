-- The pair's `confirm: peer`: a failure this node saw alone, while its peer saw the same
-- checks pass, is kept in the history as unconfirmed (1) until both see it.
ALTER TABLE service_history ADD COLUMN unconfirmed INTEGER NOT NULL DEFAULT 0;
