// Provider status callbacks as call events: the lifecycle rules every provider keeps, pure, so the
// mapping is read (and tested) in one place. Each adapter only says what its statuses mean.
import type { CallEvent, Direction, Disposition, StartCall } from '../../workflows/types.js';
import { storableTime } from '../schemas.js';

/** What a provider's status means for the call; the failures are the dispositions they end it with. */
export type Phase = 'ringing' | 'answered' | 'hangup' | Extract<Disposition, 'busy' | 'failed' | 'no_answer' | 'canceled'>;

/** One provider callback about one leg, in the provider's words and in the lifecycle's. */
export interface StatusCallback {
  /** Names the provider in the call and in idempotency keys: `<provider>:<sid>:<status>`. */
  provider: string;
  /** The leg's provider id (Twilio and Exotel CallSid, Vonage uuid). */
  sid: string;
  /** The provider's own word for the status: part of the idempotency key. */
  status: string;
  phase: Phase;
  from: string;
  to: string | null;
  direction: Direction;
  /** Orders the callbacks of one leg, higher is later; absent when the provider gave nothing to order by. */
  order?: number;
  at?: string;
  /**
   * The call Callwright placed this leg for, named in the (signed) callback URL it gave the provider: the
   * first callback may arrive before the placing activity has mapped the leg.
   */
  placedFor?: string;
}

/**
 * The order of a callback from a provider without sequence numbers: its time, then the status's rank in
 * the lifecycle, so two statuses stamped in the same second (or millisecond) still apply in lifecycle order.
 */
export function timeOrder(at: Date | undefined, rank: number): number | undefined {
  return at && !Number.isNaN(at.getTime()) ? at.getTime() * 10 + rank : undefined;
}

/** A provider's time as the audit stores it; an unparsable or unstorable one is dropped, not fatal. */
export function auditTime(at: Date | undefined): string | undefined {
  return at && !Number.isNaN(at.getTime()) && storableTime(at.toISOString()) ? at.toISOString() : undefined;
}

/** A call started by a provider takes its first leg's id as its id, and rings until answered. */
export function startOf(cb: StatusCallback): StartCall {
  return {
    callId: cb.sid,
    channel: 'voice',
    direction: cb.direction,
    from: cb.from,
    to: cb.to,
    provider: cb.provider,
    answered: false,
    metadata: {},
    key: `${cb.provider}:${cb.sid}:start`,
  };
}

/**
 * The event for a leg that is its call's first leg (any callback may be the first to arrive), or the
 * leg Callwright placed for an outbound call.
 */
export function firstLegEvent(cb: StatusCallback): CallEvent {
  const base = common(cb);
  switch (cb.phase) {
    case 'ringing':
      // Starting the call is the news; the leg is already in `legs`, so this changes nothing else.
      return { ...base, type: 'leg', leg: cb.sid };
    case 'answered':
      return { ...base, type: 'answered' };
    case 'hangup':
      // A provider hangup while the conversation is open is a drop; `answered` covers a late answer.
      return { ...base, type: 'drop', reason: 'hangup', answered: true };
    default:
      return { ...base, type: 'end', disposition: cb.phase };
  }
}

/** Whether this callback may be a caller calling back: the call is new, inbound and not over. */
export function mayJoin(cb: StatusCallback): boolean {
  return cb.direction === 'inbound' && (cb.phase === 'ringing' || cb.phase === 'answered');
}

/** The event for a leg that joined an earlier dropped call (callback matching). */
export function joinedLegEvent(cb: StatusCallback): CallEvent {
  const base = common(cb);
  switch (cb.phase) {
    case 'ringing':
    case 'answered':
      // One key for every early callback of the leg: the call resumes once.
      return { ...base, key: `${cb.provider}:${cb.sid}:resume`, type: 'resume', leg: cb.sid };
    case 'hangup':
      return { ...base, type: 'drop', reason: 'hangup', answered: true };
    default:
      // The call back never connected: the caller is gone again, so the call returns to dropped.
      return { ...base, type: 'drop', reason: `callback ${cb.status}` };
  }
}

function common(cb: StatusCallback) {
  return {
    key: `${cb.provider}:${cb.sid}:${cb.status}`,
    at: cb.at,
    order: cb.order === undefined ? undefined : { leg: cb.sid, n: cb.order },
  };
}
