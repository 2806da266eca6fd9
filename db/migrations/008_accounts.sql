-- Accounts: many customers on one Callwright. Every row an account owns names it; rows from before
-- accounts belong to `default`. The column keeps its default so a worker of the previous release,
-- still writing during a rolling upgrade, writes into `default` as it meant to.
CREATE TABLE IF NOT EXISTS accounts (
  account_id  text PRIMARY KEY,
  name        text NOT NULL,
  status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  limits      jsonb NOT NULL DEFAULT '{}',
  credits     numeric NOT NULL DEFAULT 0,
  currency    text NOT NULL DEFAULT 'USD',
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO accounts (account_id, name) VALUES ('default', 'Default') ON CONFLICT (account_id) DO NOTHING;

-- Only the SHA-256 of a key is kept: keys are long random secrets, so a slow password hash adds nothing.
CREATE TABLE IF NOT EXISTS api_keys (
  key_id        text PRIMARY KEY,
  account_id    text NOT NULL REFERENCES accounts (account_id),
  name          text NOT NULL,
  role          text NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
  key_hash      text NOT NULL UNIQUE,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz
);
CREATE INDEX IF NOT EXISTS api_keys_account_idx ON api_keys (account_id, created_at);

ALTER TABLE calls ADD COLUMN IF NOT EXISTS account_id text NOT NULL DEFAULT 'default' REFERENCES accounts (account_id);
ALTER TABLE agents ADD COLUMN IF NOT EXISTS account_id text NOT NULL DEFAULT 'default' REFERENCES accounts (account_id);
ALTER TABLE numbers ADD COLUMN IF NOT EXISTS account_id text NOT NULL DEFAULT 'default' REFERENCES accounts (account_id);
ALTER TABLE callers ADD COLUMN IF NOT EXISTS account_id text NOT NULL DEFAULT 'default' REFERENCES accounts (account_id);

-- The same phone number is a separate caller in each account.
ALTER TABLE callers DROP CONSTRAINT IF EXISTS callers_pkey;
ALTER TABLE callers ADD PRIMARY KEY (account_id, number);

-- An account's lists, stats and callback matching read its own rows first.
CREATE INDEX IF NOT EXISTS calls_account_keyset_idx ON calls (account_id, started_at DESC, call_id DESC);
CREATE INDEX IF NOT EXISTS calls_account_open_idx ON calls (account_id) WHERE status IN ('ringing', 'active');
DROP INDEX IF EXISTS calls_dropped_party_idx;
CREATE INDEX IF NOT EXISTS calls_dropped_party_idx
  ON calls (account_id, (CASE WHEN direction = 'outbound' AND to_number IS NOT NULL THEN to_number ELSE from_number END), dropped_at DESC)
  WHERE status = 'dropped';
CREATE INDEX IF NOT EXISTS agents_account_idx ON agents (account_id, created_at);
CREATE INDEX IF NOT EXISTS numbers_account_idx ON numbers (account_id, number);

-- A line an account's call took at its start or resume, until PostgreSQL shows the call open (then the
-- call's own row holds the line). A reservation no row confirms within 30 s (its API died before the
-- start) stops counting: at worst a crashed API holds a line for 30 s. See store/call-lines.ts.
CREATE TABLE IF NOT EXISTS call_lines (
  call_id     text PRIMARY KEY,
  account_id  text NOT NULL REFERENCES accounts (account_id),
  taken_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS call_lines_account_idx ON call_lines (account_id, taken_at);
