// Accounts (the customers of one Callwright) and their API keys. A key is shown once, when it is made:
// only its SHA-256 is kept, which is enough for a long random secret (there is nothing to guess).
import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';

export type AccountStatus = 'active' | 'suspended';
export type KeyRole = 'admin' | 'operator' | 'viewer';

export interface AccountLimits {
  /** Open (ringing or active) calls at once; absent: no limit. */
  concurrentCalls?: number | null;
}

export interface AccountView {
  accountId: string;
  name: string;
  status: AccountStatus;
  limits: AccountLimits;
  /** A decimal string: amounts of money never pass through binary floating point. */
  credits: string;
  currency: string;
  createdAt: string;
  updatedAt: string;
}

export interface KeyView {
  keyId: string;
  name: string;
  role: KeyRole;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** What a presented key resolves to; null for a key nobody made. */
export interface KeyGrant {
  keyId: string;
  accountId: string;
  role: KeyRole;
  revoked: boolean;
  accountStatus: AccountStatus;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

const accountView = (r: Record<string, any>): AccountView => ({
  accountId: r.account_id,
  name: r.name,
  status: r.status,
  limits: r.limits,
  credits: r.credits,
  currency: r.currency,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

const keyView = (r: Record<string, any>): KeyView => ({
  keyId: r.key_id,
  name: r.name,
  role: r.role,
  createdAt: r.created_at.toISOString(),
  lastUsedAt: iso(r.last_used_at),
  revokedAt: iso(r.revoked_at),
});

export const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');

/** Null when an account with this id exists. */
export async function insertAccount(
  pool: pg.Pool,
  a: { accountId: string; name: string; limits?: AccountLimits; credits?: string; currency?: string },
): Promise<AccountView | null> {
  const { rows } = await pool.query(
    `INSERT INTO accounts (account_id, name, limits, credits, currency) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (account_id) DO NOTHING RETURNING *`,
    [a.accountId, a.name, a.limits ?? {}, a.credits ?? '0', a.currency ?? 'USD'],
  );
  return rows[0] ? accountView(rows[0]) : null;
}

export async function selectAccount(pool: pg.Pool, accountId: string): Promise<AccountView | null> {
  const { rows } = await pool.query('SELECT * FROM accounts WHERE account_id = $1', [accountId]);
  return rows[0] ? accountView(rows[0]) : null;
}

export async function listAccounts(pool: pg.Pool): Promise<AccountView[]> {
  return (await pool.query('SELECT * FROM accounts ORDER BY created_at, account_id')).rows.map(accountView);
}

/** Changes the given fields (limits are merged; a null limit removes it); null when absent. */
export async function patchAccount(
  pool: pg.Pool,
  accountId: string,
  p: { name?: string; status?: AccountStatus; limits?: AccountLimits; currency?: string },
): Promise<AccountView | null> {
  const limits = p.limits ?? {};
  const removed = Object.keys(limits).filter((k) => limits[k as keyof AccountLimits] === null);
  const set = Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== null && v !== undefined));
  const { rows } = await pool.query(
    `UPDATE accounts SET name = COALESCE($2, name), status = COALESCE($3, status), currency = COALESCE($4, currency),
       limits = (limits || $5::jsonb) - $6::text[], updated_at = now()
     WHERE account_id = $1 RETURNING *`,
    [accountId, p.name ?? null, p.status ?? null, p.currency ?? null, set, removed],
  );
  return rows[0] ? accountView(rows[0]) : null;
}

/** A new key of the account; `key` exists only in this answer. */
export async function insertKey(pool: pg.Pool, accountId: string, k: { name: string; role: KeyRole }): Promise<KeyView & { key: string }> {
  const key = `cwk_${randomBytes(32).toString('base64url')}`;
  const keyId = `key_${randomBytes(9).toString('base64url')}`;
  const { rows } = await pool.query(
    'INSERT INTO api_keys (key_id, account_id, name, role, key_hash) VALUES ($1, $2, $3, $4, $5) RETURNING *',
    [keyId, accountId, k.name, k.role, hashKey(key)],
  );
  return { ...keyView(rows[0]), key };
}

export async function listKeys(pool: pg.Pool, accountId: string): Promise<KeyView[]> {
  const { rows } = await pool.query('SELECT * FROM api_keys WHERE account_id = $1 ORDER BY created_at, key_id', [accountId]);
  return rows.map(keyView);
}

/** False when the account has no such key; revoking a revoked key changes nothing. */
export async function revokeKey(pool: pg.Pool, accountId: string, keyId: string): Promise<boolean> {
  const { rowCount } = await pool.query(
    'UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE account_id = $1 AND key_id = $2',
    [accountId, keyId],
  );
  return (rowCount ?? 0) > 0;
}

export async function keyGrant(pool: pg.Pool, key: string): Promise<KeyGrant | null> {
  const { rows } = await pool.query(
    `SELECT k.key_id, k.account_id, k.role, k.revoked_at IS NOT NULL AS revoked, a.status
     FROM api_keys k JOIN accounts a USING (account_id) WHERE k.key_hash = $1`,
    [hashKey(key)],
  );
  const r = rows[0];
  return r ? { keyId: r.key_id, accountId: r.account_id, role: r.role, revoked: r.revoked, accountStatus: r.status } : null;
}

export async function accountStatus(pool: pg.Pool, accountId: string): Promise<AccountStatus | null> {
  return (await accountState(pool, accountId))?.status ?? null;
}

/** What a start checks: whether the account may start calls, and how many at once. */
export async function accountState(pool: pg.Pool, accountId: string): Promise<Pick<AccountView, 'status' | 'limits'> | null> {
  const { rows } = await pool.query('SELECT status, limits FROM accounts WHERE account_id = $1', [accountId]);
  return rows[0] ? { status: rows[0].status, limits: rows[0].limits } : null;
}

/** Marks the key used; at most once a minute, so a busy key does not write on every request. */
export async function touchKey(pool: pg.Pool, keyId: string): Promise<void> {
  await pool.query(
    "UPDATE api_keys SET last_used_at = now() WHERE key_id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
    [keyId],
  );
}
