-- Agents (versioned configuration a call snapshots at its start) and the phone numbers they answer.
CREATE TABLE IF NOT EXISTS agents (
  agent_id    text PRIMARY KEY,
  version     integer NOT NULL DEFAULT 1,
  name        text NOT NULL,
  config      jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- An agent answering numbers cannot be deleted (RESTRICT): calls to them would silently lose it.
CREATE TABLE IF NOT EXISTS numbers (
  number      text PRIMARY KEY,
  agent_id    text NOT NULL REFERENCES agents (agent_id) ON DELETE RESTRICT,
  tags        text[] NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS numbers_agent_idx ON numbers (agent_id);

-- Which agent (id, version, name) a call was started with; null for calls without one.
ALTER TABLE calls ADD COLUMN IF NOT EXISTS agent jsonb;
