// What a turn costs: queued events are recorded together by one local activity, a scripted chat turn is
// one local activity, and a model reply stays a regular activity that reads the user's turn from the store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../activities/index.js';
import { scriptedResponder } from '../activities/responder/scripted.js';
import type { Responder } from '../activities/responder/types.js';
import { initialView } from '../workflows/lifecycle.js';
import { callEventSignal } from '../workflows/messages.js';
import type { CallEvent, StartCall } from '../workflows/types.js';
import { eventRows, expectEverywhere, turnRows } from './support/assertions.js';
import { createHarness, newCallId, type Harness } from './support/harness.js';
import { historyCounts } from './support/history.js';

describe('a burst queued before the worker polls', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ noWorker: true });
  });
  afterAll(() => h?.close());

  it('is recorded in one local activity, in order, each event once', async () => {
    const id = newCallId();
    const start: StartCall = {
      callId: id,
      channel: 'voice',
      direction: 'inbound',
      from: '+15550007001',
      to: null,
      provider: null,
      answered: false,
      metadata: {},
      key: `${id}:start`,
    };
    const turn = (n: number): CallEvent => ({ type: 'turn', key: `t${n}`, role: n % 2 ? 'user' : 'assistant', text: `turn ${n}` });
    const burst: CallEvent[] = [
      { type: 'answered', key: 'a' },
      turn(1),
      turn(2),
      turn(3),
      turn(2), // a provider retry: changes nothing
      { type: 'resume', key: 'r' }, // not allowed while active: recorded as ignored
      turn(4),
      turn(5),
      { type: 'drop', key: 'd' },
    ];
    await h.gateway.signalWithStart(start, burst[0]);
    for (const event of burst.slice(1)) await h.handle(id).signal(callEventSignal, event);
    await h.startWorker();

    await expectEverywhere(h, id, { status: 'dropped', turnCount: 5, dropCount: 1 });
    expect((await turnRows(h, id)).map((t) => [t.seq, t.text])).toEqual([1, 2, 3, 4, 5].map((n) => [n, `turn ${n}`]));
    const events = await eventRows(h, id);
    expect(events.map((e) => [e.seq, e.key, e.applied])).toEqual([
      [1, `${id}:start`, true],
      [2, 'a', true],
      [3, 't1', true],
      [4, 't2', true],
      [5, 't3', true],
      [6, 'r', false],
      [7, 't4', true],
      [8, 't5', true],
      [9, 'd', true],
    ]);
    const cost = await historyCounts(h, id);
    expect(cost.activities).toEqual([]);
    expect(cost.localActivities).toBe(1);
  });
});

describe('a batch written twice', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ noWorker: true });
  });
  afterAll(() => h?.close());

  it('(a local activity redone after a worker crash, with a later `at`) leaves one row and one cache entry per turn', async () => {
    const id = newCallId();
    const { recordEvents } = createActivities({ pool: h.pool, redis: h.redis, responder: scriptedResponder });
    const start: StartCall = {
      callId: id,
      channel: 'chat',
      direction: 'inbound',
      from: '+15550007004',
      to: null,
      provider: null,
      answered: true,
      metadata: {},
      key: 's',
    };
    const call = { ...initialView(start, `call-${id}`, Date.now()), turnCount: 1, version: 2 };
    const batch = (at: string) => ({
      call,
      events: [{ seq: 2, key: 'm1', type: 'message' as const, applied: true, occurredAt: at, payload: {} }],
      turns: [{ seq: 1, role: 'user' as const, text: 'hello', at }],
    });
    await recordEvents(batch('2026-11-26T10:00:00.000Z'));
    await recordEvents(batch('2026-11-26T10:00:10.000Z'));
    expect(await turnRows(h, id)).toEqual([{ seq: 1, role: 'user', text: 'hello' }]);
    expect((await eventRows(h, id)).map((e) => e.key)).toEqual(['m1']);
    const cached = await h.redis.zrange(`call:${id}:turns`, '0', '-1');
    expect(cached.map((t) => JSON.parse(t).seq)).toEqual([1]);
  });
});

describe('chat turns', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h?.close());

  it('with the scripted assistant: one local activity per turn, user turn and reply together', async () => {
    const id = newCallId();
    expect((await h.request('POST', '/calls', { callId: id, channel: 'chat', from: '+15550007002' })).status).toBe(201);
    expect((await h.request('POST', `/calls/${id}/messages`, { text: 'my name is Ada', messageId: 'm1' })).status).toBe(200);
    const asked = await h.request('POST', `/calls/${id}/messages`, { text: 'what is my name?', messageId: 'm2' });
    expect(asked.body.reply).toMatchObject({ seq: 4, role: 'assistant', text: 'Your name is Ada.' });
    await expectEverywhere(h, id, { turnCount: 4, context: { name: 'Ada' } });
    const cost = await historyCounts(h, id);
    expect(cost.activities).toEqual([]);
    expect(cost.localActivities).toBe(3); // the start, then one per turn
    expect(cost.timers).toBe(1); // turns push the idle deadline later: the one timer stays
  });
});

describe('a model responder', () => {
  let h: Harness;
  const seen: { text: string; storedUserTurn: boolean }[] = [];
  beforeAll(async () => {
    // Stands where a model would: it checks that the user's turn is already in PostgreSQL when it is asked.
    const model: Responder = async ({ callId, text, context }) => {
      const rows = await h.rows("SELECT 1 FROM turns WHERE call_id = $1 AND role = 'user' AND text = $2", [callId, text]);
      seen.push({ text, storedUserTurn: rows.length === 1 });
      return { text: `model says: ${text}`, context };
    };
    h = await createHarness({ responder: model });
  });
  afterAll(() => h?.close());

  it('stays a regular activity, with the user turn recorded before it', async () => {
    const id = newCallId();
    await h.request('POST', '/calls', { callId: id, channel: 'chat', from: '+15550007003' });
    const res = await h.request('POST', `/calls/${id}/messages`, { text: 'hello model', messageId: 'm1' });
    expect(res.body.reply).toMatchObject({ seq: 2, text: 'model says: hello model' });
    expect(seen).toEqual([{ text: 'hello model', storedUserTurn: true }]);
    await expectEverywhere(h, id, { turnCount: 2 });
    const cost = await historyCounts(h, id);
    expect(cost.activities).toEqual(['respond']);
    expect(cost.localActivities).toBe(3); // the start, the user turn, the reply
  });
});
