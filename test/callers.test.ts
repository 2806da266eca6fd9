// Caller profiles, their erasure, and a call's audit trail: what an operator and a chat client can see and do.
import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedTurns, expectEverywhere, turnRows } from './support/assertions.js';
import { createHarness, newCallId, type Harness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h?.close());

const newNumber = () => `+1666${randomInt(1_000_000, 9_999_999)}`;
const caller = (number: string) => `/callers/${encodeURIComponent(number)}`;
const say = async (id: string, text: string, headers?: Record<string, string>) => {
  const res = await h.request('POST', `/calls/${id}/messages`, { text }, headers);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.reply.text as string;
};

describe('caller profiles', () => {
  it('PUT creates (201) then replaces (200); PATCH changes only what it is given; GET and DELETE; 404 when absent', async () => {
    const number = newNumber();
    const created = await h.request('PUT', caller(number), { name: 'Grace', language: 'en', tags: ['vip'], metadata: { crop: 'maize' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ number, name: 'Grace', language: 'en', locale: null, tags: ['vip'], metadata: { crop: 'maize' } });
    const replaced = await h.request('PUT', caller(number), { name: 'Grace H.' });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ name: 'Grace H.', language: null, tags: [], metadata: {}, createdAt: created.body.createdAt });
    const patched = await h.request('PATCH', caller(number), { locale: 'en-GB', tags: ['a', 'b'] });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'Grace H.', locale: 'en-GB', tags: ['a', 'b'] });
    expect((await h.request('GET', caller(number))).body).toEqual(patched.body);
    expect(await h.rows('SELECT name, locale, tags FROM callers WHERE number = $1', [number])).toEqual([
      { name: 'Grace H.', locale: 'en-GB', tags: ['a', 'b'] },
    ]);

    expect((await h.request('DELETE', caller(number))).status).toBe(204);
    for (const [method, body] of [['GET'], ['PATCH', { name: 'x' }], ['DELETE']] as const) {
      const res = await h.request(method, caller(number), body);
      expect(res.status, method).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    }
    expect(await h.rows('SELECT 1 FROM callers WHERE number = $1', [number])).toEqual([]);
  });

  it("a chat client's token reaches its own profile only", async () => {
    const mine = newNumber();
    const theirs = newNumber();
    const as = { authorization: await h.tokenFor(mine) };
    expect((await h.request('PUT', caller(mine), { name: 'Me' }, as)).status).toBe(201);
    expect((await h.request('GET', caller(mine), undefined, as)).body.name).toBe('Me');
    for (const [method, body] of [['PUT', { name: 'Them' }], ['GET'], ['PATCH', { name: 'x' }], ['DELETE']] as const) {
      const res = await h.request(method, caller(theirs), body, as);
      expect(res.status, method).toBe(403);
    }
    expect(await h.rows('SELECT 1 FROM callers WHERE number = $1', [theirs])).toEqual([]);
  });

  it("a call starts with the profile's name in its context, and a name learned in a call updates the profile", async () => {
    const number = newNumber();
    await h.request('PUT', caller(number), { name: 'Grace', language: 'en' });
    const id = newCallId();
    const started = await h.request('POST', '/calls', { callId: id, channel: 'chat', from: number });
    expect(started.body.context).toEqual({ name: 'Grace', language: 'en' });
    expect(await say(id, 'what is my name?')).toBe('Your name is Grace.');

    const next = newCallId();
    await h.request('POST', '/calls', { callId: next, channel: 'chat', from: number });
    await say(next, "I'm Ada");
    expect((await h.request('GET', caller(number))).body).toMatchObject({ name: 'Ada', language: 'en' });
  });

  it("erasure replaces the text of the caller's ended calls (PostgreSQL and cache), leaves open calls, and deletes the profile", async () => {
    const number = newNumber();
    await h.request('PUT', caller(number), { name: 'Lin' });
    const ended = newCallId();
    const open = newCallId();
    for (const id of [ended, open]) {
      await h.request('POST', '/calls', { callId: id, channel: 'chat', from: number });
      await say(id, 'my secret is 1234');
    }
    await h.request('POST', `/calls/${ended}/end`, {});
    await expectEverywhere(h, ended, { status: 'ended' });
    expect(await cachedTurns(h, ended)).toHaveLength(2);

    const erased = await h.request('DELETE', `${caller(number)}?erase=transcripts`);
    expect(erased.status).toBe(200);
    expect(erased.body).toEqual({ erased: { calls: 1, turns: 2, recordings: 0 } });
    expect((await turnRows(h, ended)).map((t) => t.text)).toEqual(['[erased]', '[erased]']);
    expect(await h.redis.exists(`call:${ended}:turns`)).toBe(0);
    const transcript = await h.request('GET', `/calls/${ended}/turns`);
    expect(transcript.body.turns.map((t: { text: string }) => t.text)).toEqual(['[erased]', '[erased]']);
    // Nor do the audit trail and the call's memory keep the words.
    const audit = await h.rows('SELECT payload FROM call_events WHERE call_id = $1', [ended]);
    expect(JSON.stringify(audit)).not.toContain('1234');
    expect(JSON.stringify((await h.request('GET', `/calls/${ended}`)).body)).not.toContain('1234');
    expect((await turnRows(h, open)).map((t) => t.text)).toContain('my secret is 1234');
    expect((await h.request('GET', caller(number))).status).toBe(404);
    // Again: nothing more to erase.
    expect((await h.request('DELETE', `${caller(number)}?erase=transcripts`)).body).toEqual({
      erased: { calls: 1, turns: 0, recordings: 0 },
    });
  });

  it('bad input is a 400 in the error shape and changes nothing', async () => {
    const number = newNumber();
    for (const [method, path, body] of [
      ['PUT', caller('not a number!'), { name: 'x' }],
      ['PUT', caller(number), { name: 5 }],
      ['PUT', caller(number), { nickname: 'x' }],
      ['PUT', caller(number), { language: 'english please' }],
      ['PUT', caller(number), { name: 'a\u0000b' }],
      ['PUT', caller(number), { tags: 'vip' }],
      ['PUT', caller(number), '{"name":'],
      ['PATCH', caller(number), {}],
      ['DELETE', `${caller(number)}?erase=everything`, undefined],
    ] as const) {
      const res = await h.request(method, path, body);
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
    expect(await h.rows('SELECT 1 FROM callers WHERE number = $1', [number])).toEqual([]);
  });
});

