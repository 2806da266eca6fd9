// Who Callwright talks to on a call: the caller of an inbound call, the callee of an outbound one. Their
// number keys the profile, the callers row and the dropped-call index that lets them call back.
import type { Direction } from './types.js';

export function partyNumber(call: { direction: Direction; from: string; to: string | null }): string {
  return call.direction === 'outbound' && call.to ? call.to : call.from;
}
