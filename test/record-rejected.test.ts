// Data PostgreSQL refuses (it reached the workflow without the API's validation, e.g. a direct signal)
// cannot freeze a call: the refused event is stored as `event_rejected` with the reason, the rest of its
// batch and every later event are recorded, and the call goes on.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { callEventSignal } from '../workflows/messages.js';
import type { CallEvent, StartCall } from '../workflows/types.js';
import { cachedTurns, eventRows, expectEverywhere, turnRows } from './support/assertions.js';
import { createHarness, newCallId, type Harness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ noWorker: true });
});
afterAll(() => h?.close());

it('a refused event in a batch is stored as event_rejected; its neighbours and later events are recorded', async () => {
  const id = newCallId();
  const start: StartCall = {
    callId: id,
    channel: 'voice',
    direction: 'inbound',
    from: '+15550007401',
    to: null,
    provider: null,
    answered: true,
    metadata: {},
    key: `${id}:start`,
  };
  const burst: CallEvent[] = [
    { type: 'turn', key: 't1', role: 'user', text: 'first' },
    { type: 'turn', key: 'nul', role: 'user', text: 'a\u0000b' }, // text PostgreSQL refuses
    { type: 'turn', key: 't2', role: 'assistant', text: 'second' },
    { type: 'turn', key: 'offset', role: 'user', text: 'too far east', at: '2026-11-26T10:00:00+20:00' }, // a time it refuses
    { type: 'turn', key: 't3', role: 'user', text: 'third' },
  ];
  // Queued before any worker polls, so they arrive as one batch.
  await h.gateway.signalWithStart(start, burst[0]!);
  for (const event of burst.slice(1)) await h.handle(id).signal(callEventSignal, event);
  await h.startWorker();

  await expectEverywhere(h, id, { status: 'active', turnCount: 5 });
  const events = await eventRows(h, id);
  expect(events.map((e) => [e.seq, e.key, e.type, e.applied])).toEqual([
    [1, `${id}:start`, 'started', true],
    [2, 't1', 'turn', true],
    [3, 'nul', 'event_rejected', false],
    [4, 't2', 'turn', true],
    [5, 'offset', 'event_rejected', false],
    [6, 't3', 'turn', true],
  ]);
  const [nul] = await h.rows(`SELECT payload FROM call_events WHERE call_id = $1 AND idempotency_key = 'nul'`, [id]);
  expect(nul.payload).toMatchObject({ type: 'turn', reason: expect.stringMatching(/^22/) });
  // The refused turns are missing from the transcript and the cache, and only they are.
  expect((await turnRows(h, id)).map((t) => [t.seq, t.text])).toEqual([
    [1, 'first'],
    [3, 'second'],
    [5, 'third'],
  ]);
  expect((await cachedTurns(h, id)).map((t) => t.seq)).toEqual([1, 3, 5]);

  // The call goes on: a later event is recorded as usual.
  await h.handle(id).signal(callEventSignal, { type: 'turn', key: 't4', role: 'assistant', text: 'fourth' });
  await expectEverywhere(h, id, { turnCount: 6 });
  expect((await turnRows(h, id)).map((t) => t.text)).toEqual(['first', 'second', 'third', 'fourth']);
});
