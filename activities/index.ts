// Activities are built from their dependencies so the worker owns every connection.
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Turn } from '../workflows/types.js';
import type { Responder } from './responder/types.js';
import { cacheEvent, keys, RECENT_TURNS } from './store/call-cache.js';
import { readCall, readRecentTurns } from './store/call-reader.js';
import { selectRecentTurns, writeEvent, type RecordInput } from './store/calls-table.js';

/** How much of the transcript a model responder sees. */
const HISTORY_TURNS = 20;

export interface ActivityDeps {
  pool: pg.Pool;
  redis: Redis;
  responder: Responder;
}

export function createActivities({ pool, redis, responder }: ActivityDeps) {
  return {
    /** Writes one event to PostgreSQL, then mirrors it to Redis. Errors propagate so Temporal retries. */
    async recordEvent(input: RecordInput): Promise<void> {
      await writeEvent(pool, input);
      let turns: Turn[] = input.turns;
      // After a flush the cache lacks the older turns: refill them rather than cache a gap (checked only when a turn is added).
      if (turns.length > 0 && input.call.turnCount > turns.length && (await redis.zcard(keys.turns(input.call.callId))) === 0) {
        turns = await selectRecentTurns(pool, input.call.callId, RECENT_TURNS);
      }
      await cacheEvent(redis, input.call, turns);
    },

    /** Asks the configured responder for the reply to the user's latest turn. */
    async respond(input: { callId: string; text: string; context: Record<string, unknown> }) {
      const call = await readCall({ pool, redis }, input.callId);
      const history = call ? await readRecentTurns({ pool, redis }, call, HISTORY_TURNS) : [];
      return responder({ ...input, history });
    },
  };
}

export type CallActivities = ReturnType<typeof createActivities>;
