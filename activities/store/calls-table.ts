// PostgreSQL access for calls, call_events, turns and callers: the system of record.
import type pg from 'pg';
import type { CallView, EventRecord, Turn } from '../../workflows/types.js';

export interface RecordInput {
  call: CallView;
  event: EventRecord;
  turns: Turn[];
  /** Set on start and when the caller's name is learned: keeps the callers profile current. */
  caller?: { number: string; name?: string };
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function rowToView(r: Record<string, any>): CallView {
  return {
    callId: r.call_id,
    workflowId: r.workflow_id,
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
    version: r.version,
  };
}

const CALL_COLUMNS = [
  'call_id', 'workflow_id', 'channel', 'direction', 'from_number', 'to_number', 'status', 'disposition',
  'started_at', 'answered_at', 'dropped_at', 'resume_deadline', 'ended_at', 'turn_count', 'drop_count',
  'resume_count', 'context', 'metadata', 'provider', 'legs', 'version',
];
const UPSERT_CALL = `
  INSERT INTO calls (${CALL_COLUMNS.join(', ')})
  VALUES (${CALL_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})
  ON CONFLICT (call_id) DO UPDATE SET
    ${CALL_COLUMNS.filter((c) => c !== 'call_id').map((c) => `${c} = EXCLUDED.${c}`).join(', ')}, updated_at = now()
  WHERE calls.version <= EXCLUDED.version`;

/** One transaction per event: the call row (never rolled back by a stale retry), the audit row, its turns. */
export async function writeEvent(pool: pg.Pool, { call, event, turns, caller }: RecordInput): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    if (caller) {
      await client.query(
        `INSERT INTO callers (number, name) VALUES ($1, $2)
         ON CONFLICT (number) DO UPDATE SET name = COALESCE(EXCLUDED.name, callers.name), updated_at = now()`,
        [caller.number, caller.name ?? null],
      );
    }
    await client.query(UPSERT_CALL, [
      call.callId, call.workflowId, call.channel, call.direction, call.from, call.to, call.status, call.disposition,
      call.startedAt, call.answeredAt, call.droppedAt, call.resumeDeadline, call.endedAt, call.turnCount, call.dropCount,
      call.resumeCount, call.context, call.metadata, call.provider, call.legs, call.version,
    ]);
    await client.query(
      `INSERT INTO call_events (call_id, seq, idempotency_key, type, applied, occurred_at, payload)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
      [call.callId, event.seq, event.key, event.type, event.applied, event.occurredAt, event.payload],
    );
    for (const t of turns) {
      await client.query(
        'INSERT INTO turns (call_id, seq, role, text, at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING',
        [call.callId, t.seq, t.role, t.text, t.at],
      );
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

export async function selectCall(pool: pg.Pool, callId: string): Promise<CallView | null> {
  const { rows } = await pool.query('SELECT * FROM calls WHERE call_id = $1', [callId]);
  return rows[0] ? rowToView(rows[0]) : null;
}

/** Turns after `afterSeq`, oldest first. */
export async function selectTurns(pool: pg.Pool, callId: string, afterSeq: number, limit: number): Promise<Turn[]> {
  const { rows } = await pool.query(
    'SELECT seq, role, text, at FROM turns WHERE call_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
    [callId, afterSeq, limit],
  );
  return rows.map((r) => ({ seq: r.seq, role: r.role, text: r.text, at: r.at.toISOString() }));
}

/** The newest `limit` turns, oldest first: what the cache holds. */
export async function selectRecentTurns(pool: pg.Pool, callId: string, limit: number): Promise<Turn[]> {
  const { rows } = await pool.query(
    'SELECT seq, role, text, at FROM turns WHERE call_id = $1 ORDER BY seq DESC LIMIT $2',
    [callId, limit],
  );
  return rows.reverse().map((r) => ({ seq: r.seq, role: r.role, text: r.text, at: r.at.toISOString() }));
}

/** The newest dropped call from this number whose resume window is still open. */
export async function selectDroppedCallFrom(pool: pg.Pool, number: string): Promise<string | null> {
  const { rows } = await pool.query(
    `SELECT call_id FROM calls WHERE from_number = $1 AND status = 'dropped' AND resume_deadline > now()
     ORDER BY dropped_at DESC LIMIT 1`,
    [number],
  );
  return rows[0]?.call_id ?? null;
}
