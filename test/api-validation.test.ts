// Every endpoint against malformed input: a 4xx in the one error shape, never a 5xx, and nothing recorded.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../api/app.js';
import { MessageBody, StartCallBody, VoiceTurnBody } from '../api/schemas.js';
import { expectEverywhere } from './support/assertions.js';
import { ADMIN_KEY, createHarness, type Harness } from './support/harness.js';

let h: Harness;
const run = randomUUID().slice(0, 8);
const caller = `+1888${Date.now() % 10_000_000}`;
const live = `val-${run}-live`;
const unknown = `val-${run}-nobody`;
const big = 'x'.repeat(70 * 1024);

beforeAll(async () => {
  h = await createHarness();
  expect((await h.request('POST', '/calls', { callId: live, channel: 'chat', from: caller })).status).toBe(201);
  await expectEverywhere(h, live, { status: 'active', turnCount: 0 });
});
afterAll(() => h?.close());

/** Rows this file could have written: calls from its caller or with its ids, and their events. */
async function footprint() {
  const [row] = await h.rows(
    `SELECT (SELECT count(*) FROM calls WHERE from_number = $1 OR call_id LIKE $2)::int AS calls,
            (SELECT count(*) FROM call_events e JOIN calls c USING (call_id) WHERE c.from_number = $1 OR c.call_id LIKE $2)::int AS events`,
    [caller, `val-${run}-%`],
  );
  return row as { calls: number; events: number };
}

type Case = [name: string, method: string, path: string, body?: unknown, status?: number, code?: string, headers?: Record<string, string>];
const call = (id: string, rest = '') => `/calls/${id}${rest}`;
const json = (status = 400, code = 'invalid_request') => [status, code] as const;

