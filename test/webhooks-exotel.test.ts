// Exotel status callbacks: Basic credentials, the status table, DateUpdated ordering, both field spellings
// and callback matching, end to end.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config/env.js';
import { eventRows, expectEverywhere, expectNoCall, workflowExists } from './support/assertions.js';
import { createHarness, eventually, EXOTEL_PASSWORD, EXOTEL_USER, type Harness } from './support/harness.js';

const PATH = '/v1/webhooks/exotel';
type Status = 'ringing' | 'in-progress' | 'completed' | 'busy' | 'failed' | 'no-answer' | 'canceled';

const newSid = () => randomUUID().replace(/-/g, '');
let numbers = 0;
const newNumber = () => `0998${String(process.pid % 1000).padStart(3, '0')}${String(++numbers).padStart(4, '0')}`;

/** Exotel's DateUpdated: `YYYY-MM-DD HH:mm:ss` in India Standard Time. */
const exotelDate = (ms: number) => new Date(ms + 330 * 60_000).toISOString().slice(0, 19).replace('T', ' ');
/** Seconds into a call at which each status is stamped, as Exotel would. */
const OFFSET: Record<Status, number> = { ringing: 0, 'in-progress': 2, completed: 30, busy: 5, failed: 5, 'no-answer': 5, canceled: 5 };
const T0 = Date.UTC(2026, 0, 15, 9, 0, 0);

/** A status callback as Exotel posts it (with a few of the fields we ignore). */
function callback(sid: string, status: Status, from: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    CallSid: sid,
    Status: status,
    From: from,
    To: '08030752400',
    Direction: 'incoming',
    DateUpdated: exotelDate(T0 + OFFSET[status] * 1000),
    RecordingUrl: '',
    EventType: 'terminal',
    ...extra,
  };
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const GOOD = basic(EXOTEL_USER, EXOTEL_PASSWORD);

async function post(h: Harness, params: Record<string, string>, authorization: string | null = GOOD) {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (authorization !== null) headers.authorization = authorization;
  const res = await h.app.request(PATH, { method: 'POST', body: new URLSearchParams(params).toString(), headers });
  return { status: res.status, authenticate: res.headers.get('www-authenticate'), body: await res.json() };
}

async function deliver(h: Harness, sid: string, from: string, statuses: Status[]) {
  for (const status of statuses) expect((await post(h, callback(sid, status, from))).status, status).toBe(200);
}

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h?.close());

