// What operators see in the Temporal UI: search attributes and the current-details panel.
import type { SearchAttributePair } from '@temporalio/common';
import { CallChannelKey, CallerNumberKey, CallStatusKey, DispositionKey, DropCountKey, TurnCountKey } from './search-attributes.js';
import type { CallView, StartCall } from './types.js';

export function searchAttributesOf(call: CallView): SearchAttributePair[] {
  const pairs: SearchAttributePair[] = [
    { key: CallStatusKey, value: call.status },
    { key: CallChannelKey, value: call.channel },
    { key: CallerNumberKey, value: call.from },
    { key: TurnCountKey, value: call.turnCount },
    { key: DropCountKey, value: call.dropCount },
  ];
  if (call.disposition) pairs.push({ key: DispositionKey, value: call.disposition });
  return pairs;
}

/** Turns a live call may run ahead of its TurnCount search attribute. */
export const TURN_COUNT_STEP = 10;

/**
 * Whether the search attributes must be written again. Every upsert is a history event and a visibility
 * write on the server, so a conversation refreshes TurnCount every few turns; any change of status,
 * disposition or drops writes them all at once, exact.
 */
export function needsReindex(indexed: CallView, call: CallView): boolean {
  return (
    indexed.status !== call.status ||
    indexed.disposition !== call.disposition ||
    indexed.dropCount !== call.dropCount ||
    call.turnCount - indexed.turnCount >= TURN_COUNT_STEP
  );
}

/** What a call's fixed summary and details say of it. */
type CallFacts = Pick<StartCall, 'from' | 'to' | 'channel' | 'direction' | 'provider'>;

/** A one-line summary fixed at start: who is calling (or, outbound, who is called) and how. */
export function summarizeCall(call: CallFacts): string {
  const party = call.direction === 'inbound' ? `from ${call.from}` : `to ${call.to ?? call.from}`;
  return `${call.channel} call ${party}${call.provider ? ` via ${call.provider}` : ''}`;
}

/** Markdown fixed at start for the UI's details panel: the facts that never change. */
export function detailCall(start: CallFacts & { callId: string }): string {
  return [
    `- **Call:** ${start.callId}`,
    `- **Caller:** ${start.from}${start.to ? ` → ${start.to}` : ''}`,
    `- **Channel:** ${start.channel} · ${start.direction}`,
    `- **Provider:** ${start.provider ?? 'API'}`,
  ].join('\n');
}

/** Markdown for the UI's current-details panel: a list, so each fact keeps its own line. */
export function describeCall(call: CallView): string {
  const lines = [
    `- **Status:** ${call.status}${call.disposition ? ` (${call.disposition})` : ''}`,
    `- **Caller:** ${call.from} · ${call.channel} · ${call.direction}`,
    `- **Turns:** ${call.turnCount} · **Drops:** ${call.dropCount} · **Resumes:** ${call.resumeCount}`,
  ];
  if (call.status === 'dropped') lines.push(`- **Resume by:** ${call.resumeDeadline}`);
  if (call.legs.length > 1) lines.push(`- **Legs:** ${call.legs.join(', ')}`);
  return lines.join('\n');
}
