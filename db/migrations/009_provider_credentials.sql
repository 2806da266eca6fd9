-- Each account's own provider credentials, encrypted with CREDENTIALS_KEY (AES-256-GCM, see
-- store/credentials.ts). key_id names the key a value was sealed with, so the key can rotate; hint is
-- the last 4 characters of the main secret, what an operator is shown. lookup is the provider's id for
-- the account (a Twilio AccountSid, a Vonage API key), by which a webhook finds whose secret to use.
CREATE TABLE IF NOT EXISTS provider_credentials (
  account_id  text NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
  provider    text NOT NULL CHECK (provider IN ('twilio', 'vonage', 'exotel')),
  secret      bytea NOT NULL,
  iv          bytea NOT NULL,
  tag         bytea NOT NULL,
  key_id      text NOT NULL,
  hint        text NOT NULL,
  lookup      text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, provider)
);
-- One provider account belongs to one Callwright account: otherwise a webhook could not say whose it is.
CREATE UNIQUE INDEX IF NOT EXISTS provider_credentials_lookup_idx ON provider_credentials (provider, lookup) WHERE lookup IS NOT NULL;
