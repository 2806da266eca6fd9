// Hosted voice, provider-neutral: a provider's request becomes one hosted update of the call, answered
// within the provider's patience. A request the workflow has not answered in time is held: the provider
// hears a holding line and asks again, and the same update's answer is waited for (nothing applies twice).
import type { Redis } from 'ioredis';
import type { Stores } from '../../store/call-reader.js';
import { hostedKey, type HostedInput, type HostedReply } from '../../workflows/messages.js';
import type { CallGateway } from '../call-gateway.js';
import { accountOfNumber, LineRefused, prepareStart, takeLineOrRefuse } from '../call-start.js';
import { ApiError } from '../errors.js';
import { callOfLeg, ownLeg } from '../providers/leg-map.js';
import { startOf, type StatusCallback } from '../providers/lifecycle.js';

/** Providers hang up on a webhook that takes too long (Twilio waits 15 s): every answer comes within 5 s. */
export const HOLD_AFTER_MS = 4_000;
/** Holds in a row before the caller is told to call back (the call then drops and may resume). */
export const MAX_HOLDS = 8;
/** The least a request waits for its call before holding, however long finding the call took. */
const MIN_WAIT_MS = 500;
/** What a caller hears when the account's lines are all in use. */
export const BUSY_WORDS = 'All our lines are busy right now. Please call again later.';
const HELD_TTL_SECONDS = 15 * 60;
const FINAL_TTL_SECONDS = 60 * 60;

const heldKey = (key: string) => `voice:held:${key}`;
const finalKey = (key: string) => `voice:final:${key}`;

export interface VoiceLeg {
  provider: string;
  /** The provider's id of this leg (Twilio CallSid, Vonage uuid). */
  sid: string;
  from: string;
  to: string | null;
  direction: 'inbound' | 'outbound';
  /** The call Callwright placed this leg for (named in the URL it gave the provider). */
  placedFor?: string;
}

/** Either the workflow's answer, or null: not in time, hold. `callId` is the call the leg belongs to. */
export interface Heard {
  callId: string;
  reply: HostedReply | null;
}

export class VoiceConversation {
  constructor(
    private readonly gateway: CallGateway,
    private readonly stores: Stores,
    private readonly holdAfterMs = HOLD_AFTER_MS,
    private readonly countRefusal: (err: unknown) => void = () => undefined,
  ) {}

  /** What a caller whose call may not start hears: all lines busy, or (a suspended account) a plain rejection; null for other errors. */
  refusal(err: unknown): 'busy' | 'rejected' | null {
    if (err instanceof LineRefused) {
      this.countRefusal(err);
      return 'busy';
    }
    return err instanceof ApiError && err.code === 'account_suspended' ? 'rejected' : null;
  }

  /**
   * A leg answered (or redialed): starts its call, or resumes the dropped call of the same caller (callback
   * matching, as for status callbacks), and answers the greeting.
   */
  async answer(leg: VoiceLeg): Promise<Heard> {
    // The wait for the workflow is what is left of the budget after finding the call, its account and agent.
    const started = Date.now();
    const left = () => Math.max(MIN_WAIT_MS, this.holdAfterMs - (Date.now() - started));
    const cb: StatusCallback = { ...leg, status: 'answered', phase: 'answered' };
    const callId = await callOfLeg(this.stores, cb);
    const input: HostedInput = { kind: 'answer', provider: leg.provider, leg: leg.sid };
    if (callId !== leg.sid) {
      // A redial resumes its call: that takes a line again (the call Callwright placed a leg for holds one).
      if (!leg.placedFor) {
        const account = await accountOfNumber(this.stores.pool, leg.direction === 'inbound' ? leg.to : leg.from);
        await takeLineOrRefuse(this.stores.pool, account, callId);
      }
      try {
        return { callId, reply: await this.gateway.hosted(callId, input, left()) };
      } catch (err) {
        // The call it redialed closed first (its window passed): the leg is a call of its own.
        if (!(err instanceof ApiError) || !['call_ended', 'resume_window_expired', 'not_found'].includes(err.code) || leg.placedFor)
          throw err;
        await ownLeg(this.stores, leg.sid);
      }
    }
    const { start, config } = await prepareStart(this.stores, startOf({ ...cb, placedFor: undefined }));
    return { callId: leg.sid, reply: await this.gateway.hosted(leg.sid, input, left(), { start, config }) };
  }

  /** A turn of a call; null when held. A held input is kept, so the provider's next request can wait for it. */
  async hear(callId: string, input: HostedInput): Promise<HostedReply | null> {
    const reply = await this.gateway.hosted(callId, input, this.holdAfterMs);
    if (!reply) await this.redis.set(heldKey(hostedKey(input)), JSON.stringify(input), 'EX', HELD_TTL_SECONDS);
    return reply;
  }

  /** The input of a held request, for the provider's follow-up request that carries only its key. */
  async held(key: string): Promise<HostedInput | null> {
    const kept = await this.redis.get(heldKey(key));
    return kept ? (JSON.parse(kept) as HostedInput) : null;
  }

  /** The last words of a call, kept so a retried request is answered the same once the call has closed. */
  async keepFinal(key: string, rendered: string): Promise<void> {
    await this.redis.set(finalKey(key), rendered, 'EX', FINAL_TTL_SECONDS).catch(() => undefined);
  }

  async final(key: string): Promise<string | null> {
    return this.redis.get(finalKey(key)).catch(() => null);
  }

  private get redis(): Redis {
    return this.stores.redis;
  }
}
