// PostgreSQL access for calls, call_events, turns and callers: the system of record.
import type pg from 'pg';
import { withDuration } from '../workflows/call-duration.js';
import { DEFAULT_ACCOUNT, type CallView, type RecordBatch, type Turn } from '../workflows/types.js';
import { inScope, scopeParam, type Scope } from './scope.js';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function rowToView(r: Record<string, any>): CallView {
  return withDuration({
    callId: r.call_id,
    workflowId: r.workflow_id,
    accountId: r.account_id ?? DEFAULT_ACCOUNT,
    status: r.status,
    disposition: r.disposition,
    channel: r.channel,
    direction: r.direction,
    from: r.from_number,
    to: r.to_number,
    provider: r.provider,
    startedAt: iso(r.started_at)!,
    answeredAt: iso(r.answered_at),
    droppedAt: iso(r.dropped_at),
    resumeDeadline: iso(r.resume_deadline),
    endedAt: iso(r.ended_at),
    turnCount: r.turn_count,
    dropCount: r.drop_count,
    resumeCount: r.resume_count,
    context: r.context,
    metadata: r.metadata,
    legs: r.legs,
    agent: r.agent ?? null,
    recording: r.recording ?? null,
    version: r.version,
  });
}

const CALL_COLUMNS = [
  'call_id',
  'workflow_id',
  'channel',
  'direction',
  'from_number',
  'to_number',
  'status',
  'disposition',
  'started_at',
  'answered_at',
  'dropped_at',
  'resume_deadline',
  'ended_at',
  'turn_count',
  'drop_count',
  'resume_count',
  'context',
  'metadata',
  'provider',
  'legs',
  'version',
  'agent',
  'recording',
  'account_id',
];
// One statement, so one round trip and one implicit transaction: the caller profile, the call row (never
// rolled back by a stale retry), then every event and turn of the batch as multi-row inserts from arrays.
// A retried batch doubles nothing: events that exist are skipped, and a turn's row takes the latest write
// for its seq. A local activity runs before its workflow task completes; when that task is lost and
// redone, updates may be taken in another order and the redone batch puts other events and turns at the
// same seqs: the workflow keeps the redone one, so the store must too (turns here, events in realignEvents).
const N = CALL_COLUMNS.length;
const WRITE_BATCH = `
  WITH caller AS (
    INSERT INTO callers (account_id, number, name) SELECT $${N}::text, $${N + 1}::text, $${N + 2}::text WHERE $${N + 1}::text IS NOT NULL
    ON CONFLICT (account_id, number) DO UPDATE SET name = COALESCE(EXCLUDED.name, callers.name), updated_at = now()
  ), call AS (
    INSERT INTO calls (${CALL_COLUMNS.join(', ')})
    VALUES (${CALL_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})
    ON CONFLICT (call_id) DO UPDATE SET
      ${CALL_COLUMNS.filter((c) => c !== 'call_id')
        .map((c) => `${c} = EXCLUDED.${c}`)
        .join(', ')}, updated_at = now()
    WHERE calls.version <= EXCLUDED.version
  ), events AS (
    ${insertEvents(N + 3)}
    RETURNING 1
  ), turns AS (
    INSERT INTO turns (call_id, seq, role, text, at)
    SELECT $1, t.seq, t.role, t.text, t.at
    FROM unnest($${N + 9}::int[], $${N + 10}::text[], $${N + 11}::text[], $${N + 12}::timestamptz[]) AS t (seq, role, text, at)
    ON CONFLICT (call_id, seq) DO UPDATE SET role = EXCLUDED.role, text = EXCLUDED.text, at = EXCLUDED.at
  )
  SELECT count(*)::int AS events_written FROM events`;

