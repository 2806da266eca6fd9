-- Dropped calls by the number that may call back: the caller inbound, the callee outbound.
CREATE INDEX IF NOT EXISTS calls_dropped_party_idx
  ON calls ((CASE WHEN direction = 'outbound' AND to_number IS NOT NULL THEN to_number ELSE from_number END), dropped_at DESC)
  WHERE status = 'dropped';
