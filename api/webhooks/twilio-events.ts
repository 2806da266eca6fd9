// Twilio status callbacks as call events: pure, so the mapping is read (and tested) in one place.
import type { CallEvent, Direction, Disposition, StartCall } from '../../workflows/types.js';
import { storableTime } from '../schemas.js';

export const TWILIO_STATUSES = ['queued', 'initiated', 'ringing', 'in-progress', 'completed', 'busy', 'failed', 'no-answer', 'canceled'] as const;
export type TwilioStatus = (typeof TWILIO_STATUSES)[number];

/** The fields of a status callback that the lifecycle needs. */
export interface StatusCallback {
  sid: string;
  status: TwilioStatus;
  from: string;
  to: string | null;
  direction: Direction;
  /** Twilio's SequenceNumber: orders the callbacks of one leg. */
  sequence?: number;
  at?: string;
}

const FAILED: Partial<Record<TwilioStatus, Disposition>> = { busy: 'busy', failed: 'failed', 'no-answer': 'no_answer', canceled: 'canceled' };

export function toCallback(form: { CallSid: string; CallStatus: TwilioStatus; From: string; To?: string; Direction?: string; SequenceNumber?: string; Timestamp?: string }): StatusCallback {
  const at = form.Timestamp ? new Date(form.Timestamp) : undefined;
  return {
    sid: form.CallSid,
    status: form.CallStatus,
    from: form.From,
    to: form.To || null,
    // Twilio says inbound, outbound-api or outbound-dial.
    direction: form.Direction?.startsWith('outbound') ? 'outbound' : 'inbound',
    sequence: form.SequenceNumber === undefined ? undefined : Number(form.SequenceNumber),
    // An unparsable or unstorable Timestamp is dropped, not fatal: `at` is audit only.
    at: at && !Number.isNaN(at.getTime()) && storableTime(at.toISOString()) ? at.toISOString() : undefined,
  };
}

/** A call started by Twilio takes its first leg's CallSid as its id, and rings until answered. */
export function startOf(cb: StatusCallback): StartCall {
  return {
    callId: cb.sid, channel: 'voice', direction: cb.direction, from: cb.from, to: cb.to,
    provider: 'twilio', answered: false, metadata: {}, key: `twilio:${cb.sid}:start`,
  };
}

/** The event for a leg that is its call's first leg; any callback may be the first to arrive. */
export function firstLegEvent(cb: StatusCallback): CallEvent {
  const base = common(cb);
  switch (cb.status) {
    case 'queued':
    case 'initiated':
    case 'ringing':
      // Starting the call is the news; the leg is already in `legs`, so this changes nothing else.
      return { ...base, type: 'leg', leg: cb.sid };
    case 'in-progress':
      return { ...base, type: 'answered' };
    case 'completed':
      // A provider hangup while the conversation is open is a drop; `answered` covers a late in-progress.
      return { ...base, type: 'drop', reason: 'hangup', answered: true };
    default:
      return { ...base, type: 'end', disposition: FAILED[cb.status]! };
  }
}

/** Whether this callback may be a caller calling back: the call is new, inbound and not over. */
export function mayJoin(cb: StatusCallback): boolean {
  return cb.direction === 'inbound' && (cb.status === 'initiated' || cb.status === 'ringing' || cb.status === 'in-progress');
}

/** The event for a leg that joined an earlier dropped call (callback matching). */
export function joinedLegEvent(cb: StatusCallback): CallEvent {
  const base = common(cb);
  switch (cb.status) {
    case 'completed':
      return { ...base, type: 'drop', reason: 'hangup', answered: true };
    case 'busy':
    case 'failed':
    case 'no-answer':
    case 'canceled':
      // The call back never connected: the caller is gone again, so the call returns to dropped.
      return { ...base, type: 'drop', reason: `callback ${cb.status}` };
    default:
      // One key for every early callback of the leg: the call resumes once.
      return { ...base, key: `twilio:${cb.sid}:resume`, type: 'resume', leg: cb.sid };
  }
}

function common(cb: StatusCallback) {
  return {
    key: `twilio:${cb.sid}:${cb.status}`,
    at: cb.at,
    order: cb.sequence === undefined ? undefined : { leg: cb.sid, n: cb.sequence },
  };
}
