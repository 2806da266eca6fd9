// The generic signed event feed: signatures over the raw body, validation, ordering and idempotency.
import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventRows, expectEverywhere, turnRows } from './support/assertions.js';
import { createHarness, eventually, newCallId, WEBHOOK_SECRET, type Harness } from './support/harness.js';
import { monitorRedis } from './support/redis-monitor.js';

const PATH = '/v1/webhooks/events';
const now = () => Math.floor(Date.now() / 1000);

/** X-Signature as the contract documents it, computed here rather than with the app's own helper. */
function sign(raw: string, { secret = WEBHOOK_SECRET, t = now() } = {}): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${raw}`).digest('hex')}`;
}

/** Posts an event (an object is JSON-encoded; a string is sent as is), signed unless a header (or null) is given. */
async function post(h: Harness, event: unknown, opts: { signature?: string | null; secret?: string; t?: number } = {}) {
  const raw = typeof event === 'string' ? event : JSON.stringify(event);
  const signature = opts.signature === undefined ? sign(raw, opts) : opts.signature;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (signature !== null) headers['x-signature'] = signature;
  const res = await h.app.request(PATH, { method: 'POST', body: raw, headers });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const started = (callId: string, channel: 'voice' | 'chat' = 'voice', from = '+15550004444') => ({
  eventId: `evt-${randomUUID()}`,
  type: 'call.started',
  callId,
  at: new Date().toISOString(),
  data: { channel, from, to: '+15559990000', direction: 'inbound' },
});
const ev = (callId: string, type: string, data: Record<string, unknown> = {}) => ({ eventId: `evt-${randomUUID()}`, type, callId, data });

async function nothingRecorded(h: Harness, callId: string) {
  expect(await h.rows('SELECT 1 FROM calls WHERE call_id = $1', [callId])).toEqual([]);
  expect(
    await h
      .handle(callId)
      .describe()
      .then(
        () => 'exists',
        () => 'none',
      ),
  ).toBe('none');
}

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h?.close());

describe('POST /webhooks/events: signatures', () => {
  it('accepts a valid signature with 202 {accepted: true}', async () => {
    const callId = newCallId();
    const res = await post(h, started(callId, 'chat'));
    expect(res).toEqual({ status: 202, body: { accepted: true } });
    await expectEverywhere(h, callId, { status: 'active', channel: 'chat', from: '+15550004444' });
    // Still inside the tolerance.
    expect((await post(h, ev(callId, 'call.turn', { role: 'user', text: 'hi' }), { t: now() - 290 })).status).toBe(202);
  });

  it('rejects a wrong secret, a stale or future timestamp, a modified body and malformed headers with 401, recording nothing', async () => {
    const callId = newCallId();
    const event = started(callId);
    const raw = JSON.stringify(event);
    const good = sign(raw);
    const v1 = good.split(',')[1];
    const attempts: [string, Parameters<typeof post>[2] & { body?: string }][] = [
      ['wrong secret', { secret: 'another-secret-0123456789' }],
      ['stale timestamp', { t: now() - 301 }],
      // Well past the tolerance: the attempts before it take time, and a margin of one second was seen to run out.
      ['future timestamp', { t: now() + 600 }],
      ['modified body', { signature: good, body: raw.replace('+15550004444', '+15550009999') }],
      ['trailing whitespace added', { signature: good, body: `${raw} ` }],
      ['missing header', { signature: null }],
      ['garbage', { signature: 'garbage' }],
      ['no timestamp', { signature: v1 }],
      ['no v1', { signature: `t=${now()}` }],
      ['non-numeric t', { signature: `t=abc,${v1}` }],
      ['short v1', { signature: `t=${now()},v1=abcd` }],
      ['duplicate t', { signature: `t=${now()},${good}` }],
    ];
    for (const [label, { body, ...opts }] of attempts) {
      const res = await post(h, body ?? raw, opts);
      expect(res.status, label).toBe(401);
      expect(res.body, label).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    }
    await nothingRecorded(h, callId);
  });

  it('verifies the raw bytes: a signed body that is not even JSON fails as 400 only once the signature holds', async () => {
    expect((await post(h, '{not json', { signature: 't=1,v1=' + '0'.repeat(64) })).status).toBe(401);
    expect((await post(h, '{not json')).status).toBe(400);
  });

  it('is documented in /openapi.json as a JSON body', async () => {
    const doc = await (await h.app.request('/openapi.json')).json();
    const op = doc.paths['/v1/webhooks/events'].post;
    expect(Object.keys(op.requestBody.content)).toEqual(['application/json']);
    expect(op.responses['202']).toBeDefined();
  });
});

