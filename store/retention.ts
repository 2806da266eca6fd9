// Deletes ended calls past retention with their events and turns, and drops their Redis keys.
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { keys } from './call-cache.js';

// One statement: pick a batch of ended calls (never an open one), delete their rows child-first.
const PURGE = `
  WITH doomed AS (
    SELECT call_id, legs FROM calls WHERE status = 'ended' AND ended_at < $1 ORDER BY ended_at LIMIT $2 FOR UPDATE SKIP LOCKED
  ), turns_gone AS (
    DELETE FROM turns t USING doomed d WHERE t.call_id = d.call_id RETURNING 1
  ), events_gone AS (
    DELETE FROM call_events e USING doomed d WHERE e.call_id = d.call_id RETURNING 1
  ), calls_gone AS (
    DELETE FROM calls c USING doomed d WHERE c.call_id = d.call_id RETURNING c.call_id, d.legs
  )
  SELECT (SELECT json_agg(json_build_object('callId', call_id, 'legs', legs)) FROM calls_gone) AS calls,
         (SELECT count(*) FROM events_gone)::int AS events, (SELECT count(*) FROM turns_gone)::int AS turns`;

export async function purgeEnded(
  pool: pg.Pool,
  redis: Redis,
  endedBefore: string,
  batch: number,
): Promise<{ calls: number; events: number; turns: number }> {
  const {
    rows: [r],
  } = await pool.query(PURGE, [endedBefore, batch]);
  const gone = (r.calls ?? []) as { callId: string; legs: string[] }[];
  if (gone.length) {
    // A leg key may point at another call by now; leftovers expire with their TTL anyway.
    await redis.del(...gone.flatMap((c) => [keys.call(c.callId), keys.turns(c.callId), keys.leg(c.callId), ...c.legs.map(keys.leg)]));
  }
  return { calls: gone.length, events: r.events, turns: r.turns };
}
