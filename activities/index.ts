// Activities are built from their dependencies so the worker owns every connection.
import { Context } from '@temporalio/activity';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { RecordBatch } from '../workflows/types.js';
import { postReport, type ReportInput } from './report.js';
import type { Responder, ResponderInput } from './responder/types.js';
import { cacheEvent, RECENT_TURNS, refill } from '../store/call-cache.js';
import { readCall, readRecentTurns } from '../store/call-reader.js';
import { selectRecentTurns } from '../store/calls-table.js';
import { purgeEnded } from '../store/retention.js';
import { writeOrSalvage, type Rejection } from '../store/salvage.js';
import { twilioCalls, type TwilioCallSettings } from './telephony/twilio-calls.js';
import { twilioLive } from './telephony/twilio-live.js';
import { twilioForCall } from './telephony/twilio-account.js';
import type { CredentialCipher } from '../store/credentials.js';
import { EVERY_ACCOUNT } from '../store/scope.js';

/** How much of the transcript a model responder sees. */
const HISTORY_TURNS = 20;

export interface ActivityDeps {
  pool: pg.Pool;
  redis: Redis;
  responder: Responder;
  /** Places outbound calls; absent when TWILIO_ACCOUNT_SID is not set (a dial then ends its call `failed`). */
  twilio?: TwilioCallSettings;
  /** WEBHOOK_SECRET: signs end-of-call reports (without it a report fails at once). */
  webhookSecret?: string;
  /** Opens accounts' provider credentials (CREDENTIALS_KEY): an account's calls use its own Twilio account. */
  credentials?: CredentialCipher;
}

export function createActivities({ pool, redis, responder, twilio, webhookSecret, credentials }: ActivityDeps) {
  const twilioFor = twilioForCall(pool, credentials, twilio);
  /**
   * Writes a batch to PostgreSQL in one transaction, then mirrors it to Redis. Transient errors propagate
   * so Temporal retries; events PostgreSQL refuses for their data are stored as rejected and returned
   * (the result shows in the local activity's marker in the Temporal UI), and the call goes on.
   */
  async function recordEvents(batch: RecordBatch): Promise<{ rejected: Rejection[] } | void> {
    const rejected = await writeOrSalvage(pool, batch);
    const { call, events } = batch;
    const turns = rejected.length ? batch.turns.filter((t) => !rejected.some((r) => r.turn === t.seq)) : batch.turns;
    // Published only now, after PostgreSQL committed: a stream that hears of the batch can read it back.
    const { cachedBefore } = await cacheEvent(redis, call, turns, { started: events[0]?.type === 'started', publish: true });
    // After a flush the cache lacks the older turns: refill them (readers skip a cache with a gap meanwhile).
    if (turns.length > 0 && call.turnCount > turns.length && cachedBefore === 0) {
      await refill(redis, call, await selectRecentTurns(pool, call.callId, RECENT_TURNS));
    }
    if (rejected.length === 0) return;
    const { log, metricMeter } = Context.current();
    for (const r of rejected) log.warn('event rejected by PostgreSQL; stored as event_rejected', { callId: call.callId, ...r });
    metricMeter
      .createCounter('callwright_events_rejected', 'events', 'Events PostgreSQL refused, stored as event_rejected')
      .add(rejected.length);
    return { rejected };
  }

  return {
    /** Every event the loop applied since its last write: run as a local activity. */
    recordEvents,

    /** Retention: one batch of ended calls past the cut-off, deleted with their rows and cache. */
    async purgeEndedCalls({ endedBefore, batch }: { endedBefore: string; batch: number }) {
      return purgeEnded(pool, redis, endedBefore, batch);
    },

    /** POSTs the end-of-call report once; non-2xx and network errors throw, so Temporal retries. */
    async sendReport(input: ReportInput) {
      return postReport(pool, webhookSecret, input);
    },

    /** Asks the configured responder for the reply to the user's latest turn; `stream` gets its tokens as they come. */
    async respond(input: Omit<ResponderInput, 'history'>) {
      const call = await readCall({ pool, redis }, EVERY_ACCOUNT, input.callId);
      const history = call ? await readRecentTurns({ pool, redis }, call, HISTORY_TURNS) : [];
      if (!input.stream) return responder({ ...input, history });
      const channel = input.stream;
      const published: Promise<unknown>[] = [];
      // Tokens are a head start only: the whole reply still comes back in the update, so a lost one costs nothing.
      const reply = await responder({ ...input, history }, (token) => published.push(redis.publish(channel, token).catch(() => 0)));
      await Promise.all(published);
      return reply;
    },

    ...twilioCalls({ pool, redis, twilioFor }),
    ...twilioLive(twilioFor),
  };
}

export type CallActivities = ReturnType<typeof createActivities>;