describe('POST /webhooks/exotel: credentials', () => {
  it('accepts HTTP Basic credentials and answers 200; the call rings under its CallSid', async () => {
    const sid = newSid();
    const from = newNumber();
    const res = await post(h, callback(sid, 'ringing', from));
    expect(res).toMatchObject({ status: 200, body: { accepted: true } });
    await expectEverywhere(h, sid, { status: 'ringing', channel: 'voice', from, legs: [sid] });
    expect(await h.query(sid)).toMatchObject({ provider: 'exotel', direction: 'inbound', to: '08030752400' });
  });

  it('rejects wrong, missing or malformed credentials with 401, WWW-Authenticate and nothing changed', async () => {
    const sid = newSid();
    const params = callback(sid, 'ringing', newNumber());
    const attempts = [
      basic(EXOTEL_USER, 'wrong-password'),
      basic('someone-else', EXOTEL_PASSWORD),
      basic(EXOTEL_USER, ''),
      basic(EXOTEL_USER, `${EXOTEL_PASSWORD}x`),
      `Bearer ${Buffer.from(`${EXOTEL_USER}:${EXOTEL_PASSWORD}`).toString('base64')}`,
      `Basic ${Buffer.from(`${EXOTEL_USER}${EXOTEL_PASSWORD}`).toString('base64')}`, // no colon
      'Basic !!!',
      '',
      null,
    ];
    for (const authorization of attempts) {
      const res = await post(h, params, authorization);
      expect(res.status, String(authorization)).toBe(401);
      expect(res.authenticate).toMatch(/^Basic realm=/);
      expect(res.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    }
    // Without credentials the body is not even parsed: a malformed one gets 401 too, not 400.
    expect((await post(h, { CallSid: '!!' }, null)).status).toBe(401);
    await expectNoCall(h, sid);
  });

  it('answers 400 with the error shape for an authenticated but invalid callback', async () => {
    const bad = await post(h, { ...callback(newSid(), 'ringing', newNumber()), Status: 'ringingg' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'invalid_request', details: [expect.objectContaining({ path: 'Status' })] });
    const { From: _from, ...noCaller } = callback(newSid(), 'ringing', newNumber());
    const anonymous = await post(h, noCaller);
    expect(anonymous.status).toBe(400);
    expect(anonymous.body.error.details).toEqual([expect.objectContaining({ path: 'From', message: 'From or CallFrom is required' })]);
  });

  it('answers odd authenticated bodies with 4xx, never 5xx', async () => {
    const sid = newSid();
    const odd = [
      `CallSid=${sid}&CallSid=${sid}&Status=ringing&From=1`,
      'Status=ringing',
      '%%%',
      `CallSid=${sid}&Status=ringing&From=${'9'.repeat(300)}`,
      `CallSid=${sid}&Status=ringing&From=a%00b`,
      `CallSid=${newSid()}&Status=ringing&From=0998&DateUpdated=9999-99-99 99:99:99`,
    ];
    for (const body of odd) {
      const res = await h.app.request(PATH, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: GOOD },
      });
      expect(res.status, body).toBeLessThan(500);
    }
  });

  it('is documented in /openapi.json as a form-encoded body', async () => {
    const doc = await (await h.app.request('/openapi.json')).json();
    const op = doc.paths['/v1/webhooks/exotel'].post;
    expect(Object.keys(op.requestBody.content)).toEqual(['application/x-www-form-urlencoded']);
    expect(op.responses['401']).toBeDefined();
  });

  describe('while EXOTEL_WEBHOOK_USER and EXOTEL_WEBHOOK_PASSWORD are not set', () => {
    let bare: Harness;
    beforeAll(async () => {
      bare = await createHarness({ noWorker: true, webhooks: { exotel: undefined } });
    });
    afterAll(() => bare?.close());

    it('answers every request 401', async () => {
      const sid = newSid();
      const res = await post(bare, callback(sid, 'ringing', newNumber()));
      expect(res).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
      expect(res.authenticate).toMatch(/^Basic/);
      await expectNoCall(bare, sid);
    });
  });

  it('configuration: both variables or neither; a user without ":"', () => {
    const env = { NODE_ENV: 'test' };
    expect(loadConfig(env).EXOTEL_WEBHOOK_USER).toBeUndefined();
    expect(loadConfig({ ...env, EXOTEL_WEBHOOK_USER: 'u', EXOTEL_WEBHOOK_PASSWORD: 'p' })).toMatchObject({
      EXOTEL_WEBHOOK_USER: 'u',
      EXOTEL_WEBHOOK_PASSWORD: 'p',
    });
    expect(() => loadConfig({ ...env, EXOTEL_WEBHOOK_USER: 'u' })).toThrow(/EXOTEL_WEBHOOK_PASSWORD: required with EXOTEL_WEBHOOK_USER/);
    expect(() => loadConfig({ ...env, EXOTEL_WEBHOOK_PASSWORD: 'p' })).toThrow(
      /EXOTEL_WEBHOOK_USER: required with EXOTEL_WEBHOOK_PASSWORD/,
    );
    expect(() => loadConfig({ ...env, EXOTEL_WEBHOOK_USER: 'a:b', EXOTEL_WEBHOOK_PASSWORD: 'p' })).toThrow(ConfigError);
  });
});

