// Agents and numbers: versioned configuration, assignment to numbers, and the snapshot a call takes at start.
import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResponderInput } from '../activities/responder/types.js';
import { turnRows } from './support/assertions.js';
import { signFeedBody } from '../common/feed-signature.js';
import { createHarness, eventually, newCallId, WEBHOOK_SECRET, type Harness } from './support/harness.js';

let h: Harness;
const asked: ResponderInput[] = [];
beforeAll(async () => {
  // A model stand-in: the worker calls it as it would an OpenAI-compatible endpoint's client.
  h = await createHarness({
    responder: async (input) => (asked.push(input), { text: `model says hi to ${input.text}`, context: input.context }),
  });
});
afterAll(() => h?.close());

const newNumber = () => `+1555${randomInt(1_000_000, 9_999_999)}`;
const enc = encodeURIComponent;
const newAgentId = () => `agent-${randomInt(1e9)}`;

describe('agents', () => {
  it('POST creates version 1; PATCH merges, removes with null and increments the version; DELETE refuses while numbers route to it', async () => {
    const agentId = newAgentId();
    const created = await h.request('POST', '/agents', {
      agentId,
      name: 'Support',
      prompt: 'Be kind.',
      topics: ['maize'],
      resumeWindow: '5m',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ agentId, version: 1, name: 'Support', prompt: 'Be kind.', topics: ['maize'], resumeWindow: '5m' });
    expect((await h.request('POST', '/agents', { agentId, name: 'Again' })).status).toBe(409);

    const patched = await h.request('PATCH', `/agents/${agentId}`, { firstMessage: 'Welcome!', prompt: null });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ version: 2, name: 'Support', firstMessage: 'Welcome!', topics: ['maize'] });
    expect(patched.body.prompt).toBeUndefined();
    expect((await h.request('GET', `/agents/${agentId}`)).body).toEqual(patched.body);
    expect((await h.request('GET', '/agents')).body.agents.map((a: { agentId: string }) => a.agentId)).toContain(agentId);

    const number = newNumber();
    expect((await h.request('PUT', `/numbers/${enc(number)}`, { agentId, tags: ['main'] })).status).toBe(201);
    expect((await h.request('PUT', `/numbers/${enc(number)}`, { agentId })).status).toBe(200);
    expect((await h.request('GET', `/numbers/${enc(number)}`)).body).toMatchObject({ number, agentId, tags: [] });
    expect((await h.request('GET', '/numbers')).body.numbers.map((n: { number: string }) => n.number)).toContain(number);
    const refused = await h.request('DELETE', `/agents/${agentId}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.details).toEqual({ numbers: [number] });

    expect((await h.request('DELETE', `/numbers/${enc(number)}`)).status).toBe(204);
    expect((await h.request('DELETE', `/numbers/${enc(number)}`)).status).toBe(404);
    expect((await h.request('DELETE', `/agents/${agentId}`)).status).toBe(204);
    for (const [method, path] of [
      ['GET', `/agents/${agentId}`],
      ['PATCH', `/agents/${agentId}`],
      ['DELETE', `/agents/${agentId}`],
    ] as const) {
      expect((await h.request(method, path, method === 'PATCH' ? { name: 'x' } : undefined)).status, `${method} ${path}`).toBe(404);
    }
    expect((await h.request('PUT', `/numbers/${enc(number)}`, { agentId })).status).toBe(404);
    expect(await h.rows('SELECT 1 FROM agents WHERE agent_id = $1', [agentId])).toEqual([]);
  });

  it('is for operators only, and bad input is a 400 that changes nothing', async () => {
    const as = { authorization: await h.tokenFor(newNumber()) };
    expect((await h.request('GET', '/agents', undefined, as)).status).toBe(403);
    expect((await h.request('POST', '/agents', { name: 'Mine' }, as)).status).toBe(403);
    expect((await h.request('PUT', `/numbers/${enc(newNumber())}`, { agentId: 'x' }, as)).status).toBe(403);
    const agentId = newAgentId();
    for (const body of [
      { agentId },
      { agentId, name: 'x', resumeWindow: 'soon' },
      { agentId, name: 'x', responder: { kind: 'openai' } },
      { agentId, name: 'x', script: { slots: [] } },
      { agentId, name: 'x', colour: 'red' },
      { agentId, name: 'x', reportUrl: 'not a url' },
    ]) {
      const res = await h.request('POST', '/agents', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect((await h.request('PATCH', `/agents/${agentId}`, {})).status).toBe(400);
    expect((await h.request('PUT', '/numbers/not-a-number!', { agentId })).status).toBe(400);
    expect(await h.rows('SELECT 1 FROM agents WHERE agent_id = $1', [agentId])).toEqual([]);
  });
});

describe("a call's agent", () => {
  it('named at start, or found by the number called; snapshotted, so an edit reaches new calls only', async () => {
    const agentId = newAgentId();
    await h.request('POST', '/agents', { agentId, name: 'Front desk', firstMessage: 'Hi, this is the front desk.', resumeWindow: '90s' });
    const chat = newCallId();
    const started = await h.request('POST', '/calls', { callId: chat, channel: 'chat', from: newNumber(), agentId });
    expect(started.status).toBe(201);
    expect(started.body.agent).toEqual({ agentId, version: 1, name: 'Front desk' });
    // The opening line is turn 1, written with the start.
    expect(started.body.turnCount).toBe(1);
    expect(await turnRows(h, chat)).toEqual([{ seq: 1, role: 'assistant', text: 'Hi, this is the front desk.' }]);
    const [row] = await h.rows('SELECT agent FROM calls WHERE call_id = $1', [chat]);
    expect(row.agent).toEqual({ agentId, version: 1, name: 'Front desk' });
    // The agent's window replaces the global one.
    const dropped = await h.request('POST', `/calls/${chat}/drop`, {});
    expect(Date.parse(dropped.body.resumeDeadline) - Date.parse(dropped.body.droppedAt)).toBe(90_000);

    await h.request('PATCH', `/agents/${agentId}`, { name: 'Front desk 2' });
    const number = newNumber();
    await h.request('PUT', `/numbers/${enc(number)}`, { agentId });
    const voice = newCallId();
    const inbound = await h.request('POST', '/calls', { callId: voice, channel: 'voice', from: newNumber(), to: number });
    expect(inbound.body.agent).toEqual({ agentId, version: 2, name: 'Front desk 2' });
    expect(inbound.body.turnCount).toBe(0); // a voice call's pipeline speaks its own greeting
    expect((await h.request('GET', `/calls/${chat}`)).body.agent).toEqual({ agentId, version: 1, name: 'Front desk' });
    expect(
      (await h.request('POST', '/calls', { callId: newCallId(), channel: 'chat', from: newNumber(), agentId: 'no-such-agent' })).status,
    ).toBe(400);
    const none = await h.request('POST', '/calls', { callId: newCallId(), channel: 'chat', from: newNumber() });
    expect(none.body.agent).toBeNull();
  });

  it("a script's slots are asked in order and filled, across a drop and resume; topics and recent messages are kept", async () => {
    const agentId = newAgentId();
    await h.request('POST', '/agents', {
      agentId,
      name: 'ChatterKeep',
      responder: { kind: 'scripted' },
      topics: ['maize', 'beans'],
      script: {
        slots: [
          { name: 'name', ask: 'What is your name?' },
          { name: 'song', ask: 'What is your favourite song?' },
        ],
        done: 'Thanks {name}! {song} it is.',
      },
    });
    const id = newCallId();
    await h.request('POST', '/calls', { callId: id, channel: 'chat', from: newNumber(), agentId });
    const say = async (text: string) => (await h.request('POST', `/calls/${id}/messages`, { text })).body.reply.text as string;
    expect(await say('hi, my beans are fine')).toBe('What is your name?');
    expect(await say('My name is Ada')).toBe('What is your favourite song?');
    await h.request('POST', `/calls/${id}/drop`, {});
    expect(await say('Yellow Submarine')).toBe('Thanks Ada! Yellow Submarine it is.');
    expect(await say('what is my name? the maize too')).toBe('Your name is Ada.');
    const [row] = await h.rows('SELECT context, resume_count FROM calls WHERE call_id = $1', [id]);
    expect(row.resume_count).toBe(1);
    expect(row.context).toEqual({
      name: 'Ada',
      state: 'complete',
      slots: { name: 'Ada', song: 'Yellow Submarine' },
      topics: ['beans', 'maize'],
      recentQueries: ['hi, my beans are fine', 'My name is Ada', 'Yellow Submarine', 'what is my name? the maize too'],
    });
  });

  it("a call started by the event feed takes the agent of the number called and its caller's profile", async () => {
    const agentId = newAgentId();
    await h.request('POST', '/agents', { agentId, name: 'Hotline', idleTimeout: '2m' });
    const [called, caller] = [newNumber(), newNumber()];
    await h.request('PUT', `/numbers/${enc(called)}`, { agentId });
    await h.request('PUT', `/callers/${enc(caller)}`, { name: 'Grace' });
    const callId = newCallId();
    const body = JSON.stringify({
      eventId: `${callId}-start`,
      type: 'call.started',
      callId,
      data: { channel: 'voice', from: caller, to: called },
    });
    const res = await h.app.request('/v1/webhooks/events', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'x-signature': signFeedBody(WEBHOOK_SECRET, body) },
    });
    expect(res.status).toBe(202);
    const view = await eventually(async () => {
      const [row] = await h.rows('SELECT agent, context FROM calls WHERE call_id = $1', [callId]);
      expect(row).toBeDefined();
      return row;
    });
    expect(view).toEqual({ agent: { agentId, version: 1, name: 'Hotline' }, context: { name: 'Grace' } });
  });

  it("a model agent's prompt and settings reach the responder", async () => {
    const agentId = newAgentId();
    await h.request('POST', '/agents', {
      agentId,
      name: 'Model',
      prompt: 'You are Bob.',
      responder: { kind: 'openai', model: 'small-1', temperature: 0.2, maxTokens: 50 },
    });
    const id = newCallId();
    await h.request('POST', '/calls', { callId: id, channel: 'chat', from: newNumber(), agentId });
    const reply = await h.request('POST', `/calls/${id}/messages`, { text: 'hello' });
    expect(reply.status).toBe(200);
    expect(reply.body.reply.text).toBe('model says hi to hello');
    expect(asked.find((a) => a.callId === id)?.agent).toEqual({
      prompt: 'You are Bob.',
      kind: 'openai',
      model: 'small-1',
      temperature: 0.2,
      maxTokens: 50,
    });
  });
});