/** The batch's events from arrays at $from..$from+5 (seq, key, type, applied, occurred_at, payload); $1 is the call. */
function insertEvents(from: number): string {
  return `INSERT INTO call_events (call_id, seq, idempotency_key, type, applied, occurred_at, payload)
    SELECT $1, e.seq, e.key, e.type, e.applied, e.occurred_at, e.payload::jsonb
    FROM unnest($${from}::int[], $${from + 1}::text[], $${from + 2}::text[], $${from + 3}::bool[], $${from + 4}::timestamptz[], $${from + 5}::text[])
      AS e (seq, key, type, applied, occurred_at, payload)
    ON CONFLICT DO NOTHING`;
}

const INSERT_EVENTS = insertEvents(2);

// Rows at the batch's seqs or with its keys that pair them otherwise were written by an attempt the
// workflow did not keep: they go, and the batch's events take their places.
const REALIGN_EVENTS = `
  DELETE FROM call_events c WHERE c.call_id = $1 AND (c.seq = ANY($2::int[]) OR c.idempotency_key = ANY($3::text[]))
    AND NOT EXISTS (SELECT 1 FROM unnest($2::int[], $3::text[]) AS b (seq, key) WHERE b.seq = c.seq AND b.key = c.idempotency_key)`;

/** False once a pooler in front of PostgreSQL lost a prepared statement: this process stops naming them. */
let prepareStatements = true;

/** SQLSTATEs of a prepared statement the server does not have, or has from another client (PgBouncer in transaction mode). */
const LOST_PREPARED = new Set(['26000', '42P05']);

/**
 * Runs a hot statement named, so each connection prepares it once (planning the batch write was half
 * its CPU in PostgreSQL). Behind a pooler that does not keep prepared statements per client it falls
 * back to unnamed statements, once and for all, instead of failing every write.
 */
async function queryPrepared<R extends pg.QueryResultRow>(pool: pg.Pool, name: string, text: string, values: unknown[]) {
  if (!prepareStatements) return pool.query<R>(text, values);
  try {
    return await pool.query<R>({ name, text, values });
  } catch (err) {
    if (!LOST_PREPARED.has((err as { code?: string }).code ?? '')) throw err;
    prepareStatements = false;
    return pool.query<R>(text, values);
  }
}

/** Writes a batch of one call's events in one transaction. */
export async function writeBatch(pool: pg.Pool, { call, events, turns, caller }: RecordBatch): Promise<void> {
  const eventArrays = [
    events.map((e) => e.seq),
    events.map((e) => e.key),
    events.map((e) => e.type),
    events.map((e) => e.applied),
    events.map((e) => e.occurredAt),
    events.map((e) => JSON.stringify(e.payload)),
  ];
  const { rows } = await queryPrepared<{ events_written: number }>(pool, 'write-batch', WRITE_BATCH, [
    call.callId,
    call.workflowId,
    call.channel,
    call.direction,
    call.from,
    call.to,
    call.status,
    call.disposition,
    call.startedAt,
    call.answeredAt,
    call.droppedAt,
    call.resumeDeadline,
    call.endedAt,
    call.turnCount,
    call.dropCount,
    call.resumeCount,
    call.context,
    call.metadata,
    call.provider,
    call.legs,
    call.version,
    call.agent ?? null,
    call.recording ?? null,
    call.accountId ?? DEFAULT_ACCOUNT,
    caller?.number ?? null,
    caller?.name ?? null,
    ...eventArrays,
    turns.map((t) => t.seq),
    turns.map((t) => t.role),
    turns.map((t) => t.text),
    turns.map((t) => t.at),
  ]);
  // Fewer written than sent: a retry (the rows match, nothing to do) or a batch redone after a lost task.
  if (rows[0].events_written < events.length) await realignEvents(pool, call.callId, eventArrays);
}

async function realignEvents(pool: pg.Pool, callId: string, eventArrays: unknown[][]): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const { rowCount } = await client.query(REALIGN_EVENTS, [callId, eventArrays[0], eventArrays[1]]);
    if (rowCount) await client.query(INSERT_EVENTS, [callId, ...eventArrays]);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch((e: Error) => (broken = e));
    throw err;
  } finally {
    client.release(broken);
  }
}

