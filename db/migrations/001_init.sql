-- Callwright schema: PostgreSQL is the system of record for calls.
CREATE TABLE IF NOT EXISTS callers (
  number      text PRIMARY KEY,
  name        text,
  language    text,
  locale      text,
  tags        text[] NOT NULL DEFAULT '{}',
  metadata    jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS calls (
  call_id          text PRIMARY KEY,
  workflow_id      text NOT NULL,
  channel          text NOT NULL CHECK (channel IN ('voice', 'chat')),
  direction        text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
  from_number      text NOT NULL,
  to_number        text,
  status           text NOT NULL CHECK (status IN ('ringing', 'active', 'dropped', 'ended')),
  disposition      text CHECK (disposition IN ('completed', 'abandoned', 'timeout', 'no_answer', 'busy', 'failed', 'canceled')),
  started_at       timestamptz NOT NULL,
  answered_at      timestamptz,
  dropped_at       timestamptz,
  resume_deadline  timestamptz,
  ended_at         timestamptz,
  turn_count       integer NOT NULL DEFAULT 0,
  drop_count       integer NOT NULL DEFAULT 0,
  resume_count     integer NOT NULL DEFAULT 0,
  context          jsonb NOT NULL DEFAULT '{}',
  metadata         jsonb NOT NULL DEFAULT '{}',
  provider         text,
  legs             text[] NOT NULL DEFAULT '{}',
  -- Event sequence of the last applied write: a retried or late activity never rolls state back.
  version          integer NOT NULL DEFAULT 0,
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS calls_status_started_idx ON calls (status, started_at DESC);
CREATE INDEX IF NOT EXISTS calls_from_started_idx ON calls (from_number, started_at DESC);
CREATE INDEX IF NOT EXISTS calls_started_idx ON calls (started_at DESC, call_id DESC);

CREATE TABLE IF NOT EXISTS call_events (
  call_id          text NOT NULL REFERENCES calls (call_id),
  seq              integer NOT NULL,
  idempotency_key  text NOT NULL,
  type             text NOT NULL,
  applied          boolean NOT NULL DEFAULT true,
  occurred_at      timestamptz NOT NULL,
  recorded_at      timestamptz NOT NULL DEFAULT now(),
  payload          jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (call_id, seq),
  UNIQUE (call_id, idempotency_key)
);

CREATE TABLE IF NOT EXISTS turns (
  call_id  text NOT NULL REFERENCES calls (call_id),
  seq      integer NOT NULL,
  role     text NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
  text     text NOT NULL,
  at       timestamptz NOT NULL,
  PRIMARY KEY (call_id, seq)
);