describe('the audit trail: GET /calls/{callId}/events', () => {
  it('lists every recorded event oldest first, by type, a page at a time, for the owner and operators', async () => {
    const number = newNumber();
    const id = newCallId();
    const as = { authorization: await h.tokenFor(number) };
    await h.request('POST', '/calls', { callId: id, channel: 'chat', from: number }, as);
    await say(id, 'hello', as);
    await h.request('POST', `/calls/${id}/drop`, { reason: 'tab closed' }, as);
    expect((await h.request('POST', `/calls/${id}/drop`, {}, as)).status).toBe(409); // refused while dropped, recorded as ignored
    await say(id, 'back again', as);
    await expectEverywhere(h, id, { turnCount: 4 });

    const all = await h.request('GET', `/calls/${id}/events`, undefined, as);
    expect(all.status).toBe(200);
    expect(all.body.events.map((e: { seq: number; type: string; applied: boolean }) => [e.seq, e.type, e.applied])).toEqual([
      [1, 'started', true],
      [2, 'message', true],
      [3, 'reply', true],
      [4, 'drop', true],
      [5, 'drop', false],
      [6, 'resume', true],
      [7, 'message', true],
      [8, 'reply', true],
    ]);
    expect(all.body.events[3]).toMatchObject({
      key: expect.any(String),
      payload: { reason: 'tab closed' },
      occurredAt: expect.any(String),
      recordedAt: expect.any(String),
    });
    const seqs = all.body.events.map((e: { seq: number }) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

    const replies = await h.request('GET', `/calls/${id}/events?type=reply`);
    expect(replies.body.events.map((e: { type: string }) => e.type)).toEqual(['reply', 'reply']);

    const pages: number[][] = [];
    let cursor: string | null = '0';
    while (cursor !== null) {
      const page: { status: number; body: any } = await h.request('GET', `/calls/${id}/events?limit=3&cursor=${cursor}`);
      expect(page.status).toBe(200);
      pages.push(page.body.events.map((e: { seq: number }) => e.seq));
      cursor = page.body.nextCursor;
    }
    expect(pages.flat()).toEqual(seqs);
    expect(pages[0]).toHaveLength(3);

    const other = { authorization: await h.tokenFor(newNumber()) };
    expect((await h.request('GET', `/calls/${id}/events`, undefined, other)).status).toBe(403);
    expect((await h.request('GET', `/calls/${newCallId()}/events`)).status).toBe(404);
    expect((await h.request('GET', `/calls/${id}/events?type=exploded`)).status).toBe(400);
  });
});
