-- Pipelines may address a call by any of its provider legs: find the call that holds a leg.
CREATE INDEX IF NOT EXISTS calls_legs_idx ON calls USING gin (legs);
