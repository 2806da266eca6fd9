// Every row of the lifecycle table, checked in the workflow, PostgreSQL and Redis.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callEventSignal, callEventUpdate } from '../workflows/messages.js';
import { eventRows, expectEverywhere, turnRows, cachedTurns } from './support/assertions.js';
import { createHarness, eventually, newCallId, type Harness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ call: { resumeWindowMs: 2_000, idleTimeoutMs: 60_000 } });
});
afterAll(() => h?.close());

const startVoice = (callId: string, from = '+15550001111') =>
  h.request('POST', '/calls', { callId, channel: 'voice', from, to: '+15559990000' });
const startChat = (callId: string, from = '+15550002222') => h.request('POST', '/calls', { callId, channel: 'chat', from });

describe('lifecycle', () => {
  it('start: voice rings, chat is active, and a repeated start is the same call', async () => {
    const voice = newCallId();
    const first = await startVoice(voice);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ callId: voice, status: 'ringing', channel: 'voice', from: '+15550001111', legs: [] });
    const again = await startVoice(voice);
    expect(again.status).toBe(200);
    expect(again.body.startedAt).toBe(first.body.startedAt);
    await expectEverywhere(h, voice, { status: 'ringing', channel: 'voice', turnCount: 0 });
    expect((await eventRows(h, voice)).map((e) => e.type)).toEqual(['started']);
    const desc = await h.handle(voice).describe();
    expect(desc.workflowId).toBe(`call-${voice}`);

    const chat = newCallId();
    expect((await startChat(chat)).body.status).toBe('active');
    await expectEverywhere(h, chat, { status: 'active', channel: 'chat' });
    const [caller] = await h.rows('SELECT number FROM callers WHERE number = $1', ['+15550002222']);
    expect(caller).toBeDefined();
  });

  it('ringing → answered → active', async () => {
    const id = newCallId();
    await startVoice(id);
    const view = await h.handle(id).executeUpdate(callEventUpdate, { args: [{ type: 'answered', key: `ans-${id}` }] });
    expect(view.status).toBe('active');
    expect(view.answeredAt).not.toBeNull();
    await expectEverywhere(h, id, { status: 'active' });
    expect((await eventRows(h, id)).map((e) => [e.type, e.applied])).toEqual([
      ['started', true],
      ['answered', true],
    ]);
  });

  it.each(['no_answer', 'busy', 'failed', 'canceled'] as const)('ringing → end (%s) → ended', async (disposition) => {
    const id = newCallId();
    await startVoice(id);
    const res = await h.request('POST', `/calls/${id}/end`, { disposition });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ended', disposition });
    await expectEverywhere(h, id, { status: 'ended', disposition });
    expect(await h.redis.exists(`dropped:default:+15550001111`)).toBe(0);
  });

  it('active → turn → active, with a per-call sequence', async () => {
    const id = newCallId();
    await startVoice(id);
    await h.handle(id).signal(callEventSignal, { type: 'answered', key: `ans-${id}` });
    for (const [i, role] of (['user', 'assistant', 'user'] as const).entries()) {
      const res = await h.request('POST', `/calls/${id}/turns`, { role, text: `utterance ${i + 1}`, eventId: `turn-${id}-${i}` });
      expect(res.status).toBe(202);
    }
    await expectEverywhere(h, id, { status: 'active', turnCount: 3 });
    expect(await turnRows(h, id)).toEqual([
      { seq: 1, role: 'user', text: 'utterance 1' },
      { seq: 2, role: 'assistant', text: 'utterance 2' },
      { seq: 3, role: 'user', text: 'utterance 3' },
    ]);
    expect((await cachedTurns(h, id)).map((t) => t.seq)).toEqual([1, 2, 3]);
  });

  it('active → drop → dropped with a deadline one window later, indexed by caller', async () => {
    const id = newCallId();
    const from = `+1555${Date.now() % 10_000_000}`;
    await startChat(id, from);
    const res = await h.request('POST', `/calls/${id}/drop`, { reason: 'network' });
    expect(res.status).toBe(200);
    const view = await expectEverywhere(h, id, { status: 'dropped', dropCount: 1 });
    expect(Date.parse(view.resumeDeadline!) - Date.parse(view.droppedAt!)).toBe(2_000);
    expect(await h.redis.get(`dropped:default:${from}`)).toBe(id);
    const [row] = await h.rows('SELECT resume_deadline FROM calls WHERE call_id = $1', [id]);
    expect(row.resume_deadline.toISOString()).toBe(view.resumeDeadline);
  });

  it('dropped → resume before the deadline → active, resume count +1', async () => {
    const id = newCallId();
    const from = `+1556${Date.now() % 10_000_000}`;
    await startChat(id, from);
    await h.request('POST', `/calls/${id}/drop`, {});
    const res = await h.request('POST', `/calls/${id}/resume`, {});
    expect(res.status).toBe(200);
    await expectEverywhere(h, id, { status: 'active', resumeCount: 1, dropCount: 1, resumeDeadline: null });
    expect(await h.redis.get(`dropped:default:${from}`)).toBeNull();
    // Resuming an active call is a no-op.
    expect((await h.request('POST', `/calls/${id}/resume`, {})).body).toMatchObject({ status: 'active', resumeCount: 1 });
  });

  it('dropped → deadline passes → ended / abandoned; a late resume gets 410', async () => {
    const id = newCallId();
    const from = `+1557${Date.now() % 10_000_000}`;
    await startChat(id, from);
    await h.request('POST', `/calls/${id}/drop`, {});
    await expectEverywhere(h, id, { status: 'ended', disposition: 'abandoned' });
    expect((await eventRows(h, id)).at(-1)).toMatchObject({ type: 'timeout', applied: true, payload: { disposition: 'abandoned' } });
    expect(await h.redis.get(`dropped:default:${from}`)).toBeNull();
    const late = await h.request('POST', `/calls/${id}/resume`, {});
    expect(late.status).toBe(410);
    expect(late.body.error.code).toBe('resume_window_expired');
  });

  it.each(['active', 'dropped'] as const)('%s → end → ended, disposition completed by default', async (from) => {
    const id = newCallId();
    await startChat(id);
    if (from === 'dropped') await h.request('POST', `/calls/${id}/drop`, {});
    const res = await h.request('POST', `/calls/${id}/end`, {});
    expect(res.body).toMatchObject({ status: 'ended', disposition: 'completed' });
    await expectEverywhere(h, id, { status: 'ended', disposition: 'completed' });
    const [row] = await h.rows('SELECT ended_at FROM calls WHERE call_id = $1', [id]);
    expect(row.ended_at).not.toBeNull();
  });

  it('ended → anything → ended: API clients get 409 call_ended, nothing changes', async () => {
    const id = newCallId();
    await startChat(id);
    await h.request('POST', `/calls/${id}/end`, {});
    const before = await eventRows(h, id);
    for (const [path, body] of [
      ['messages', { text: 'hello?' }],
      ['drop', {}],
      ['end', {}],
      ['turns', { role: 'user', text: 'x' }],
    ] as const) {
      const res = await h.request('POST', `/calls/${id}/${path}`, body);
      expect(res.status, path).toBe(409);
      expect(res.body.error.code).toBe('call_ended');
    }
    expect(await eventRows(h, id)).toEqual(before);
    expect((await h.request('GET', `/calls/${id}`)).body.status).toBe('ended');
  });

  it('a disallowed update is rejected and a disallowed signal is recorded as ignored', async () => {
    const id = newCallId();
    await startVoice(id);
    const res = await h.request('POST', `/calls/${id}/drop`, {});
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('invalid_state');
    await h.handle(id).signal(callEventSignal, { type: 'resume', key: `res-${id}` });
    await eventually(async () => {
      expect((await eventRows(h, id)).map((e) => [e.type, e.applied])).toEqual([
        ['started', true],
        ['drop', false],
        ['resume', false],
      ]);
    });
    await expectEverywhere(h, id, { status: 'ringing' });
  });

  it('the same event delivered three times: one turn, one event row', async () => {
    const id = newCallId();
    await startChat(id);
    const turn = { role: 'user', text: 'only once', eventId: `dup-${id}` };
    for (let i = 0; i < 3; i++) expect((await h.request('POST', `/calls/${id}/turns`, turn)).status).toBe(202);
    const msg = { text: 'my name is Grace', messageId: `msg-${id}` };
    const replies = [];
    for (let i = 0; i < 3; i++) replies.push((await h.request('POST', `/calls/${id}/messages`, msg)).body.reply);
    expect(replies[1]).toEqual(replies[0]);
    expect(replies[2]).toEqual(replies[0]);
    await expectEverywhere(h, id, { turnCount: 3 });
    expect(await turnRows(h, id)).toEqual([
      { seq: 1, role: 'user', text: 'only once' },
      { seq: 2, role: 'user', text: 'my name is Grace' },
      { seq: 3, role: 'assistant', text: 'Nice to meet you, Grace. How can I help you today?' },
    ]);
    const keys = (await eventRows(h, id)).map((e) => e.key);
    expect(keys.filter((k) => k === `dup-${id}`)).toHaveLength(1);
    expect(keys.filter((k) => k === `msg-${id}`)).toHaveLength(1);
  });
});

