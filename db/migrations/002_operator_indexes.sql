-- Operator list filters page by the keyset (started_at, call_id), newest first: each filter gets an
-- index in that order, superseding the 001 indexes that lacked the call_id tie-breaker.
CREATE INDEX IF NOT EXISTS calls_status_keyset_idx ON calls (status, started_at DESC, call_id DESC);
CREATE INDEX IF NOT EXISTS calls_from_keyset_idx ON calls (from_number, started_at DESC, call_id DESC);
DROP INDEX IF EXISTS calls_status_started_idx;
DROP INDEX IF EXISTS calls_from_started_idx;