const cases: Case[] = [
  // POST /calls
  ['start: malformed JSON', 'POST', '/calls', '{"channel": "chat",', ...json()],
  ['start: array body', 'POST', '/calls', [], ...json()],
  ['start: null body', 'POST', '/calls', 'null', ...json()],
  ['start: empty body', 'POST', '/calls', '', ...json()],
  ['start: wrong type', 'POST', '/calls', { channel: 5, from: caller }, ...json()],
  ['start: unknown channel', 'POST', '/calls', { channel: 'fax', from: caller }, ...json()],
  ['start: missing channel', 'POST', '/calls', { from: caller }, ...json()],
  ['start: operator without from', 'POST', '/calls', { channel: 'chat', callId: `val-${run}-nofrom` }, ...json()],
  ['start: unknown field', 'POST', '/calls', { channel: 'chat', from: caller, callId: `val-${run}-x1`, color: 'red' }, ...json()],
  ['start: __proto__ field', 'POST', '/calls', `{"channel":"chat","from":"${caller}","__proto__":{"admin":true}}`, ...json()],
  ['start: bad from', 'POST', '/calls', { channel: 'chat', from: 'not a number!' }, ...json()],
  ['start: bad callId', 'POST', '/calls', { channel: 'chat', from: caller, callId: 'has spaces/slash' }, ...json()],
  ['start: callId too long', 'POST', '/calls', { channel: 'chat', from: caller, callId: `val-${run}-${'a'.repeat(130)}` }, ...json()],
  ['start: metadata not an object', 'POST', '/calls', { channel: 'chat', from: caller, metadata: 'x' }, ...json()],
  [
    'start: NUL in metadata',
    'POST',
    '/calls',
    { channel: 'chat', from: caller, callId: `val-${run}-nul`, metadata: { note: 'a\u0000b' } },
    ...json(),
  ],
  [
    'start: NUL in a metadata key',
    'POST',
    '/calls',
    { channel: 'chat', from: caller, callId: `val-${run}-nulkey`, metadata: { 'a\u0000': 1 } },
    ...json(),
  ],
  [
    'start: deeply nested metadata',
    'POST',
    '/calls',
    `{"channel":"chat","from":"${caller}","callId":"val-${run}-deep","metadata":{"a":${'['.repeat(5000)}${']'.repeat(5000)}}}`,
    ...json(),
  ],
  ['start: text/plain', 'POST', '/calls', { channel: 'chat', from: caller }, ...json(), { 'content-type': 'text/plain' }],
  ['start: oversized', 'POST', '/calls', { channel: 'chat', from: caller, metadata: { big } }, ...json(413, 'payload_too_large')],
  // GET /calls/{callId}
  ['view: unknown call', 'GET', call(unknown), undefined, ...json(404, 'not_found')],
  ['view: bad id', 'GET', call('bad%20id!'), undefined, ...json()],
  ['view: id too long', 'GET', call('a'.repeat(129)), undefined, ...json()],
  ['view: malformed escape', 'GET', call('%E0%A4%A'), undefined, ...json()],
  // GET /calls/{callId}/turns
  ['turns: unknown call', 'GET', call(unknown, '/turns'), undefined, ...json(404, 'not_found')],
  ['turns: limit 0', 'GET', call(live, '/turns?limit=0'), undefined, ...json()],
  ['turns: limit 201', 'GET', call(live, '/turns?limit=201'), undefined, ...json()],
  ['turns: limit abc', 'GET', call(live, '/turns?limit=abc'), undefined, ...json()],
  ['turns: limit 1.5', 'GET', call(live, '/turns?limit=1.5'), undefined, ...json()],
  ['turns: bad cursor', 'GET', call(live, '/turns?cursor=-1'), undefined, ...json()],
  ['turns: unknown param', 'GET', call(live, '/turns?page=2'), undefined, ...json()],
  // POST /calls/{callId}/messages
  ['message: malformed JSON', 'POST', call(live, '/messages'), '{"text":', ...json()],
  ['message: wrong type', 'POST', call(live, '/messages'), { text: 5 }, ...json()],
  ['message: missing text', 'POST', call(live, '/messages'), {}, ...json()],
  ['message: blank text', 'POST', call(live, '/messages'), { text: '   ' }, ...json()],
  ['message: text too long', 'POST', call(live, '/messages'), { text: 'a'.repeat(4001) }, ...json()],
  ['message: NUL in text', 'POST', call(live, '/messages'), { text: 'hi\u0000there' }, ...json()],
  ['message: NUL in messageId', 'POST', call(live, '/messages'), { text: 'hi', messageId: 'a\u0000' }, ...json()],
  ['message: unknown field', 'POST', call(live, '/messages'), { text: 'hi', role: 'system' }, ...json()],
  ['message: messageId too long', 'POST', call(live, '/messages'), { text: 'hi', messageId: 'm'.repeat(201) }, ...json()],
  ['message: idempotency key too long', 'POST', call(live, '/messages'), { text: 'hi' }, ...json(), { 'idempotency-key': 'k'.repeat(300) }],
  ['message: oversized', 'POST', call(live, '/messages'), { text: big }, ...json(413, 'payload_too_large')],
  ['message: unknown call', 'POST', call(unknown, '/messages'), { text: 'hi' }, ...json(404, 'not_found')],
  // POST /calls/{callId}/turns
  ['voice turn: unknown role', 'POST', call(live, '/turns'), { role: 'bot', text: 'hi' }, ...json()],
  ['voice turn: missing text', 'POST', call(live, '/turns'), { role: 'user' }, ...json()],
  ['voice turn: bad at', 'POST', call(live, '/turns'), { role: 'user', text: 'hi', at: 'yesterday' }, ...json()],
  [
    'voice turn: at with an offset PostgreSQL refuses',
    'POST',
    call(live, '/turns'),
    { role: 'user', text: 'hi', at: '2026-11-26T10:00:00+20:00' },
    ...json(),
  ],
  ['voice turn: at in year 0000', 'POST', call(live, '/turns'), { role: 'user', text: 'hi', at: '0000-01-01T00:00:00Z' }, ...json()],
  ['voice turn: NUL in eventId', 'POST', call(live, '/turns'), { role: 'user', text: 'hi', eventId: '\u0000' }, ...json()],
  ['voice turn: unknown field', 'POST', call(live, '/turns'), { role: 'user', text: 'hi', speaker: 'x' }, ...json()],
  [
    'voice turn: idempotency key too long',
    'POST',
    call(live, '/turns'),
    { role: 'user', text: 'hi' },
    ...json(),
    { 'idempotency-key': 'k'.repeat(300) },
  ],
  ['voice turn: oversized', 'POST', call(live, '/turns'), { role: 'user', text: big }, ...json(413, 'payload_too_large')],
  ['voice turn: unknown call', 'POST', call(unknown, '/turns'), { role: 'user', text: 'hi' }, ...json(404, 'not_found')],
  // drop, resume, end
  ['drop: malformed JSON', 'POST', call(live, '/drop'), '{', ...json()],
  ['drop: wrong type', 'POST', call(live, '/drop'), { reason: 5 }, ...json()],
  ['drop: unknown field', 'POST', call(live, '/drop'), { why: 'x' }, ...json()],
  ['drop: NUL in reason', 'POST', call(live, '/drop'), { reason: '\u0000' }, ...json()],
  ['drop: text/plain', 'POST', call(live, '/drop'), 'gone', ...json(), { 'content-type': 'text/plain' }],
  ['drop: oversized', 'POST', call(live, '/drop'), { reason: big }, ...json(413, 'payload_too_large')],
  ['drop: unknown call', 'POST', call(unknown, '/drop'), {}, ...json(404, 'not_found')],
  ['resume: unknown field', 'POST', call(live, '/resume'), { force: true }, ...json()],
  ['resume: malformed JSON', 'POST', call(live, '/resume'), '[', ...json()],
  ['resume: unknown call', 'POST', call(unknown, '/resume'), {}, ...json(404, 'not_found')],
  ['end: unknown disposition', 'POST', call(live, '/end'), { disposition: 'exploded' }, ...json()],
  ['end: wrong type', 'POST', call(live, '/end'), { disposition: 1 }, ...json()],
  ['end: unknown field', 'POST', call(live, '/end'), { when: 'now' }, ...json()],
  ['end: idempotency key too long', 'POST', call(live, '/end'), {}, ...json(), { 'idempotency-key': 'k'.repeat(300) }],
  ['end: unknown call', 'POST', call(unknown, '/end'), {}, ...json(404, 'not_found')],
  // GET /calls
  ['list: unknown status', 'GET', '/calls?status=busy', undefined, ...json()],
  ['list: unknown channel', 'GET', '/calls?channel=fax', undefined, ...json()],
  ['list: bad from', 'GET', '/calls?from=%21%21', undefined, ...json()],
  ['list: bad since', 'GET', '/calls?since=yesterday', undefined, ...json()],
  ['list: bad until', 'GET', '/calls?until=2024-13-40', undefined, ...json()],
  ['list: until with an offset PostgreSQL refuses', 'GET', '/calls?until=2026-11-26T10:00:00-16:00', undefined, ...json()],
  ['list: since in year 0000', 'GET', '/calls?since=0000-06-01T00:00:00Z', undefined, ...json()],
  ['list: since after until', 'GET', '/calls?since=2024-02-01T00:00:00Z&until=2024-01-01T00:00:00Z', undefined, ...json()],
  ['list: limit 0', 'GET', '/calls?limit=0', undefined, ...json()],
  ['list: limit 201', 'GET', '/calls?limit=201', undefined, ...json()],
  ['list: limit abc', 'GET', '/calls?limit=abc', undefined, ...json()],
  ['list: cursor not base64url', 'GET', '/calls?cursor=%21%21%21', undefined, ...json()],
  ['list: cursor not ours', 'GET', `/calls?cursor=${Buffer.from('{"a":1}').toString('base64url')}`, undefined, ...json()],
  [
    'list: cursor with a bad time',
    'GET',
    `/calls?cursor=${Buffer.from('["2024-99-99T00:00:00.000000Z","x"]').toString('base64url')}`,
    undefined,
    ...json(),
  ],
  ['list: repeated status', 'GET', '/calls?status=active&status=ended', undefined, ...json()],
  ['list: unknown param', 'GET', '/calls?sort=asc', undefined, ...json()],
  // GET /stats
  ['stats: days 0', 'GET', '/stats?days=0', undefined, ...json()],
  ['stats: days 32', 'GET', '/stats?days=32', undefined, ...json()],
  ['stats: days abc', 'GET', '/stats?days=abc', undefined, ...json()],
  ['stats: unknown param', 'GET', '/stats?channel=chat', undefined, ...json()],
  // POST /auth/tokens
  ['token: malformed JSON', 'POST', '/auth/tokens', '{"subject"', ...json()],
  ['token: wrong type', 'POST', '/auth/tokens', { subject: 15550001111 }, ...json()],
  ['token: missing subject', 'POST', '/auth/tokens', {}, ...json()],
  ['token: bad subject', 'POST', '/auth/tokens', { subject: 'drop table;' }, ...json()],
  ['token: unknown field', 'POST', '/auth/tokens', { subject: caller, admin: true }, ...json()],
  ['token: oversized', 'POST', '/auth/tokens', { subject: caller, pad: big }, ...json(413, 'payload_too_large')],
  // callers, agents, numbers, the audit trail
  ['caller: not E.164-ish', 'PUT', '/callers/not%20a%20number!', { name: 'x' }, ...json()],
  ['caller: malformed JSON', 'PUT', `/callers/${encodeURIComponent(caller)}`, '{"name":', ...json()],
  ['caller: wrong type', 'PUT', `/callers/${encodeURIComponent(caller)}`, { tags: 'vip' }, ...json()],
  ['caller: unknown field', 'PUT', `/callers/${encodeURIComponent(caller)}`, { nickname: 'x' }, ...json()],
  ['caller: NUL in name', 'PUT', `/callers/${encodeURIComponent(caller)}`, { name: 'a\u0000b' }, ...json()],
  [
    'caller: oversized',
    'PUT',
    `/callers/${encodeURIComponent(caller)}`,
    { name: 'x', metadata: { big } },
    ...json(413, 'payload_too_large'),
  ],
  ['caller: empty patch', 'PATCH', `/callers/${encodeURIComponent(caller)}`, {}, ...json()],
  ['caller: unknown erase', 'DELETE', `/callers/${encodeURIComponent(caller)}?erase=all`, undefined, ...json()],
  ['agent: missing name', 'POST', '/agents', { prompt: 'x' }, ...json()],
  ['agent: bad duration', 'POST', '/agents', { name: 'x', resumeWindow: 'soon' }, ...json()],
  ['agent: bad responder', 'POST', '/agents', { name: 'x', responder: { kind: 'gpt' } }, ...json()],
  ['agent: unknown agent', 'GET', '/agents/nobody-here', undefined, ...json(404, 'not_found')],
  ['agent: bad id', 'GET', '/agents/has%20space', undefined, ...json()],
  ['number: unknown agent', 'PUT', `/numbers/${encodeURIComponent(caller)}`, { agentId: 'nobody-here' }, ...json(404, 'not_found')],
  ['number: not a number', 'PUT', '/numbers/abc%20def', { agentId: 'x' }, ...json()],
  ['number: not E.164', 'PUT', '/numbers/5551234567', { agentId: 'x' }, ...json()],
  ['number: missing agentId', 'PUT', `/numbers/${encodeURIComponent(caller)}`, {}, ...json()],
  [
    'start: unknown agent',
    'POST',
    '/calls',
    { channel: 'chat', from: caller, callId: `val-${run}-agent`, agentId: 'nobody-here' },
    ...json(),
  ],
  ['events: unknown type', 'GET', call(live, '/events?type=exploded'), undefined, ...json()],
  ['events: bad cursor', 'GET', call(live, '/events?cursor=-1'), undefined, ...json()],
  ['events: unknown call', 'GET', call(unknown, '/events'), undefined, ...json(404, 'not_found')],
  // unknown routes
  ['unknown route', 'GET', '/nothing-here', undefined, ...json(404, 'not_found')],
  ['unknown method', 'DELETE', call(live), undefined, ...json(405, 'method_not_allowed')],
];