describe('idle timeout', () => {
  let idle: Harness;
  beforeAll(async () => {
    idle = await createHarness({ call: { idleTimeoutMs: 1_500 } });
  });
  afterAll(() => idle?.close());

  it('active with no turn for the idle timeout → ended / timeout', async () => {
    const id = newCallId();
    await idle.request('POST', '/calls', { callId: id, channel: 'chat', from: '+15550003333' });
    await idle.request('POST', `/calls/${id}/messages`, { text: 'hello' });
    await expectEverywhere(idle, id, { status: 'ended', disposition: 'timeout', turnCount: 2 });
  });

  it('turns keep pushing the idle timeout on: the call outlives its first deadline', async () => {
    const id = newCallId();
    await idle.request('POST', '/calls', { callId: id, channel: 'chat', from: '+15550003334' });
    const firstDeadline = Date.now() + 1_500;
    // Talk past the first deadline; each turn lands well inside the window the previous one opened.
    for (let i = 0; Date.now() < firstDeadline + 500; i++) {
      expect((await idle.request('POST', `/calls/${id}/messages`, { text: `still here ${i}` })).status).toBe(200);
      await new Promise((r) => setTimeout(r, 300)); // pacing the caller, not waiting for state
    }
    expect((await idle.query(id)).status).toBe('active');
    const ended = await expectEverywhere(idle, id, { status: 'ended', disposition: 'timeout' });
    const { events } = await idle.handle(id).fetchHistory();
    const timers = (events ?? []).filter((e) => e.timerStartedEventAttributes).length;
    // One timer per idle period (it fired early and re-armed), not one per turn.
    expect(timers).toBeLessThan(ended.turnCount / 2);
  });
});
