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
  // Redis may have been flushed: PostgreSQL still knows a call that took this leg.
  const owner = await stores.pool.query<{ call_id: string }>(
    'SELECT call_id FROM calls WHERE from_number = $1 AND $2 = ANY(legs) AND call_id <> $2 LIMIT 1',
    [cb.from, cb.sid],
  );
  if (owner.rows[0]) return owner.rows[0].call_id;
  if (!mayJoin(cb)) return cb.sid;
  const dropped = await readDroppedCallFrom(stores, cb.from);
  if (!dropped || dropped === cb.sid || (await readCall(stores, cb.sid))) return cb.sid;
  return dropped;
}

/** The call a provider leg id belongs to (its own id when it is a first leg or unknown). */
export async function resolveLeg(stores: Stores, sid: string): Promise<string> {
  const known = await stores.redis.get(legKey(sid));
  if (known) return known;
  const owner = await stores.pool.query<{ call_id: string }>('SELECT call_id FROM calls WHERE legs @> ARRAY[$1]::text[] LIMIT 1', [sid]);
  return owner.rows[0]?.call_id ?? sid;
}