function expectClientError(res: { status: number; body: any }, status: number | undefined, code: string | undefined) {
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  if (status !== undefined) expect(res.status).toBe(status);
  expect(res.body).toEqual({ error: expect.objectContaining({ code: code ?? expect.any(String), message: expect.any(String) }) });
}

describe('validation', () => {
  let before: { calls: number; events: number };
  beforeAll(async () => {
    before = await footprint();
  });

  it.each(cases)('%s → 4xx in the error shape', async (_name, method, path, body, status, code, headers) => {
    const res = await h.request(method, path, body, headers);
    expectClientError(res, status, code);
    if (status === 400) expect(res.body.error.code).toBe('invalid_request');
  });

  it('an oversized body without a content-length (streamed) gets 413', async () => {
    const chunk = new TextEncoder().encode(big);
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(chunk);
        c.close();
      },
    });
    const res = await h.app.request(`/v1/calls/${live}/messages`, {
      method: 'POST',
      body: stream,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect((await res.json()).error.code).toBe('payload_too_large');
  });

  it('a 413 closes its connection: the next request from the same keep-alive pool works', async () => {
    const server = serve({ fetch: h.app.fetch, port: 0, hostname: '127.0.0.1' });
    await once(server, 'listening');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const send = (path: string, body: string, chunked = false) =>
      new Promise<{ status: number; connection?: string }>((resolve, reject) => {
        const req = http.request(
          {
            agent,
            host: '127.0.0.1',
            port: (server.address() as AddressInfo).port,
            path,
            method: 'POST',
            headers: {
              authorization: `Bearer ${ADMIN_KEY}`,
              'content-type': 'application/json',
              ...(chunked ? {} : { 'content-length': Buffer.byteLength(body) }),
            },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection }));
          },
        );
        req.on('error', reject);
        // Without a Content-Length Node sends the body chunked: the limit then counts it as it streams.
        if (chunked) req.write(body.slice(0, MAX_BODY_BYTES));
        req.end(chunked ? body.slice(MAX_BODY_BYTES) : body);
      });
    try {
      const huge = JSON.stringify({ text: 'x'.repeat(4 * MAX_BODY_BYTES) });
      expect(await send(`/v1/calls/${live}/messages`, huge)).toEqual({ status: 413, connection: 'close' });
      expect(await send(`/v1/calls/${live}/messages`, huge, true)).toEqual({ status: 413, connection: 'close' });
      for (let i = 0; i < 3; i++) expect((await send(`/v1/calls/${unknown}/drop`, '{}')).status).toBe(404);
    } finally {
      agent.destroy();
      server.close();
    }
  });

  it('random bodies that the schemas reject never get a 5xx', async () => {
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const values = (depth: number): unknown => {
      const pick = Math.floor(rand() * (depth > 2 ? 6 : 8));
      const key = ['text', 'channel', 'from', 'role', 'reason', 'disposition', 'subject', 'callId', 'metadata', 'x'][
        Math.floor(rand() * 10)
      ]!;
      const make = [
        () => null,
        () => true,
        () => -1.5,
        () => '',
        () => 'chat',
        () => '+15550001111',
        () => [values(depth + 1)],
        () => ({ [key]: values(depth + 1), text: values(depth + 1) }),
      ];
      return make[pick]!();
    };
    const targets: [string, { safeParse(v: unknown): { success: boolean } } | null][] = [
      ['/calls', StartCallBody],
      [call(live, '/messages'), MessageBody],
      [call(live, '/turns'), VoiceTurnBody],
      [call(unknown, '/drop'), null],
      [call(unknown, '/end'), null],
      ['/auth/tokens', null],
    ];
    for (let i = 0; i < 150; i++) {
      const [path, schema] = targets[i % targets.length]!;
      const body = values(0);
      if (schema?.safeParse(body).success) continue;
      if (path === '/auth/tokens' && typeof (body as any)?.subject === 'string') continue;
      const res = await h.request('POST', path, JSON.stringify(body));
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBeLessThan(500);
      expect(res.body.error, `${path} ${JSON.stringify(body)}`).toBeDefined();
    }
  });

  it('nothing was recorded by any rejected request', async () => {
    // A valid message is a barrier: once its two turns are recorded, anything sent earlier has been too.
    expect((await h.request('POST', call(live, '/messages'), { text: 'hello' })).status).toBe(200);
    await expectEverywhere(h, live, { status: 'active', turnCount: 2 });
    expect(await footprint()).toEqual({ calls: before.calls, events: before.events + 2 });
    const turns = await h.rows('SELECT text FROM turns WHERE call_id = $1 ORDER BY seq', [live]);
    expect(turns.map((t) => t.text)).toEqual(['hello', 'Hello! How can I help you today?']);
  });
});
