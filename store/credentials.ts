// Each account's own provider credentials, sealed with AES-256-GCM under CREDENTIALS_KEY. Every value has
// its own random 12-byte IV and names the key that sealed it (key_id), so a new key can be rolled in while
// values sealed under the previous one still open. Listings carry hints, never secrets.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';

export const PROVIDERS = ['twilio', 'vonage', 'exotel'] as const;
export type Provider = (typeof PROVIDERS)[number];

export interface CredentialsOf {
  twilio: { accountSid: string; authToken: string };
  vonage: { signatureSecret: string; apiKey?: string };
  exotel: { webhookUser: string; webhookPassword: string };
}
export type ProviderCredentials = { [P in Provider]: { provider: P } & CredentialsOf[P] }[Provider];

/** What an operator is shown: that it is set, and the last 4 characters of its main secret. */
export interface CredentialSummary {
  provider: Provider;
  set: true;
  hint: string;
  updatedAt: string;
}

/** The development key, "callwright-dev-credentials-key!!" in hex: production requires CREDENTIALS_KEY (config/env.ts). */
export const DEV_CREDENTIALS_KEY = '63616c6c7772696768742d6465762d63726564656e7469616c732d6b65792121';

/** 32 bytes written as 64 hex digits or as base64 (standard or URL-safe); null when it is neither. */
export function parseCredentialsKey(text: string): Buffer | null {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) return null;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length === 32 ? bytes : null;
}

const keyIdOf = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 8);

interface Sealed {
  secret: Buffer;
  iv: Buffer;
  tag: Buffer;
  keyId: string;
}

export interface CredentialCipher {
  /** The id of the key new values are sealed with. */
  readonly keyId: string;
  /** `aad` binds the value to its row: a sealed value copied into another account's row does not open. */
  seal(plain: string, aad: string): Sealed;
  open(sealed: Sealed, aad: string): string;
}

/** The cipher of CREDENTIALS_KEY, opening values sealed under CREDENTIALS_KEY_PREVIOUS too. */
export function credentialCipher(current: string, previous?: string): CredentialCipher {
  const keys = new Map<string, Buffer>();
  for (const text of [previous, current]) {
    if (text === undefined) continue;
    const key = parseCredentialsKey(text);
    if (!key) throw new Error('a credentials key must be 32 bytes, as 64 hex digits or base64');
    keys.set(keyIdOf(key), key);
  }
  const keyId = keyIdOf(parseCredentialsKey(current)!);
  return {
    keyId,
    seal(plain, aad) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', keys.get(keyId)!, iv).setAAD(Buffer.from(aad));
      const secret = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return { secret, iv, tag: cipher.getAuthTag(), keyId };
    },
    open({ secret, iv, tag, keyId: sealedWith }, aad) {
      const key = keys.get(sealedWith);
      if (!key) throw new Error(`credentials sealed with key ${sealedWith}, neither CREDENTIALS_KEY nor CREDENTIALS_KEY_PREVIOUS`);
      const decipher = createDecipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(aad)).setAuthTag(tag);
      return Buffer.concat([decipher.update(secret), decipher.final()]).toString('utf8');
    },
  };
}

const aadOf = (accountId: string, provider: Provider) => `${accountId}/${provider}`;
const mainSecret = (c: ProviderCredentials) =>
  c.provider === 'twilio' ? c.authToken : c.provider === 'vonage' ? c.signatureSecret : c.webhookPassword;
/** The provider's own id for the account, by which its webhooks find it (Vonage's only when given). */
const lookupOf = (c: ProviderCredentials) => (c.provider === 'twilio' ? c.accountSid : c.provider === 'vonage' ? (c.apiKey ?? null) : null);

const summary = (r: Record<string, any>): CredentialSummary => ({
  provider: r.provider,
  set: true,
  hint: r.hint,
  updatedAt: r.updated_at.toISOString(),
});

/** Sets (or replaces) an account's credentials; `taken` when another account registered the same provider account. */
export async function putCredentials(
  pool: pg.Pool,
  cipher: CredentialCipher,
  accountId: string,
  credentials: ProviderCredentials,
): Promise<(CredentialSummary & { created: boolean }) | { taken: true }> {
  const { provider, ...fields } = credentials;
  const sealed = cipher.seal(JSON.stringify(fields), aadOf(accountId, provider));
  try {
    const { rows } = await pool.query(
      `INSERT INTO provider_credentials (account_id, provider, secret, iv, tag, key_id, hint, lookup)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (account_id, provider) DO UPDATE SET secret = EXCLUDED.secret, iv = EXCLUDED.iv, tag = EXCLUDED.tag,
         key_id = EXCLUDED.key_id, hint = EXCLUDED.hint, lookup = EXCLUDED.lookup, updated_at = now()
       RETURNING provider, hint, updated_at, (xmax = 0) AS created`,
      [accountId, provider, sealed.secret, sealed.iv, sealed.tag, sealed.keyId, mainSecret(credentials).slice(-4), lookupOf(credentials)],
    );
    return { ...summary(rows[0]), created: rows[0].created };
  } catch (err) {
    if ((err as { constraint?: string }).constraint === 'provider_credentials_lookup_idx') return { taken: true };
    throw err;
  }
}

/** The account's credentials, opened; null when it has none for this provider. For verifying webhooks only. */
export async function credentialsFor<P extends Provider>(
  pool: pg.Pool,
  cipher: CredentialCipher,
  accountId: string,
  provider: P,
): Promise<CredentialsOf[P] | null> {
  const { rows } = await pool.query('SELECT secret, iv, tag, key_id FROM provider_credentials WHERE account_id = $1 AND provider = $2', [
    accountId,
    provider,
  ]);
  const r = rows[0];
  if (!r) return null;
  return JSON.parse(cipher.open({ secret: r.secret, iv: r.iv, tag: r.tag, keyId: r.key_id }, aadOf(accountId, provider)));
}

export async function listCredentials(pool: pg.Pool, accountId: string): Promise<CredentialSummary[]> {
  const { rows } = await pool.query('SELECT provider, hint, updated_at FROM provider_credentials WHERE account_id = $1 ORDER BY provider', [
    accountId,
  ]);
  return rows.map(summary);
}

export async function deleteCredentials(pool: pg.Pool, accountId: string, provider: Provider): Promise<boolean> {
  const { rowCount } = await pool.query('DELETE FROM provider_credentials WHERE account_id = $1 AND provider = $2', [accountId, provider]);
  return (rowCount ?? 0) > 0;
}

/** The account that registered this provider account (a Twilio AccountSid, a Vonage API key); null when none did. */
export async function accountByLookup(pool: pg.Pool, provider: Provider, lookup: string): Promise<string | null> {
  const { rows } = await pool.query('SELECT account_id FROM provider_credentials WHERE provider = $1 AND lookup = $2', [provider, lookup]);
  return rows[0]?.account_id ?? null;
}

/** The providers some account has credentials for. */
export async function providersInUse(pool: pg.Pool): Promise<Provider[]> {
  const { rows } = await pool.query(
    'SELECT p FROM unnest($1::text[]) AS p WHERE EXISTS (SELECT 1 FROM provider_credentials WHERE provider = p)',
    [PROVIDERS],
  );
  return rows.map((r) => r.p);
}

export const accountByTwilioSid = (pool: pg.Pool, accountSid: string) => accountByLookup(pool, 'twilio', accountSid);
