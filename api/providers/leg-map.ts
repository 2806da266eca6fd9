// Which call a provider leg belongs to: decided by its first callback, remembered in Redis for a day.
import { keys, LEG_TTL_SECONDS } from '../../store/call-cache.js';
import { readCall, readDroppedCallFrom, type Stores } from '../../store/call-reader.js';
import { EVERY_ACCOUNT } from '../../store/scope.js';
import { accountOfNumber } from '../call-start.js';
import { mayJoin, type StatusCallback } from './lifecycle.js';

/**
 * The call that owns this leg: the leg's own call, a dropped call it called back, or the call Callwright
 * placed it for (that call's activity wrote `leg:<sid>` and `legs`).
 */
export async function callOfLeg(stores: Stores, cb: StatusCallback): Promise<string> {
  const known = await stores.redis.get(keys.leg(cb.sid));
  if (known) return known;
  const decided = cb.placedFor ?? (await decide(stores, cb));
  // Written before any signal; when first callbacks race, the first writer decides for all of them.
  if (await stores.redis.set(keys.leg(cb.sid), decided, 'EX', LEG_TTL_SECONDS, 'NX')) return decided;
  return (await stores.redis.get(keys.leg(cb.sid))) ?? decided;
}

/**
 * The leg is a call of its own: `replace` when the call it joined closed first; otherwise only
 * remembered where nothing else decided meanwhile.
 */
export async function ownLeg(stores: Stores, sid: string, replace = true): Promise<void> {
  if (replace) await stores.redis.set(keys.leg(sid), sid, 'EX', LEG_TTL_SECONDS);
  else await stores.redis.set(keys.leg(sid), sid, 'EX', LEG_TTL_SECONDS, 'NX');
}

async function decide(stores: Stores, cb: StatusCallback): Promise<string> {
  const owner = await ownerInStore(stores, cb.sid);
  if (owner) return owner;
  if (!mayJoin(cb)) return cb.sid;
  // A redial resumes only a call of the account that owns the number called.
  const dropped = await readDroppedCallFrom(stores, await accountOfNumber(stores.pool, cb.to), cb.from);
  if (!dropped || dropped === cb.sid || (await readCall(stores, EVERY_ACCOUNT, cb.sid))) return cb.sid;
  return dropped;
}

/**
 * The call a provider leg id belongs to (its own id when it is a first leg or unknown). `known` says
 * Redis holds the answer; an unknown leg is remembered as its own call once a signal to it succeeds.
 */
export async function resolveLeg(stores: Stores, sid: string): Promise<{ callId: string; known: boolean }> {
  // Redis is a cache: while it is down, PostgreSQL answers and nothing is cached.
  const cached = await stores.redis.get(keys.leg(sid)).catch(() => undefined);
  if (cached) return { callId: cached, known: true };
  const joined = await ownerInStore(stores, sid);
  // Remember the leg as its own call only when Redis answered and did not know it.
  if (!joined) return { callId: sid, known: cached !== null };
  await stores.redis.set(keys.leg(sid), joined, 'EX', LEG_TTL_SECONDS, 'NX').catch(() => undefined);
  return { callId: joined, known: true };
}

/** Redis may have been flushed: PostgreSQL still knows another call that took or placed this leg (GIN index on legs). */
async function ownerInStore(stores: Stores, sid: string): Promise<string | null> {
  const { rows } = await stores.pool.query<{ call_id: string }>(
    'SELECT call_id FROM calls WHERE legs @> ARRAY[$1]::text[] AND call_id <> $1 LIMIT 1',
    [sid],
  );
  return rows[0]?.call_id ?? null;
}