export async function selectCall(pool: pg.Pool, scope: Scope, callId: string): Promise<CallView | null> {
  const { rows } = await pool.query(`SELECT * FROM calls WHERE call_id = $1 AND ${inScope('$2')}`, [callId, scopeParam(scope)]);
  return rows[0] ? rowToView(rows[0]) : null;
}

/** Turns after `afterSeq`, oldest first. */
export async function selectTurns(pool: pg.Pool, callId: string, afterSeq: number, limit: number): Promise<Turn[]> {
  const { rows } = await pool.query('SELECT seq, role, text, at FROM turns WHERE call_id = $1 AND seq > $2 ORDER BY seq LIMIT $3', [
    callId,
    afterSeq,
    limit,
  ]);
  return rows.map((r) => ({ seq: r.seq, role: r.role, text: r.text, at: r.at.toISOString() }));
}

/** The newest `limit` turns, oldest first: what the cache holds. */
export async function selectRecentTurns(pool: pg.Pool, callId: string, limit: number): Promise<Turn[]> {
  const { rows } = await pool.query('SELECT seq, role, text, at FROM turns WHERE call_id = $1 ORDER BY seq DESC LIMIT $2', [callId, limit]);
  return rows.reverse().map((r) => ({ seq: r.seq, role: r.role, text: r.text, at: r.at.toISOString() }));
}

/** The account's newest dropped call with this party (caller inbound, callee outbound) whose resume window is still open. */
export async function selectDroppedCallFrom(pool: pg.Pool, accountId: string, number: string): Promise<string | null> {
  const { rows } = await pool.query(
    // The number that may call back: the caller inbound, the callee outbound (index calls_dropped_party_idx).
    `SELECT call_id FROM calls
     WHERE account_id = $2 AND status = 'dropped' AND resume_deadline > now()
       AND (CASE WHEN direction = 'outbound' AND to_number IS NOT NULL THEN to_number ELSE from_number END) = $1
     ORDER BY dropped_at DESC LIMIT 1`,
    [number, accountId],
  );
  return rows[0]?.call_id ?? null;
}

/** The caller's newest dropped chat call in the account whose window is open: what a chat start resumes. */
export async function selectDroppedChatOf(pool: pg.Pool, accountId: string, number: string): Promise<string | null> {
  const { rows } = await pool.query(
    // The same expression as calls_dropped_party_idx, so the index answers it.
    `SELECT call_id FROM calls
     WHERE account_id = $2 AND status = 'dropped' AND channel = 'chat' AND resume_deadline > now()
       AND (CASE WHEN direction = 'outbound' AND to_number IS NOT NULL THEN to_number ELSE from_number END) = $1
     ORDER BY dropped_at DESC LIMIT 1`,
    [number, accountId],
  );
  return rows[0]?.call_id ?? null;
}

export interface EventView {
  seq: number;
  key: string;
  type: string;
  applied: boolean;
  occurredAt: string;
  recordedAt: string;
  payload: Record<string, unknown>;
}

/** The audit trail, after `afterSeq`, oldest first, optionally of one type, of a call read in the caller's scope. */
export async function selectEvents(
  pool: pg.Pool,
  { callId }: Pick<CallView, 'callId'>,
  q: { afterSeq: number; limit: number; type?: string },
): Promise<EventView[]> {
  const { rows } = await pool.query(
    `SELECT seq, idempotency_key, type, applied, occurred_at, recorded_at, payload FROM call_events
     WHERE call_id = $1 AND seq > $2 AND ($3::text IS NULL OR type = $3) ORDER BY seq LIMIT $4`,
    [callId, q.afterSeq, q.type ?? null, q.limit],
  );
  return rows.map((r) => ({
    seq: r.seq,
    key: r.idempotency_key,
    type: r.type,
    applied: r.applied,
    occurredAt: r.occurred_at.toISOString(),
    recordedAt: r.recorded_at.toISOString(),
    payload: r.payload,
  }));
}
