// Which call a Twilio leg belongs to: decided by its first callback, remembered in Redis for a day.
import { readCall, readDroppedCallFrom, type Stores } from '../../activities/store/call-reader.js';
import { mayJoin, type StatusCallback } from './twilio-events.js';

const TTL_SECONDS = 24 * 3600;
export const legKey = (sid: string) => `leg:${sid}`;

/** The call that owns this leg: the leg's own call, or a dropped call it called back. */
export async function callOfLeg(stores: Stores, cb: StatusCallback): Promise<string> {
  const known = await stores.redis.get(legKey(cb.sid));
  if (known) return known;
  const decided = await decide(stores, cb);
  // Written before any signal; when first callbacks race, the first writer decides for all of them.
  if (await stores.redis.set(legKey(cb.sid), decided, 'EX', TTL_SECONDS, 'NX')) return decided;
  return (await stores.redis.get(legKey(cb.sid))) ?? decided;
}

/** The leg turned out to be a call of its own (the call it joined closed first). */
export async function ownLeg(stores: Stores, sid: string): Promise<void> {
  await stores.redis.set(legKey(sid), sid, 'EX', TTL_SECONDS);
}

async function decide(stores: Stores, cb: StatusCallback): Promise<string> {
  if (cb.direction !== 'inbound') return cb.sid;
  const owner = await joinedCallInStore(stores, cb.sid);
  if (owner) return owner;
  if (!mayJoin(cb)) return cb.sid;
  const dropped = await readDroppedCallFrom(stores, cb.from);
  if (!dropped || dropped === cb.sid || (await readCall(stores, cb.sid))) return cb.sid;
  return dropped;
}

/** The call a provider leg id belongs to (its own id when it is a first leg or unknown). */
export async function resolveLeg(stores: Stores, sid: string): Promise<string> {
  return (await stores.redis.get(legKey(sid))) ?? (await joinedCallInStore(stores, sid)) ?? sid;
}

/** Redis may have been flushed: PostgreSQL still knows another call that took this leg (GIN index on legs). */
async function joinedCallInStore(stores: Stores, sid: string): Promise<string | null> {
  const { rows } = await stores.pool.query<{ call_id: string }>(
    'SELECT call_id FROM calls WHERE legs @> ARRAY[$1]::text[] AND call_id <> $1 LIMIT 1',
    [sid],
  );
  return rows[0]?.call_id ?? null;
}
