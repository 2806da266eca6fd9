// The conversation survives a drop, a flushed cache and a long call.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedTurns, expectEverywhere, turnRows } from './support/assertions.js';
import { createHarness, eventually, newCallId, type Harness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ call: { historyLimit: 40 } });
});
afterAll(() => h?.close());

const say = async (id: string, text: string) => {
  const res = await h.request('POST', `/calls/${id}/messages`, { text });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.reply.text as string;
};

describe('conversation', () => {
  it('POST /calls answers once the start is recorded, and is idempotent on callId, also after the call closed', async () => {
    const id = newCallId();
    const first = await h.request('POST', '/calls', { callId: id, channel: 'chat', from: '+15550004440' });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body).toMatchObject({ callId: id, status: 'active', turnCount: 0 });
    // No polling: the row and the cached view exist when the 201 arrives.
    expect(await h.rows('SELECT status FROM calls WHERE call_id = $1', [id])).toEqual([{ status: 'active' }]);
    expect(await h.redis.exists(`call:${id}`)).toBe(1);

    const again = await h.request('POST', '/calls', { callId: id, channel: 'chat', from: '+15550004440' });
    expect(again.status).toBe(200);
    expect(again.body.startedAt).toBe(first.body.startedAt);

    await h.request('POST', `/calls/${id}/end`, { disposition: 'completed' });
    await eventually(async () => expect((await h.handle(id).describe()).status.name).toBe('COMPLETED'));
    const closed = await h.request('POST', '/calls', { callId: id, channel: 'chat', from: '+15550004440' });
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({ callId: id, status: 'ended', disposition: 'completed', startedAt: first.body.startedAt });
  });

  it('drop then resume within the window: same call, transcript and context intact', async () => {
    const id = newCallId();
    await h.request('POST', '/calls', { callId: id, channel: 'chat', from: '+15550004444' });
    expect(await say(id, 'Hello there')).toBe('Hello! How can I help you today?');
    expect(await say(id, 'My name is Ada')).toContain('Ada');
    await h.request('POST', `/calls/${id}/drop`, { reason: 'app closed' });
    expect((await h.request('POST', `/calls/${id}/resume`, {})).status).toBe(200);
    expect(await say(id, 'What is my name?')).toBe('Your name is Ada.');
    const view = await expectEverywhere(h, id, { status: 'active', resumeCount: 1, dropCount: 1, turnCount: 6 });
    expect(view.context).toEqual({ name: 'Ada', recentQueries: ['Hello there', 'My name is Ada', 'What is my name?'] });
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

  it('a turn on a warm cache adds to it without reloading the transcript from PostgreSQL', async () => {
    const id = newCallId();
    await h.request('POST', '/calls', { callId: id, channel: 'chat', from: '+15550006667' });
    await say(id, 'hello');
    // An entry only the cache holds: a reload from PostgreSQL would overwrite it.
    const key = `call:${id}:turns`;
    const marker = { seq: 1, role: 'user', text: 'only in the cache', at: new Date().toISOString() };
    await h.redis.multi().zremrangebyscore(key, 1, 1).zadd(key, 1, JSON.stringify(marker)).exec();
    await say(id, 'and again');
    const cached = await cachedTurns(h, id);
    expect(cached.map((t) => t.seq)).toEqual([1, 2, 3, 4]);
    expect(cached[0]).toEqual(marker);
    expect((await turnRows(h, id)).map((t) => t.text)).toEqual(['hello', expect.any(String), 'and again', expect.any(String)]);
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
    expect(turns.filter((t) => t.role === 'user').map((t) => t.text)).toEqual(
      Array.from({ length: 24 }, (_, i) => `message number ${i + 1}`),
    );
    const page1 = await h.request('GET', `/calls/${id}/turns?limit=20`);
    const page2 = await h.request('GET', `/calls/${id}/turns?limit=20&cursor=${page1.body.nextCursor}`);
    const page3 = await h.request('GET', `/calls/${id}/turns?limit=20&cursor=${page2.body.nextCursor}`);
    expect([...page1.body.turns, ...page2.body.turns, ...page3.body.turns].map((t) => t.seq)).toEqual(turns.map((t) => t.seq));
    expect(page3.body.nextCursor).toBeNull();
  });

  it("an agent's snapshot and a script's progress are carried across continue-as-new", async () => {
    const agentId = `agent-${newCallId()}`;
    const script = {
      slots: [
        { name: 'name', ask: 'Your name?' },
        { name: 'crop', ask: 'Which crop?' },
        { name: 'village', ask: 'Which village?' },
      ],
      done: '{name} grows {crop} in {village}.',
    };
    await h.request('POST', '/agents', { agentId, name: 'Extension officer', responder: { kind: 'scripted' }, topics: ['rain'], script });
    const id = newCallId();
    await h.request('POST', '/calls', { callId: id, channel: 'chat', from: '+15550007790', agentId });
    const first = (await h.handle(id).describe()).runId;
    await h.request('PATCH', `/agents/${agentId}`, { name: 'Renamed' }); // reaches new calls only
    const replies: string[] = [];
    for (const text of ['hello', "I'm Wanjiru", 'maize', 'Nyeri', 'the rain is late', 'thanks', 'what is my name?', 'ok', 'bye'])
      replies.push(await say(id, text));
    expect(replies.slice(0, 4)).toEqual(['Your name?', 'Which crop?', 'Which village?', 'Wanjiru grows maize in Nyeri.']);
    expect(replies[6]).toBe('Your name is Wanjiru.');
    expect((await h.handle(id).describe()).runId).not.toBe(first);
    const view = await expectEverywhere(h, id, { turnCount: 18, agent: { agentId, version: 1, name: 'Extension officer' } });
    expect(view.context).toMatchObject({
      state: 'complete',
      slots: { name: 'Wanjiru', crop: 'maize', village: 'Nyeri' },
      topics: ['rain'],
    });
    expect(view.context.recentQueries).toEqual(['the rain is late', 'thanks', 'what is my name?', 'ok', 'bye']);
  });

  it('signals and updates arriving in a burst across continue-as-new: none lost, none doubled', async () => {
    const id = newCallId();
    await h.request('POST', '/calls', { callId: id, channel: 'chat', from: '+15550007778' });
    const first = (await h.handle(id).describe()).runId;
    // Fire without waiting: transcribed turns (signals) and chat messages (updates) pile up while the workflow records.
    const turns = Array.from({ length: 40 }, (_, i) =>
      h.request('POST', `/calls/${id}/turns`, { role: 'system', text: `note ${i + 1}`, eventId: `burst-${id}-${i}` }),
    );
    const messages = Array.from({ length: 10 }, (_, i) =>
      h.request('POST', `/calls/${id}/messages`, { text: `message ${i + 1}`, messageId: `m-${id}-${i}` }),
    );
    for (const res of await Promise.all(turns)) expect(res.status).toBe(202);
    for (const res of await Promise.all(messages)) expect(res.status, JSON.stringify(res.body)).toBe(200);
    await expectEverywhere(h, id, { status: 'active', turnCount: 60 });
    const rows = await turnRows(h, id);
    expect(rows.map((t) => t.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(
      rows
        .filter((t) => t.role === 'system')
        .map((t) => t.text)
        .sort(),
    ).toEqual(Array.from({ length: 40 }, (_, i) => `note ${i + 1}`).sort());
    expect(rows.filter((t) => t.role === 'user')).toHaveLength(10);
    expect((await h.handle(id).describe()).runId).not.toBe(first);
  });

  it('a run started with signals a previous run had not applied applies them first, in order', async () => {
    const id = newCallId();
    const start = {
      callId: id,
      channel: 'voice' as const,
      direction: 'inbound' as const,
      from: '+15550007779',
      to: null,
      provider: null,
      answered: true,
      metadata: {},
      key: `start:${id}`,
    };
    // What continueAsNew hands over: the call so far (version 1, nothing recorded after the start) and two unapplied turns.
    const call = { ...(await h.gateway.start(start)).call };
    await h.handle(id).terminate('replaced by a hand-built continued run');
    const pending = [1, 2].map((n) => ({ type: 'turn' as const, key: `carried-${n}`, role: 'user' as const, text: `carried ${n}` }));
    await h.client.workflow.start('callWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: `call-${id}`,
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      args: [
        { start, config: h.callConfig, carried: { call, lastActivityMs: Date.now(), dedup: { keys: [start.key], replies: [] }, pending } },
      ],
    });
    await expectEverywhere(h, id, { status: 'active', turnCount: 2 });
    expect(await turnRows(h, id)).toEqual([
      { seq: 1, role: 'user', text: 'carried 1' },
      { seq: 2, role: 'user', text: 'carried 2' },
    ]);
  });
});