describe('POST /webhooks/events: validation', () => {
  const invalid: [string, unknown, string[]][] = [
    ['missing eventId', { type: 'call.answered', callId: 'c-1', data: {} }, ['eventId']],
    ['missing callId', { eventId: 'e-1', type: 'call.answered', data: {} }, ['callId']],
    ['unknown type', { eventId: 'e-1', type: 'call.exploded', callId: 'c-1', data: {} }, ['type']],
    ['turn without text', { eventId: 'e-1', type: 'call.turn', callId: 'c-1', data: { role: 'user' } }, ['data.text']],
    [
      'wrong types',
      { eventId: 7, type: 'call.turn', callId: 'c-1', data: { role: 'robot', text: 42 } },
      ['eventId', 'data.role', 'data.text'],
    ],
    [
      'bad channel and time',
      { eventId: 'e-1', type: 'call.started', callId: 'c 1', at: 'yesterday', data: { channel: 'fax', from: '+1555' } },
      ['callId', 'at', 'data.channel'],
    ],
    ['bad disposition', { eventId: 'e-1', type: 'call.ended', callId: 'c-1', data: { disposition: 'exploded' } }, ['data.disposition']],
    [
      'an offset PostgreSQL refuses',
      { eventId: 'e-1', type: 'call.turn', callId: 'c-1', at: '2026-11-26T10:00:00+16:00', data: { role: 'user', text: 'hi' } },
      ['at'],
    ],
    [
      'NUL in a turn (PostgreSQL refuses it)',
      { eventId: 'e-1', type: 'call.turn', callId: 'c-1', data: { role: 'user', text: 'a\u0000b' } },
      ['data.text'],
    ],
    ['not an object', [1, 2, 3], []],
  ];
  it.each(invalid)('%s → 400 invalid_request with details', async (_label, event, paths) => {
    const res = await post(h, event);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_request', message: expect.any(String), details: expect.any(Array) });
    const got = res.body.error.details.map((d: { path: string }) => d.path);
    for (const path of paths) expect(got).toContain(path);
  });

  it.each([
    ['malformed JSON', '{"eventId": "e-1", '],
    ['empty body', ''],
  ])('%s → 400 invalid_request', async (_label, raw) => {
    const res = await post(h, raw);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { code: 'invalid_request', message: expect.any(String) } });
  });

  it('records nothing for an invalid event', async () => {
    const callId = newCallId();
    expect((await post(h, { ...started(callId), data: { channel: 'fax', from: '+15550004444' } })).status).toBe(400);
    await nothingRecorded(h, callId);
  });
});

