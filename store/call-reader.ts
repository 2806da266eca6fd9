// Reads for the API and the responder: Redis first, PostgreSQL behind it, refilling what was missing.
// Redis is only a cache: while it is down, every read is answered by PostgreSQL.
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { CallView, Turn } from '../workflows/types.js';
import { cachedCall, cachedDroppedCallFrom, cachedTurns, RECENT_TURNS, refill } from './call-cache.js';
import { selectCall, selectDroppedCallFrom, selectRecentTurns, selectTurns } from './calls-table.js';
import { reaches, type Scope } from './scope.js';

export interface Stores {
  pool: pg.Pool;
  redis: Redis;
}

/** The call if it is inside the scope; another account's call reads as absent. */
export async function readCall({ pool, redis }: Stores, scope: Scope, callId: string): Promise<CallView | null> {
  const cached = await cachedCall(redis, callId).catch(() => null);
  if (cached) return reaches(scope, cached.accountId) ? cached : null;
  const call = await selectCall(pool, scope, callId);
  if (call) await refill(redis, call, await selectRecentTurns(pool, callId, RECENT_TURNS)).catch(() => undefined);
  return call;
}

/** The newest turns (at most 50), oldest first. */
export async function readRecentTurns(stores: Stores, call: CallView, limit = RECENT_TURNS): Promise<Turn[]> {
  if (call.turnCount === 0) return [];
  const cached = await cachedTurns(stores.redis, call.callId).catch(() => null);
  if (cached && holdsRecent(cached, call.turnCount)) return cached.slice(-limit);
  const recent = await selectRecentTurns(stores.pool, call.callId, RECENT_TURNS);
  await refill(stores.redis, call, recent).catch(() => undefined);
  return recent.slice(-limit);
}

/** A page of the transcript after `afterSeq`: from the cache when it holds the whole page. */
export async function readTurns(stores: Stores, call: CallView, afterSeq: number, limit: number): Promise<Turn[]> {
  const recent = await readRecentTurns(stores, call);
  const page = recent.filter((t) => t.seq > afterSeq).slice(0, limit);
  const firstCached = recent[0]?.seq ?? call.turnCount + 1;
  if (afterSeq + 1 >= firstCached || call.turnCount <= afterSeq) return page;
  return selectTurns(stores.pool, call.callId, afterSeq, limit);
}

/** The account's call that a redial from `number` resumes, if one is inside its window. */
export async function readDroppedCallFrom({ pool, redis }: Stores, accountId: string, number: string): Promise<string | null> {
  return (
    (await cachedDroppedCallFrom(redis, accountId, number).catch(() => null)) ?? (await selectDroppedCallFrom(pool, accountId, number))
  );
}

/** The cache is complete when it holds the last min(turnCount, 50) turns without a gap. */
function holdsRecent(turns: Turn[], turnCount: number): boolean {
  const want = Math.min(turnCount, RECENT_TURNS);
  return turns.length >= want && turns[turns.length - 1]?.seq === turnCount && turns[turns.length - want]?.seq === turnCount - want + 1;
}