describe('POST /webhooks/exotel: lifecycle', () => {
  it.each([
    [['ringing'], { status: 'ringing', disposition: null }],
    [['ringing', 'in-progress'], { status: 'active', disposition: null }],
    [['ringing', 'in-progress', 'completed'], { status: 'dropped', disposition: null, dropCount: 1 }],
    [['ringing', 'busy'], { status: 'ended', disposition: 'busy' }],
    [['ringing', 'failed'], { status: 'ended', disposition: 'failed' }],
    [['ringing', 'no-answer'], { status: 'ended', disposition: 'no_answer' }],
    [['ringing', 'canceled'], { status: 'ended', disposition: 'canceled' }],
  ] as [Status[], object][])('%j → %j', async (statuses, expected) => {
    const sid = newSid();
    await deliver(h, sid, newNumber(), statuses);
    await expectEverywhere(h, sid, expected);
    const keys = [`exotel:${sid}:start`, ...statuses.map((s) => `exotel:${sid}:${s}`)];
    await eventually(async () => expect((await eventRows(h, sid)).map((e) => [e.key, e.applied])).toEqual(keys.map((k) => [k, true])));
  });

  it('a failure ends the call for good: later callbacks still get 200 and change nothing', async () => {
    const sid = newSid();
    const from = newNumber();
    await deliver(h, sid, from, ['ringing', 'no-answer']);
    await eventually(async () => expect((await h.handle(sid).describe()).status.name).toBe('COMPLETED'));
    await deliver(h, sid, from, ['no-answer', 'completed']);
    await expectEverywhere(h, sid, { status: 'ended', disposition: 'no_answer' });
  });

  it('reads both spellings of the numbers: CallFrom and CallTo', async () => {
    const sid = newSid();
    const from = newNumber();
    const { From: _f, To: _t, ...rest } = callback(sid, 'ringing', from);
    expect((await post(h, { ...rest, CallFrom: from, CallTo: '08030752499' })).status).toBe(200);
    await expectEverywhere(h, sid, { status: 'ringing', from });
    expect(await h.query(sid)).toMatchObject({ to: '08030752499' });
  });

  it('a repeated callback is one event', async () => {
    const sid = newSid();
    await deliver(h, sid, newNumber(), ['ringing', 'ringing', 'in-progress', 'in-progress']);
    await expectEverywhere(h, sid, { status: 'active', version: 3 });
    expect((await eventRows(h, sid)).map((e) => e.key)).toEqual([
      `exotel:${sid}:start`,
      `exotel:${sid}:ringing`,
      `exotel:${sid}:in-progress`,
    ]);
  });

  it('DateUpdated orders the callbacks: completed before in-progress drops once; a late ringing is stale', async () => {
    const sid = newSid();
    await deliver(h, sid, newNumber(), ['completed', 'in-progress', 'ringing']);
    const events = await eventually(async () => {
      const rows = await eventRows(h, sid);
      expect(rows).toHaveLength(4);
      return rows;
    });
    await expectEverywhere(h, sid, { status: 'dropped', dropCount: 1 });
    expect(events.map((e) => [e.key.split(':').pop(), e.type, e.applied, e.payload.ignored ?? null])).toEqual([
      ['start', 'started', true, null],
      ['completed', 'drop', true, null],
      ['in-progress', 'answered', false, expect.stringMatching(/^stale/)],
      ['ringing', 'leg', false, expect.stringMatching(/^stale/)],
    ]);
  });

  it('a stale ringing after the answer changes nothing', async () => {
    const sid = newSid();
    await deliver(h, sid, newNumber(), ['in-progress', 'ringing']);
    await eventually(async () => expect(await eventRows(h, sid)).toHaveLength(3));
    await expectEverywhere(h, sid, { status: 'active' });
    expect((await eventRows(h, sid)).at(-1)).toMatchObject({
      key: `exotel:${sid}:ringing`,
      applied: false,
      payload: { ignored: expect.stringMatching(/^stale/) },
    });
  });

  it('statuses stamped in the same second apply in lifecycle order', async () => {
    const [inOrder, reversed] = [newSid(), newSid()];
    const second = { DateUpdated: exotelDate(T0) };
    for (const status of ['ringing', 'in-progress'] as const)
      expect((await post(h, callback(inOrder, status, newNumber(), second))).status).toBe(200);
    for (const status of ['in-progress', 'ringing'] as const)
      expect((await post(h, callback(reversed, status, newNumber(), second))).status).toBe(200);
    await eventually(async () => expect((await eventRows(h, inOrder)).map((e) => e.applied)).toEqual([true, true, true]));
    await eventually(async () => expect((await eventRows(h, reversed)).map((e) => e.applied)).toEqual([true, true, false]));
    await expectEverywhere(h, inOrder, { status: 'active' });
    await expectEverywhere(h, reversed, { status: 'active' });
  });

  it('DateUpdated is read as India Standard Time; without it the lifecycle table alone decides', async () => {
    const sid = newSid();
    expect((await post(h, callback(sid, 'ringing', newNumber(), { DateUpdated: '2026-01-15 14:30:45' }))).status).toBe(200);
    await eventually(async () => expect(await eventRows(h, sid)).toHaveLength(2));
    const [row] = await h.rows('SELECT occurred_at FROM call_events WHERE idempotency_key = $1', [`exotel:${sid}:ringing`]);
    expect(row.occurred_at.toISOString()).toBe('2026-01-15T09:00:45.000Z');

    const undated = newSid();
    const from = newNumber();
    for (const status of ['in-progress', 'ringing', 'completed'] as const)
      expect((await post(h, callback(undated, status, from, { DateUpdated: '' }))).status).toBe(200);
    await expectEverywhere(h, undated, { status: 'dropped' });
    // The late ringing was applied (a ringing of a known leg changes nothing), not judged stale.
    await eventually(async () => expect((await eventRows(h, undated)).map((e) => e.applied)).toEqual([true, true, true, true]));
  });
});

describe('POST /webhooks/exotel: callback matching', () => {
  it('a new call from the dropped caller within the window resumes that call as a new leg', async () => {
    const from = newNumber();
    const first = newSid();
    await deliver(h, first, from, ['ringing', 'in-progress', 'completed']);
    await expectEverywhere(h, first, { status: 'dropped', dropCount: 1 });

    const second = newSid();
    await deliver(h, second, from, ['ringing', 'in-progress']);
    await expectEverywhere(h, first, { status: 'active', resumeCount: 1, legs: [first, second] });
    expect(await h.redis.get(`leg:${second}`)).toBe(first);
    expect(await workflowExists(h, second)).toBe(false);

    await deliver(h, second, from, ['completed']);
    await expectEverywhere(h, first, { status: 'dropped', dropCount: 2, resumeCount: 1, legs: [first, second] });
    const applied = (await eventRows(h, first)).filter((e) => e.applied).map((e) => e.key);
    expect(applied.slice(-2)).toEqual([`exotel:${second}:resume`, `exotel:${second}:completed`]);
  });
});
