// What operators see in the Temporal UI: search attributes and the current-details panel.
import type { SearchAttributePair, TypedSearchAttributes } from '@temporalio/common';
import {
  AccountIdKey,
  CallChannelKey,
  CallerNumberKey,
  CallStatusKey,
  DispositionKey,
  DropCountKey,
  TurnCountKey,
} from './search-attributes.js';
import { initialView } from './lifecycle.js';
import type { TransferState } from './call-session.js';
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

/** What the search attributes last said of the call, and when (workflow time). */
export interface Indexed extends Pick<CallView, 'status' | 'disposition' | 'dropCount' | 'turnCount'> {
  atMs: number;
}

export const indexedNow = (call: CallView, atMs: number): Indexed => ({
  status: call.status,
  disposition: call.disposition,
  dropCount: call.dropCount,
  turnCount: call.turnCount,
  atMs,
});

/** The attributes a call is started with: what its first task would otherwise write at once. */
export function startAttributes(start: StartCall): SearchAttributePair[] {
  const call = initialView(start, '', 0);
  return [...searchAttributesOf(call), { key: AccountIdKey, value: call.accountId }];
}

/** The search attributes this run started with; undefined when its start set none (started outside the API). */
export function indexedAtStart(attributes: TypedSearchAttributes, atMs: number): Indexed | undefined {
  const status = attributes.get(CallStatusKey) as CallView['status'] | undefined;
  if (status === undefined) return undefined;
  const disposition = (attributes.get(DispositionKey) ?? null) as CallView['disposition'];
  const [dropCount, turnCount] = [attributes.get(DropCountKey) ?? 0, attributes.get(TurnCountKey) ?? 0];
  return { status, disposition, dropCount, turnCount, atMs };
}

/** How often, at most, a conversation refreshes TurnCount. */
export const TURN_COUNT_INTERVAL_MS = 60_000;

/**
 * Whether the search attributes must be written again. Every upsert is a history event and a visibility
 * write, which costs the server more than the signal that caused it; so a conversation refreshes TurnCount
 * at most once a minute, and any change of status, disposition or drops writes them all at once, exact.
 */
export function needsReindex(indexed: Indexed, call: CallView, now: number): boolean {
  if (indexed.status !== call.status || indexed.disposition !== call.disposition || indexed.dropCount !== call.dropCount) return true;
  return call.turnCount !== indexed.turnCount && now - indexed.atMs >= TURN_COUNT_INTERVAL_MS;
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
export function describeCall(call: CallView, transfers?: TransferState): string {
  const lines = [
    `- **Status:** ${call.status}${call.disposition ? ` (${call.disposition})` : ''}`,
    `- **Caller:** ${call.from} · ${call.channel} · ${call.direction}`,
    `- **Turns:** ${call.turnCount} · **Drops:** ${call.dropCount} · **Resumes:** ${call.resumeCount}`,
  ];
  if (call.status === 'dropped') lines.push(`- **Resume by:** ${call.resumeDeadline}`);
  if (call.legs.length > 1) lines.push(`- **Legs:** ${call.legs.join(', ')}`);
  // The attempt being dialed, else how the latest one went.
  const transfer = transfers?.dialing ? { ...transfers.dialing, outcome: 'dialing' } : transfers?.last;
  if (transfer)
    lines.push(`- **Transfer:** ${transfer.to} (${transfer.outcome})${transfer.attempt > 1 ? ` · attempt ${transfer.attempt}` : ''}`);
  return lines.join('\n');
}
