// The operator's list of calls from PostgreSQL: filters and a keyset cursor on (started_at, call_id), newest first.
import type pg from 'pg';
import type { CallStatus, CallView, Channel } from '../workflows/types.js';
import { rowToView } from './calls-table.js';
import { scopeParam, type Scope } from './scope.js';

export interface CallFilter {
  /** Whose calls: one account's, or every account's (the platform key). */
  scope: Scope;
  status?: CallStatus;
  channel?: Channel;
  from?: string;
  /** started_at >= since */
  since?: string;
  /** started_at < until */
  until?: string;
  limit: number;
  after?: Keyset;
}

/** The last row of a page; `startedAt` keeps PostgreSQL's microseconds so no row is skipped or repeated. */
export interface Keyset {
  startedAt: string;
  callId: string;
}

const MICRO_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

export function encodeCursor(k: Keyset): string {
  return Buffer.from(JSON.stringify([k.startedAt, k.callId])).toString('base64url');
}

/** Null for anything that is not a cursor this module made. */
export function decodeCursor(cursor: string): Keyset | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 2) return null;
    const [startedAt, callId] = value;
    if (typeof startedAt !== 'string' || !MICRO_ISO.test(startedAt) || Number.isNaN(Date.parse(startedAt))) return null;
    if (typeof callId !== 'string' || callId.length === 0 || callId.length > 128) return null;
    return { startedAt, callId };
  } catch {
    return null;
  }
}

export async function listCalls(pool: pg.Pool, f: CallFilter): Promise<{ calls: CallView[]; next: Keyset | null }> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: (p: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  const accountId = scopeParam(f.scope);
  if (accountId !== null) add((p) => `account_id = ${p}`, accountId);
  if (f.status) add((p) => `status = ${p}`, f.status);
  if (f.channel) add((p) => `channel = ${p}`, f.channel);
  if (f.from) add((p) => `from_number = ${p}`, f.from);
  if (f.since) add((p) => `started_at >= ${p}::timestamptz`, f.since);
  if (f.until) add((p) => `started_at < ${p}::timestamptz`, f.until);
  if (f.after) {
    params.push(f.after.startedAt, f.after.callId);
    where.push(`(started_at, call_id) < ($${params.length - 1}::timestamptz, $${params.length})`);
  }
  params.push(f.limit + 1);
  const { rows } = await pool.query(
    `SELECT *, to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS started_key
     FROM calls ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY started_at DESC, call_id DESC LIMIT $${params.length}`,
    params,
  );
  const page = rows.slice(0, f.limit);
  const last = page.at(-1);
  return {
    calls: page.map(rowToView),
    next: rows.length > f.limit && last ? { startedAt: last.started_key, callId: last.call_id } : null,
  };
}
