// Generic feed events as call events: pure.
import type { CallEvent, StartCall } from '../../workflows/types.js';
import type { FeedEvent } from './schemas.js';

type Started = Extract<FeedEvent, { type: 'call.started' }>;

export function feedStart(e: Started): StartCall {
  const { channel, direction, from, to } = e.data;
  return {
    callId: e.callId,
    channel,
    direction,
    from,
    to: to ?? null,
    provider: null,
    // Voice rings until call.answered; chat is a conversation from the start.
    answered: channel === 'chat',
    metadata: {},
    key: e.eventId,
    at: e.at,
  };
}

/**
 * The signal that carries call.started. It shares the start's key, so on a new call the workflow has
 * already seen it and records nothing; on a call that already exists it only names the call's own id as a leg.
 */
export function startSignal(e: Started): CallEvent {
  return { type: 'leg', key: e.eventId, leg: e.callId, at: e.at };
}

export function feedEvent(e: Exclude<FeedEvent, Started>): CallEvent {
  const base = { key: e.eventId, at: e.at };
  switch (e.type) {
    case 'call.answered':
      return { ...base, type: 'answered' };
    case 'call.turn':
      return { ...base, type: 'turn', role: e.data.role, text: e.data.text };
    case 'call.dropped':
      // The pipeline reports drops of conversations it took part in: answered, even if call.answered is late.
      return { ...base, type: 'drop', reason: e.data.reason, answered: true };
    case 'call.resumed':
      return { ...base, type: 'resume' };
    case 'call.ended':
      return { ...base, type: 'end', disposition: e.data.disposition, reason: e.data.reason };
  }
}
