-- Hosted voice: a call handed to a person ends `transferred`, and a recorded call keeps its recording.
ALTER TABLE calls DROP CONSTRAINT IF EXISTS calls_disposition_check;
ALTER TABLE calls ADD CONSTRAINT calls_disposition_check
  CHECK (disposition IN ('completed', 'abandoned', 'timeout', 'no_answer', 'busy', 'failed', 'canceled', 'transferred'));
ALTER TABLE calls ADD COLUMN IF NOT EXISTS recording jsonb;
