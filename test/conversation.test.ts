// The conversation survives a drop, a flushed cache and a long call.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedTurns, expectEverywhere, turnRows } from './support/assertions.js';
import { createHarness, newCallId, type Harness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ call: { historyLimit: 120 } });
});
afterAll(() => h?.close());

const say = async (id: string, text: string) => {
  const res = await h.request('POST', `/calls/${id}/messages`, { text });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.reply.text as string;
};

describe('conversation', () => {
  it('drop then resume within the window: same call, transcript and context intact', async () => {
    const id = newCallId();
    await h.request('POST', '/calls', { callId: id, channel: 'chat', from: '+15550004444' });
    expect(await say(id, 'Hello there')).toBe('Hello! How can I help you today?');
    expect(await say(id, 'My name is Ada')).toContain('Ada');
    await h.request('POST', `/calls/${id}/drop`, { reason: 'app closed' });
    expect((await h.request('POST', `/calls/${id}/resume`, {})).status).toBe(200);
    expect(await say(id, 'What is my name?')).toBe('Your name is Ada.');
    const view = await expectEverywhere(h, id, { status: 'active', resumeCount: 1, dropCount: 1, turnCount: 6 });
    expect(view.context).toEqual({ name: 'Ada' });
    expect((await turnRows(h, id)).map((t) => t.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    const [caller] = await h.rows('SELECT name FROM callers WHERE number = $1', ['+15550004444']);
    expect(caller.name).toBe('Ada');
  });

  it('a chat message to a dropped call resumes it first', async () => {
    const id = newCallId();
    await h.request('POST', '/calls', { callId: id, channel: 'chat', from: '+15550005555' });
    await say(id, "I'm Linus");
    await h.request('POST', `/calls/${id}/drop`, {});
    expect(await say(id, "what's my name?")).toBe('Your name is Linus.');
    await expectEverywhere(h, id, { status: 'active', resumeCount: 1 });
  });

  it('Redis flushed mid-call: reads and the next turns still work, and the cache refills', async () => {
    const id = newCallId();
    await h.request('POST', '/calls', { callId: id, channel: 'chat', from: '+15550006666' });
    await say(id, 'call me Joan');
    await h.redis.flushall();
    const view = await h.request('GET', `/calls/${id}`);
    expect(view.body).toMatchObject({ callId: id, turnCount: 2, context: { name: 'Joan' } });
    expect(await h.redis.exists(`call:${id}`)).toBe(1);
    const turns = await h.request('GET', `/calls/${id}/turns`);
    expect(turns.body.turns.map((t: { seq: number }) => t.seq)).toEqual([1, 2]);
    await h.redis.flushall();
    expect(await say(id, 'what is my name?')).toBe('Your name is Joan.');
    expect((await cachedTurns(h, id)).map((t) => t.seq)).toEqual([1, 2, 3, 4]);
  });

  it('a long call continues-as-new at least twice and keeps every turn in order', async () => {
    const id = newCallId();
    await h.request('POST', '/calls', { callId: id, channel: 'chat', from: '+15550007777' });
    const firstRun = (await h.handle(id).describe()).runId;
    const runs = new Set([firstRun]);
    for (let i = 1; i <= 24; i++) {
      await say(id, `message number ${i}`);
      runs.add((await h.handle(id).describe()).runId);
    }
    expect(runs.size).toBeGreaterThanOrEqual(3);
    const view = await expectEverywhere(h, id, { status: 'active', turnCount: 48 });
    expect(view.callId).toBe(id);
    const turns = await turnRows(h, id);
    expect(turns.map((t) => t.seq)).toEqual(Array.from({ length: 48 }, (_, i) => i + 1));
    expect(turns.filter((t) => t.role === 'user').map((t) => t.text)).toEqual(Array.from({ length: 24 }, (_, i) => `message number ${i + 1}`));
    const page1 = await h.request('GET', `/calls/${id}/turns?limit=20`);
    const page2 = await h.request('GET', `/calls/${id}/turns?limit=20&cursor=${page1.body.nextCursor}`);
    const page3 = await h.request('GET', `/calls/${id}/turns?limit=20&cursor=${page2.body.nextCursor}`);
    expect([...page1.body.turns, ...page2.body.turns, ...page3.body.turns].map((t) => t.seq)).toEqual(turns.map((t) => t.seq));
    expect(page3.body.nextCursor).toBeNull();
  });
});
