// Activities are built from their dependencies so the worker owns every connection.
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { RecordBatch } from '../workflows/types.js';
import type { Responder } from './responder/types.js';
import { cacheEvent, RECENT_TURNS, refill } from './store/call-cache.js';
import { readCall, readRecentTurns } from './store/call-reader.js';
import { selectRecentTurns, writeBatch, type RecordInput } from './store/calls-table.js';

/** How much of the transcript a model responder sees. */
const HISTORY_TURNS = 20;

export interface ActivityDeps {
  pool: pg.Pool;
  redis: Redis;
  responder: Responder;
}

export function createActivities({ pool, redis, responder }: ActivityDeps) {
  /** Writes a batch to PostgreSQL in one transaction, then mirrors it to Redis. Errors propagate so Temporal retries. */
  async function recordEvents(batch: RecordBatch): Promise<void> {
    await writeBatch(pool, batch);
    const { call, turns, events } = batch;
    const { cachedBefore } = await cacheEvent(redis, call, turns, events[0]?.type === 'started');
    // After a flush the cache lacks the older turns: refill them (readers skip a cache with a gap meanwhile).
    if (turns.length > 0 && call.turnCount > turns.length && cachedBefore === 0) {
      await refill(redis, call, await selectRecentTurns(pool, call.callId, RECENT_TURNS));
    }
  }

  return {
    /** Every event the loop applied since its last write: run as a local activity. */
    recordEvents,

    /** One event, as calls recorded before batching schedule it (a regular activity). */
    async recordEvent({ call, event, turns, caller }: RecordInput): Promise<void> {
      await recordEvents({ call, events: [event], turns, caller });
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
