// Redis as the hot cache: the call's view, its last turns, and who may call back. Losing it loses nothing.
import type { Redis } from 'ioredis';
import { withDuration } from '../workflows/call-duration.js';
import { partyNumber } from '../workflows/party.js';
import { DEFAULT_ACCOUNT, type CallView, type Turn } from '../workflows/types.js';

export const RECENT_TURNS = 50;
const TTL_SECONDS = 7 * 24 * 3600;
/** Provider legs are looked up while their callbacks arrive: a day covers them; a miss asks PostgreSQL. */
export const LEG_TTL_SECONDS = 24 * 3600;

export const keys = {
  call: (callId: string) => `call:${callId}`,
  turns: (callId: string) => `call:${callId}:turns`,
  /** Who may call back, per account: the same number may be a caller of two accounts. */
  dropped: (accountId: string, number: string) => `dropped:${accountId}:${number}`,
  /** Which call a provider leg id belongs to. */
  leg: (legId: string) => `leg:${legId}`,
};

/** The pub/sub channel of a call's recorded batches: API processes fan them out to the call's streams. */
export const liveChannel = (callId: string) => `live:call:${callId}`;

/** What each recorded batch publishes on the call's channel: its latest view and the turns it added. */
export interface LiveBatch {
  call: CallView;
  turns: Turn[];
}

// Writes the view only if it is not older than the cached one (a retried activity may arrive late).
const SET_VIEW = `
local cur = redis.call('HGET', KEYS[1], 'version')
if cur and tonumber(cur) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'view', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1`;
// Deletes the callback index entry only if it still points at this call.
const DEL_IF = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * Mirrors recorded events into Redis. Every command is idempotent, so retries double nothing. A call that
 * starts owns its own id as a leg (unless a callback already joined that leg elsewhere): webhooks that
 * address it then find it without asking PostgreSQL. Answers how many turns the cache held before these,
 * in the same round trip, so the caller can tell a flushed cache from a warm one. `publish` announces the
 * batch to live streams in the same transaction, so a stream that hears of it finds the cache updated;
 * a retried batch is published again, and streams drop what they already sent.
 */
export async function cacheEvent(
  redis: Redis,
  call: CallView,
  turns: Turn[],
  { started = false, publish = false }: { started?: boolean; publish?: boolean } = {},
): Promise<{ cachedBefore: number }> {
  // Serialized once: the cache and the live message carry the same bytes.
  const view = JSON.stringify(call);
  const entries = turns.map((t) => JSON.stringify(t));
  // The count comes first, so its result is always the first (`length` would also count the MULTI).
  const m = redis.multi().zcard(keys.turns(call.callId));
  if (started) m.set(keys.leg(call.callId), call.callId, 'EX', LEG_TTL_SECONDS, 'NX');
  m.eval(SET_VIEW, 1, keys.call(call.callId), call.version, view, TTL_SECONDS);
  if (turns.length) {
    // One entry per seq: a local activity redone after a worker crash carries the same turns with a later
    // `at`. A batch's turns have consecutive seqs, so one range clears them.
    m.zremrangebyscore(keys.turns(call.callId), turns[0].seq, turns.at(-1)!.seq);
    m.zadd(keys.turns(call.callId), ...turns.flatMap((t, i) => [String(t.seq), entries[i]!]));
    m.zremrangebyrank(keys.turns(call.callId), 0, -RECENT_TURNS - 1);
    m.expire(keys.turns(call.callId), TTL_SECONDS);
  }
  if (call.status === 'dropped' && call.resumeDeadline) {
    m.set(keys.dropped(call.accountId ?? DEFAULT_ACCOUNT, partyNumber(call)), call.callId, 'PXAT', Date.parse(call.resumeDeadline));
  } else {
    m.eval(DEL_IF, 1, keys.dropped(call.accountId ?? DEFAULT_ACCOUNT, partyNumber(call)), call.callId);
  }
  // The bytes of JSON.stringify({ call, turns } satisfies LiveBatch), without serializing either again.
  if (publish) m.publish(liveChannel(call.callId), `{"call":${view},"turns":[${entries.join(',')}]}`);
  const results = await execOrThrow(m);
  return { cachedBefore: Number(results[0][1]) };
}

/** Refills the cache from PostgreSQL rows after a flush or eviction; nothing new happened, so nothing is published. */
export async function refill(redis: Redis, call: CallView, recent: Turn[]): Promise<void> {
  await cacheEvent(redis, call, recent);
}

export async function cachedCall(redis: Redis, callId: string): Promise<CallView | null> {
  const view = await redis.hget(keys.call(callId), 'view');
  if (!view) return null;
  // Views cached before calls had agents, durations or accounts lack those fields.
  const call = JSON.parse(view) as CallView;
  return withDuration({ ...call, accountId: call.accountId ?? DEFAULT_ACCOUNT, agent: call.agent ?? null });
}

/** The cached recent turns, oldest first; null when the cache does not hold them. */
export async function cachedTurns(redis: Redis, callId: string): Promise<Turn[] | null> {
  const raw = await redis.zrange(keys.turns(callId), '0', '-1');
  return raw.length ? raw.map((t) => JSON.parse(t) as Turn) : null;
}

export async function cachedDroppedCallFrom(redis: Redis, accountId: string, number: string): Promise<string | null> {
  return redis.get(keys.dropped(accountId, number));
}

async function execOrThrow(m: ReturnType<Redis['multi']>): Promise<[Error | null, unknown][]> {
  const results = await m.exec();
  if (!results) throw new Error('redis transaction aborted');
  for (const [err] of results) if (err) throw err;
  return results;
}