describe('POST /webhooks/events: a conversation', () => {
  it('records a whole voice conversation in order, and each duplicate once', async () => {
    const callId = newCallId();
    const lines: [string, string][] = [
      ['user', 'Hello?'],
      ['assistant', 'Hi, this is Callwright.'],
      ['user', 'I need help with my order.'],
      ['assistant', 'Sure, what is the number?'],
    ];
    const events = [
      started(callId),
      ev(callId, 'call.answered'),
      ...lines.map(([role, text]) => ev(callId, 'call.turn', { role, text })),
      ev(callId, 'call.ended', { disposition: 'completed' }),
    ];
    // Every event delivered twice, the second copy right after the next event.
    for (const [i, event] of events.entries()) {
      expect((await post(h, event)).status).toBe(202);
      if (i > 0) expect((await post(h, events[i - 1])).status).toBe(202);
    }
    expect((await post(h, events.at(-1))).status).toBe(202); // a late duplicate on the ended call
    await expectEverywhere(h, callId, { status: 'ended', disposition: 'completed', turnCount: 4, channel: 'voice' });
    expect(await turnRows(h, callId)).toEqual(lines.map(([role, text], i) => ({ seq: i + 1, role, text })));
    const rows = await eventRows(h, callId);
    expect(rows.map((r) => [r.key, r.applied])).toEqual(events.map((e) => [e.eventId, true]));
    expect(rows.map((r) => r.type)).toEqual(['started', 'answered', 'turn', 'turn', 'turn', 'turn', 'end']);
  });

  it('Redis knows which call an event addresses: the start caches the call as its own leg, and a lost key comes back', async () => {
    const callId = newCallId();
    expect((await post(h, started(callId))).status).toBe(202);
    await eventually(async () => expect(await h.redis.get(`leg:${callId}`)).toBe(callId));
    await h.redis.del(`leg:${callId}`); // a flush or an expired key: the next event asks PostgreSQL once
    expect((await post(h, ev(callId, 'call.answered'))).status).toBe(202);
    expect(await h.redis.get(`leg:${callId}`)).toBe(callId);
    expect(await h.redis.ttl(`leg:${callId}`)).toBeGreaterThan(0);
    await expectEverywhere(h, callId, { status: 'active' });
  });

  it('an API remembers which call a leg belongs to: later events skip Redis; once that call closed and the leg is another call’s, it reaches that one', async () => {
    const [first, second, leg] = [newCallId(), newCallId(), newCallId()];
    for (const id of [first, second]) {
      expect((await post(h, started(id))).status).toBe(202);
      expect((await post(h, ev(id, 'call.answered'))).status).toBe(202);
    }
    await h.redis.set(`leg:${leg}`, first); // the leg joined the first call, as a provider's callback decides
    const monitor = await monitorRedis(inject('redisUrl'));
    for (const text of ['one', 'two', 'three']) expect((await post(h, ev(leg, 'call.turn', { role: 'user', text }))).status).toBe(202);
    await expectEverywhere(h, first, { turnCount: 3 });
    await monitor.stop();
    expect(monitor.commandsOn(`leg:${leg}`)).toEqual(['get']);

    // The first call ends; the leg then belongs to the second (a leg changes owner only once its call closed).
    expect((await post(h, ev(first, 'call.ended'))).status).toBe(202);
    await eventually(async () => expect((await h.handle(first).describe()).status.name).toBe('COMPLETED'));
    await h.redis.set(`leg:${leg}`, second);
    expect((await post(h, ev(leg, 'call.turn', { role: 'user', text: 'four' }))).status).toBe(202);
    await expectEverywhere(h, second, { turnCount: 1 });
    expect(await turnRows(h, second)).toEqual([{ seq: 1, role: 'user', text: 'four' }]);
    await expectEverywhere(h, first, { status: 'ended', turnCount: 3 });
  });

  it('drops and resumes a chat conversation; a late event for the ended call gets 202 and changes nothing', async () => {
    const callId = newCallId();
    await post(h, started(callId, 'chat', '+15550005555'));
    await post(h, ev(callId, 'call.turn', { role: 'user', text: 'one' }));
    await post(h, ev(callId, 'call.dropped', { reason: 'network' }));
    await expectEverywhere(h, callId, { status: 'dropped', dropCount: 1 });
    await post(h, ev(callId, 'call.resumed'));
    await expectEverywhere(h, callId, { status: 'active', resumeCount: 1 });
    await post(h, ev(callId, 'call.ended', {}));
    await expectEverywhere(h, callId, { status: 'ended', disposition: 'completed' });
    await eventually(async () => expect((await h.handle(callId).describe()).status.name).toBe('COMPLETED'));
    const before = await eventRows(h, callId);
    for (const late of [ev(callId, 'call.turn', { role: 'user', text: 'too late' }), ev(callId, 'call.ended'), started(callId, 'chat')]) {
      expect(await post(h, late)).toEqual({ status: 202, body: { accepted: true } });
    }
    expect(await eventRows(h, callId)).toEqual(before);
  });

  it('an event before call.started is refused with 404 so the sender retries; the retry after the start applies', async () => {
    const callId = newCallId();
    const turn = ev(callId, 'call.turn', { role: 'user', text: 'early' });
    const res = await post(h, turn);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
    await nothingRecorded(h, callId);
    expect((await post(h, started(callId, 'chat'))).status).toBe(202);
    expect((await post(h, turn)).status).toBe(202);
    await expectEverywhere(h, callId, { status: 'active', turnCount: 1 });
  });

  it('a second call.started for an existing call keeps the first start', async () => {
    const callId = newCallId();
    await post(h, started(callId, 'chat', '+15550006666'));
    await post(h, started(callId, 'voice', '+15550007777'));
    await eventually(async () => expect(await eventRows(h, callId)).toHaveLength(2));
    await expectEverywhere(h, callId, { status: 'active', channel: 'chat', from: '+15550006666' });
  });
});

describe('POST /webhooks/events: answers without waiting for the workflow', () => {
  let idle: Harness;
  beforeAll(async () => {
    idle = await createHarness({ noWorker: true });
  });
  afterAll(() => idle?.close());

  it('accepts events while no worker runs: they are signals', async () => {
    const callId = newCallId();
    expect((await post(idle, started(callId))).status).toBe(202);
    expect((await post(idle, ev(callId, 'call.answered'))).status).toBe(202);
    expect((await idle.handle(callId).describe()).status.name).toBe('RUNNING');
  });
});
