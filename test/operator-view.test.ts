// What an operator reads in the Temporal UI, checked through the Temporal client: search attributes,
// the static summary, current details, activity and timer summaries, and a visibility query.
import { randomInt } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { workflowMetadataQuery } from '@temporalio/workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEARCH_ATTRIBUTES } from '../scripts/services/search-attributes.js';
import { workflowIdFor } from '../workflows/messages.js';
import { createHarness, eventually, newCallId, type Harness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  // The default 10-minute resume window: a dropped call stays dropped for the whole file.
  h = await createHarness();
});
afterAll(() => h?.close());

/** A caller number no other test (or earlier run on the same server) uses. */
const uniqueNumber = () => `+1558${randomInt(1_000_000, 10_000_000)}`;

const startChat = async (callId: string, from: string) => {
  expect((await h.request('POST', '/calls', { callId, channel: 'chat', from })).status).toBe(201);
};

/** Callwright's search attributes as describe() reports them, by name (the server adds its own, e.g. BuildIds). */
async function searchAttributes(callId: string): Promise<Record<string, unknown>> {
  const desc = await h.handle(callId).describe();
  const ours = desc.typedSearchAttributes.getAll().filter(({ key }) => SEARCH_ATTRIBUTES.some(({ name }) => name === key.name));
  return Object.fromEntries(ours.map(({ key, value }) => [key.name, value]));
}

const currentDetails = async (callId: string) => (await h.handle(callId).query(workflowMetadataQuery)).currentDetails ?? '';

const summaryOf = (event: temporal.api.history.v1.IHistoryEvent): string | undefined => {
  const payload = event.userMetadata?.summary;
  return payload ? defaultPayloadConverter.fromPayload<string>(payload) : undefined;
};

describe('operator view', () => {
  it('search attributes follow the call: start, two messages, drop, end', async () => {
    const id = newCallId();
    const from = uniqueNumber();
    await startChat(id, from);
    const atStart = { CallStatus: 'active', CallChannel: 'chat', CallerNumber: from, TurnCount: 0, DropCount: 0, AccountId: 'default' };
    await eventually(async () => expect(await searchAttributes(id)).toEqual(atStart));

    for (const text of ['hello', 'my name is Ada']) expect((await h.request('POST', `/calls/${id}/messages`, { text })).status).toBe(200);
    expect((await h.request('POST', `/calls/${id}/drop`, { reason: 'network' })).status).toBe(200);
    const dropped = { ...atStart, CallStatus: 'dropped', TurnCount: 4, DropCount: 1 };
    await eventually(async () => expect(await searchAttributes(id)).toEqual(dropped));

    expect((await h.request('POST', `/calls/${id}/end`, {})).status).toBe(200);
    await eventually(async () => expect(await searchAttributes(id)).toEqual({ ...dropped, CallStatus: 'ended', Disposition: 'completed' }));
    // The start carried the attributes and the turns came within a minute: only the drop and the end wrote ours.
    const upserts = ((await h.handle(id).fetchHistory()).events ?? []).flatMap((e) => {
      const fields = Object.keys(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {});
      return fields.includes('CallStatus') ? [fields] : [];
    });
    expect(upserts).toHaveLength(2);
  });

  it('the static summary names the caller and channel; current details say dropped and until when', async () => {
    const id = newCallId();
    const from = uniqueNumber();
    await startChat(id, from);
    const desc = await h.handle(id).describe();
    const summary = await desc.staticSummary();
    expect(summary).toContain(from);
    expect(summary).toContain('chat call');

    const dropped = (await h.request('POST', `/calls/${id}/drop`, {})).body;
    await eventually(async () => {
      const details = await currentDetails(id);
      expect(details).toContain('**Status:** dropped');
      expect(details).toContain(`**Resume by:** ${dropped.resumeDeadline}`);
      expect(details).toContain(from);
    });
  });

  it('recording and timer summaries are in the history', async () => {
    const id = newCallId();
    await startChat(id, uniqueNumber());
    expect((await h.request('POST', `/calls/${id}/messages`, { text: 'hello' })).status).toBe(200);
    await h.request('POST', `/calls/${id}/drop`, {});
    await eventually(async () => {
      const events = (await h.handle(id).fetchHistory()).events ?? [];
      // Recording is a local activity: its summary rides on the marker event.
      const recorded = events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').map(summaryOf);
      expect(recorded).toEqual(['record started', 'record 2 events: turns 1–2', 'record drop']);
      const timers = events.filter((e) => e.timerStartedEventAttributes).map(summaryOf);
      expect(timers.at(-1)).toBe('resume window: 10m');
    });
  });

  it('a visibility query finds exactly the dropped call from a number', async () => {
    const from = uniqueNumber();
    const [dropped, active] = [newCallId(), newCallId()];
    await startChat(dropped, from);
    await startChat(active, from);
    await h.request('POST', `/calls/${dropped}/drop`, {});
    await eventually(async () => {
      const ids: string[] = [];
      for await (const wf of h.client.workflow.list({ query: `CallStatus="dropped" AND CallerNumber="${from}"` })) ids.push(wf.workflowId);
      expect(ids).toEqual([workflowIdFor(dropped)]);
      const all: string[] = [];
      for await (const wf of h.client.workflow.list({ query: `CallerNumber="${from}"` })) all.push(wf.workflowId);
      expect(all.sort()).toEqual([workflowIdFor(dropped), workflowIdFor(active)].sort());
    });
  });
});
