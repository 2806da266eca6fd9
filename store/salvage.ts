// A write PostgreSQL refuses for its data (an impossible time, a NUL byte) fails the same way on every
// retry; retried forever it would stop every later event of the call. Such a batch is written event by
// event instead, and each event that is refused is stored as `event_rejected` in its place, with why.
import type pg from 'pg';
import type { EventRecord, RecordBatch, Turn } from '../workflows/types.js';
import { writeBatch } from './calls-table.js';

export interface Rejection {
  seq: number;
  key: string;
  type: string;
  reason: string;
  /** The turn the event would have added (absent from the transcript and the cache). */
  turn?: number;
}

/** SQLSTATE classes no retry can fix: 22 data exception, 23 integrity constraint violation. */
export function isPermanentWriteError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code);
}

const TURN_EVENTS = new Set(['turn', 'message', 'reply']);

/** The turn each event added: applied turn, message and reply events add one each, in order. */
function turnsByEvent(batch: RecordBatch): Map<number, Turn> {
  const byEvent = new Map<number, Turn>();
  let next = 0;
  for (const e of batch.events) if (e.applied && TURN_EVENTS.has(e.type) && batch.turns[next]) byEvent.set(e.seq, batch.turns[next++]!);
  return byEvent;
}

/**
 * Writes the batch; when PostgreSQL refuses its data, writes it one event at a time and stores each
 * refused event as `event_rejected` (same seq and key, so a retry doubles nothing). Answers what was
 * rejected. A refusal of the call row itself still throws: no event could be stored for it.
 */
export async function writeOrSalvage(pool: pg.Pool, batch: RecordBatch, now = () => new Date().toISOString()): Promise<Rejection[]> {
  try {
    await writeBatch(pool, batch);
    return [];
  } catch (err) {
    if (!isPermanentWriteError(err)) throw err;
  }
  const turns = turnsByEvent(batch);
  const rejected: Rejection[] = [];
  for (const event of batch.events) {
    const turn = turns.get(event.seq);
    try {
      await writeBatch(pool, { ...batch, events: [event], turns: turn ? [turn] : [] });
    } catch (err) {
      if (!isPermanentWriteError(err)) throw err;
      const reason = `${(err as { code?: string }).code}: ${(err as Error).message}`.slice(0, 500);
      const replacement: EventRecord = {
        seq: event.seq,
        key: event.key,
        type: 'event_rejected',
        applied: false,
        occurredAt: now(),
        payload: { type: event.type, reason },
      };
      await writeBatch(pool, { ...batch, events: [replacement], turns: [] });
      rejected.push({ seq: event.seq, key: event.key, type: event.type, reason, ...(turn ? { turn: turn.seq } : {}) });
    }
  }
  return rejected;
}
