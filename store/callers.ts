// Caller profiles (one row per account and number) and the erasure of a caller's transcripts.
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { keys } from './call-cache.js';

export interface CallerProfile {
  name?: string | null;
  language?: string | null;
  locale?: string | null;
  tags?: string[];
  metadata?: Record<string, unknown>;
}

export interface CallerView {
  number: string;
  name: string | null;
  language: string | null;
  locale: string | null;
  tags: string[];
  metadata: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

/** What the erasure writes in place of a turn's text. */
export const ERASED = '[erased]';

const toView = (r: Record<string, any>): CallerView => ({
  number: r.number,
  name: r.name,
  language: r.language,
  locale: r.locale,
  tags: r.tags,
  metadata: r.metadata,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

export async function selectCaller(pool: pg.Pool, accountId: string, number: string): Promise<CallerView | null> {
  const { rows } = await pool.query('SELECT * FROM callers WHERE account_id = $1 AND number = $2', [accountId, number]);
  return rows[0] ? toView(rows[0]) : null;
}

/** Creates or replaces the whole profile: fields not given are cleared. `created` tells which. */
export async function putCaller(
  pool: pg.Pool,
  accountId: string,
  number: string,
  p: CallerProfile,
): Promise<{ caller: CallerView; created: boolean }> {
  const { rows } = await pool.query(
    `INSERT INTO callers (number, name, language, locale, tags, metadata, account_id) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (account_id, number) DO UPDATE SET name = EXCLUDED.name, language = EXCLUDED.language, locale = EXCLUDED.locale,
       tags = EXCLUDED.tags, metadata = EXCLUDED.metadata, updated_at = now()
     RETURNING *, (xmax = 0) AS created`,
    [number, p.name ?? null, p.language ?? null, p.locale ?? null, p.tags ?? [], p.metadata ?? {}, accountId],
  );
  return { caller: toView(rows[0]), created: rows[0].created };
}

/** Changes only the given fields; null when there is no such caller. */
export async function patchCaller(pool: pg.Pool, accountId: string, number: string, p: CallerProfile): Promise<CallerView | null> {
  const fields = (['name', 'language', 'locale', 'tags', 'metadata'] as const).filter((f) => p[f] !== undefined);
  const sets = fields.map((f, i) => `${f} = $${i + 3}`);
  const { rows } = await pool.query(
    `UPDATE callers SET ${[...sets, 'updated_at = now()'].join(', ')} WHERE account_id = $1 AND number = $2 RETURNING *`,
    [accountId, number, ...fields.map((f) => p[f])],
  );
  return rows[0] ? toView(rows[0]) : null;
}

export async function deleteCaller(pool: pg.Pool, accountId: string, number: string): Promise<boolean> {
  return ((await pool.query('DELETE FROM callers WHERE account_id = $1 AND number = $2', [accountId, number])).rowCount ?? 0) > 0;
}

/**
 * Replaces the text of every turn of the caller's ended calls with `[erased]` (also in their audit
 * events and the context's recent messages) and drops those calls'
 * cached view and turns (the cache refills from PostgreSQL). Open calls are left alone: their
 * workflows still converse. Repeating it erases nothing more.
 */
export async function eraseTranscripts(
  pool: pg.Pool,
  redis: Redis,
  accountId: string,
  number: string,
): Promise<{ calls: number; turns: number }> {
  const { rows } = await pool.query<{ call_id: string; erased: number }>(
    `WITH ended AS (SELECT call_id FROM calls WHERE account_id = $3 AND from_number = $1 AND status = 'ended'),
          erased AS (UPDATE turns SET text = $2 WHERE call_id IN (SELECT call_id FROM ended) AND text <> $2 RETURNING call_id),
          -- The audit keeps what was said (message and turn events) and pressed (digits), and the call's memory its last messages.
          said AS (
            UPDATE call_events SET payload = payload || jsonb_strip_nulls(jsonb_build_object(
                'text', CASE WHEN payload ? 'text' THEN $2 END, 'digits', CASE WHEN payload ? 'digits' THEN $2 END))
             WHERE call_id IN (SELECT call_id FROM ended) AND (payload ? 'text' OR payload ? 'digits')
               AND payload->>'text' IS DISTINCT FROM $2 AND payload->>'digits' IS DISTINCT FROM $2),
          memory AS (UPDATE calls SET context = context - 'recentQueries' WHERE call_id IN (SELECT call_id FROM ended) AND context ? 'recentQueries')
     SELECT e.call_id, (SELECT count(*) FROM erased x WHERE x.call_id = e.call_id)::int AS erased FROM ended e`,
    [number, ERASED, accountId],
  );
  if (rows.length) await redis.del(...rows.flatMap((r) => [keys.call(r.call_id), keys.turns(r.call_id)]));
  return { calls: rows.length, turns: rows.reduce((n, r) => n + r.erased, 0) };
}

/** An ended call of the caller that still shows a recording, and the provider's id of each recording it was sent. */
export interface RecordedCall {
  callId: string;
  sids: string[];
}

/** Twilio's recordings only: their events carry the RecordingSid the provider deletes them by. */
export async function recordedCalls(pool: pg.Pool, accountId: string, number: string): Promise<RecordedCall[]> {
  const { rows } = await pool.query<RecordedCall>(
    `SELECT c.call_id AS "callId", array_agg(e.payload->>'sid' ORDER BY e.seq) AS sids
     FROM calls c JOIN call_events e ON e.call_id = c.call_id
     WHERE c.account_id = $2 AND c.from_number = $1 AND c.status = 'ended' AND c.recording IS NOT NULL
       AND e.type = 'recording' AND e.applied AND e.idempotency_key LIKE 'twilio:recording:%' AND e.payload ? 'sid'
     GROUP BY c.call_id ORDER BY min(c.ended_at), c.call_id`,
    [number, accountId],
  );
  return rows;
}

/** The call's recordings are gone at the provider: its view no longer shows one (the cache refills from PostgreSQL). */
export async function forgetRecording(pool: pg.Pool, redis: Redis, callId: string): Promise<void> {
  await pool.query('UPDATE calls SET recording = NULL, updated_at = now() WHERE call_id = $1', [callId]);
  await redis.del(keys.call(callId));
}
