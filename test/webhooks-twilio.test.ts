// Twilio status callbacks: signatures, ordering, dispositions and callback matching, end to end.
import { createHmac, randomUUID } from 'node:crypto';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signFeedBody } from '../common/feed-signature.js';
import { eventRows, expectEverywhere, turnRows, workflowExists } from './support/assertions.js';
import { createHarness, eventually, PUBLIC_BASE_URL, TWILIO_TOKEN, WEBHOOK_SECRET, type Harness } from './support/harness.js';

const PATH = '/v1/webhooks/twilio';
const SEQUENCE = { initiated: 0, ringing: 1, 'in-progress': 2, completed: 3, busy: 2, 'no-answer': 2, failed: 2, canceled: 2 } as const;
type Status = keyof typeof SEQUENCE;

const newSid = () => `CA${randomUUID().replace(/-/g, '')}`;
let numbers = 0;
const newNumber = () => `+1555${String(process.pid % 1000).padStart(3, '0')}${String(++numbers).padStart(4, '0')}`;

/** X-Twilio-Signature as Twilio documents it: base64 HMAC-SHA1, keyed by the auth token, of the URL followed by each parameter name and value, sorted by name. */
function twilioSignature(url: string, params: Record<string, string>, token = TWILIO_TOKEN): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, name) => acc + name + params[name], url);
  return createHmac('sha1', token).update(data).digest('base64');
}

/** A status callback as Twilio posts it (with a few of the fields we ignore). */
function callback(sid: string, status: Status, from: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AccountSid: `AC${'0'.repeat(32)}`,
    ApiVersion: '2010-04-01',
    CallbackSource: 'call-progress-events',
    CallSid: sid,
    CallStatus: status,
    From: from,
    To: '+15559990000',
    Direction: 'inbound',
    SequenceNumber: String(SEQUENCE[status]),
    Timestamp: new Date().toUTCString(),
    ...extra,
  };
}

/** Form-posts a callback; signs it for PUBLIC_BASE_URL + path unless a signature (or null for none) is given. */
async function post(h: Harness, params: Record<string, string>, opts: { signature?: string | null; path?: string } = {}) {
  const path = opts.path ?? PATH;
  const signature = opts.signature === undefined ? twilioSignature(PUBLIC_BASE_URL + path, params) : opts.signature;
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (signature !== null) headers['x-twilio-signature'] = signature;
  const res = await h.app.request(path, { method: 'POST', body: new URLSearchParams(params).toString(), headers });
  return { status: res.status, contentType: res.headers.get('content-type'), text: await res.text() };
}

async function deliver(h: Harness, sid: string, from: string, statuses: Status[]) {
  for (const status of statuses) expect((await post(h, callback(sid, status, from))).status, status).toBe(200);
}

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h?.close());

describe('POST /webhooks/twilio: signatures', () => {
  it('accepts a signature computed as Twilio documents it and answers empty TwiML', async () => {
    const sid = newSid();
    const params = callback(sid, 'ringing', newNumber());
    const signature = twilioSignature(`${PUBLIC_BASE_URL}${PATH}`, params);
    expect(signature).toBe(getExpectedTwilioSignature(TWILIO_TOKEN, `${PUBLIC_BASE_URL}${PATH}`, params));
    const res = await post(h, params, { signature });
    expect(res).toMatchObject({ status: 200, contentType: expect.stringContaining('text/xml') });
    expect(res.text).toContain('<Response/>');
    await expectEverywhere(h, sid, { status: 'ringing', channel: 'voice', from: params.From, legs: [sid] });
    expect(await h.query(sid)).toMatchObject({ provider: 'twilio', direction: 'inbound', to: '+15559990000' });
  });

  it('signs the public URL with its query string', async () => {
    const sid = newSid();
    const path = `${PATH}?tenant=acme&leg=a`;
    expect((await post(h, callback(sid, 'ringing', newNumber()), { path })).status).toBe(200);
    await expectEverywhere(h, sid, { status: 'ringing' });
  });

  it('rejects a wrong, missing or misplaced signature with 401 and changes nothing', async () => {
    const sid = newSid();
    const params = callback(sid, 'ringing', newNumber());
    const attempts = [
      twilioSignature(`${PUBLIC_BASE_URL}${PATH}`, params, 'another-auth-token'),
      twilioSignature(`http://localhost${PATH}`, params), // the local URL, not the one Twilio calls
      twilioSignature(`${PUBLIC_BASE_URL}${PATH}`, { ...params, CallStatus: 'in-progress' }), // a tampered parameter
      'not-a-signature',
      '',
      null,
    ];
    for (const signature of attempts) {
      const res = await post(h, params, { signature });
      expect(res.status, String(signature)).toBe(401);
      expect(JSON.parse(res.text)).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    }
    // An unsigned body is not even parsed: a malformed one gets 401 too, not 400.
    expect((await post(h, { CallSid: '!!' }, { signature: 'x' })).status).toBe(401);
    expect(await workflowExists(h, sid)).toBe(false);
    expect(await h.rows('SELECT 1 FROM calls WHERE call_id = $1', [sid])).toEqual([]);
    expect(await h.redis.exists(`leg:${sid}`)).toBe(0);
  });

  it('answers 400 with the error shape for a signed but invalid callback', async () => {
    const res = await post(h, { CallSid: newSid(), CallStatus: 'ringingg', From: '+15550000000' });
    expect(res.status).toBe(400);
    const body = JSON.parse(res.text);
    expect(body.error).toMatchObject({ code: 'invalid_request', details: [expect.objectContaining({ path: 'CallStatus' })] });
  });

  it('is documented in /openapi.json as a form-encoded body', async () => {
    const doc = await (await h.app.request('/openapi.json')).json();
    const op = doc.paths['/v1/webhooks/twilio'].post;
    expect(Object.keys(op.requestBody.content)).toEqual(['application/x-www-form-urlencoded']);
    expect(op.responses['401']).toBeDefined();
  });
});

describe('POST /webhooks/twilio: lifecycle', () => {
  const FULL: Status[] = ['initiated', 'ringing', 'in-progress', 'completed'];
  const normalize = (value: unknown, sid: string, from: string) =>
    JSON.parse(JSON.stringify(value).replaceAll(sid, '<sid>').replaceAll(from, '<from>'));

  async function settled(sid: string) {
    // Stale callbacks are recorded as ignored after the drop: wait for one row per distinct callback.
    const events = await eventually(async () => {
      const rows = await eventRows(h, sid);
      expect(rows).toHaveLength(1 + FULL.length);
      return rows;
    });
    // The row lands before the workflow takes the activity's result: wait for the state to catch up.
    const view = await expectEverywhere(h, sid, { status: 'dropped', dropCount: 1, version: Math.max(...events.map((e) => e.seq)) });
    const [row] = await h.rows(
      `SELECT status, disposition, channel, direction, to_number, provider, legs, turn_count, drop_count, resume_count, version, context, metadata,
              answered_at IS NOT NULL AS answered, ended_at IS NULL AS open, resume_deadline - dropped_at AS window
       FROM calls WHERE call_id = $1`,
      [sid],
    );
    const { startedAt, answeredAt, droppedAt, resumeDeadline, ...stable } = view;
    expect([startedAt, answeredAt, droppedAt, resumeDeadline].every(Boolean)).toBe(true);
    return { view: normalize(stable, sid, view.from), row: normalize(row, sid, view.from), events: normalize(events, sid, view.from) };
  }

  it('a full call in order, or out of order with duplicates, ends in the same state: dropped once', async () => {
    const orders: Status[][] = [
      FULL,
      ['ringing', 'completed', 'initiated', 'completed', 'in-progress', 'ringing'],
      ['in-progress', 'in-progress', 'completed', 'initiated', 'ringing', 'completed'],
      ['completed', 'ringing', 'initiated', 'in-progress', 'completed', 'initiated'],
    ];
    const calls = orders.map((order) => ({ order, sid: newSid(), from: newNumber() }));
    for (const { order, sid, from } of calls) await deliver(h, sid, from, order);
    const [inOrder, ...others] = await Promise.all(calls.map(({ sid }) => settled(sid)));

    expect(inOrder.view).toMatchObject({ status: 'dropped', dropCount: 1, resumeCount: 0, legs: ['<sid>'], version: 5 });
    expect(inOrder.events.map((e: any) => [e.key, e.type, e.applied])).toEqual([
      ['twilio:<sid>:start', 'started', true],
      ['twilio:<sid>:initiated', 'leg', true],
      ['twilio:<sid>:ringing', 'leg', true],
      ['twilio:<sid>:in-progress', 'answered', true],
      ['twilio:<sid>:completed', 'drop', true],
    ]);
    const byKey = (events: any[]) =>
      events
        .map(({ seq: _seq, applied: _applied, payload: { ignored: _ignored, ...payload }, ...e }) => ({ ...e, payload }))
        .sort((a, b) => a.key.localeCompare(b.key));
    for (const [i, other] of others.entries()) {
      const label = orders[i + 1].join(',');
      expect(other.view, label).toEqual(inOrder.view);
      expect(other.row, label).toEqual(inOrder.row);
      // Every distinct callback is recorded once, with the same type and payload as in order...
      expect(byKey(other.events), label).toEqual(byKey(inOrder.events));
      // ...the applied ones are a subsequence of the in-order ones, ending with the same drop...
      const applied = other.events.filter((e: any) => e.applied).map((e: any) => e.key);
      const inOrderKeys = inOrder.events.map((e: any) => e.key);
      expect(
        applied.map((k: string) => inOrderKeys.indexOf(k)),
        label,
      ).toEqual([...applied.map((k: string) => inOrderKeys.indexOf(k))].sort());
      expect(applied.at(-1), label).toBe('twilio:<sid>:completed');
      // ...and the rest were ignored as older than a callback already applied.
      for (const e of other.events.filter((e: any) => !e.applied)) expect(e.payload.ignored, label).toMatch(/^stale/);
    }
  });

  it.each([
    ['busy', 'busy'],
    ['no-answer', 'no_answer'],
    ['failed', 'failed'],
    ['canceled', 'canceled'],
  ] as const)('%s ends the ringing call with disposition %s; later callbacks still get 200', async (status, disposition) => {
    const sid = newSid();
    const from = newNumber();
    await deliver(h, sid, from, ['initiated', 'ringing', status]);
    await expectEverywhere(h, sid, { status: 'ended', disposition, dropCount: 0 });
    await eventually(async () => expect((await h.handle(sid).describe()).status.name).toBe('COMPLETED'));
    // Providers retry non-2xx: a late or repeated callback for an ended call is accepted and dropped.
    await deliver(h, sid, from, [status, 'completed']);
    await expectEverywhere(h, sid, { status: 'ended', disposition });
  });

  it('a no-answer that arrives alone still creates and ends the call', async () => {
    const sid = newSid();
    await deliver(h, sid, newNumber(), ['no-answer']);
    await expectEverywhere(h, sid, { status: 'ended', disposition: 'no_answer' });
  });
});

describe('POST /webhooks/twilio: callback matching', () => {
  async function droppedCall(hh: Harness, from: string) {
    const sid = newSid();
    await deliver(hh, sid, from, ['ringing', 'in-progress', 'completed']);
    await expectEverywhere(hh, sid, { status: 'dropped', dropCount: 1 });
    return sid;
  }

  it('a new call from the same number within the window resumes the dropped call; its later callbacks follow it', async () => {
    const from = newNumber();
    const first = await droppedCall(h, from);
    const second = newSid();
    await deliver(h, second, from, ['ringing']);
    await expectEverywhere(h, first, { status: 'active', resumeCount: 1, dropCount: 1, legs: [first, second] });
    expect(await h.redis.get(`leg:${second}`)).toBe(first);
    expect(await workflowExists(h, second)).toBe(false);
    // The voice pipeline on the new leg knows only its CallSid: its turns still reach the call.
    const body = JSON.stringify({
      eventId: `turn-${second}`,
      type: 'call.turn',
      callId: second,
      data: { role: 'user', text: 'sorry, we got cut off' },
    });
    const res = await h.app.request('/v1/webhooks/events', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'x-signature': signFeedBody(WEBHOOK_SECRET, body) },
    });
    expect(res.status).toBe(202);
    await eventually(async () => expect((await turnRows(h, first)).at(-1)).toMatchObject({ role: 'user', text: 'sorry, we got cut off' }));

    await deliver(h, second, from, ['in-progress', 'ringing']); // the call is already resumed: nothing more happens
    // Redis may be flushed: PostgreSQL still knows which call took the leg.
    await h.redis.del(`leg:${second}`);
    await deliver(h, second, from, ['completed']);
    await expectEverywhere(h, first, { status: 'dropped', resumeCount: 1, dropCount: 2, legs: [first, second] });
    expect(await workflowExists(h, second)).toBe(false);
    expect(await h.rows('SELECT 1 FROM calls WHERE call_id = $1', [second])).toEqual([]);
    const keys = (await eventRows(h, first)).filter((e) => e.applied).map((e) => e.key);
    expect(keys.slice(-3)).toEqual([`twilio:${second}:resume`, `turn-${second}`, `twilio:${second}:completed`]);
  });

  it('a call back that is never answered returns the call to dropped', async () => {
    const from = newNumber();
    const first = await droppedCall(h, from);
    const second = newSid();
    await deliver(h, second, from, ['ringing', 'no-answer']);
    await expectEverywhere(h, first, { status: 'dropped', resumeCount: 1, dropCount: 2, legs: [first, second] });
  });

  it('an outbound call to a number with a dropped call is a call of its own', async () => {
    const from = newNumber();
    const first = await droppedCall(h, from);
    const outbound = newSid();
    expect((await post(h, callback(outbound, 'initiated', from, { Direction: 'outbound-api' }))).status).toBe(200);
    await expectEverywhere(h, outbound, { status: 'ringing', direction: 'outbound' });
    await expectEverywhere(h, first, { status: 'dropped', resumeCount: 0 });
  });

  describe('after the window', () => {
    let short: Harness;
    beforeAll(async () => {
      short = await createHarness({ call: { resumeWindowMs: 1500 } });
    });
    afterAll(() => short?.close());

    it('a call from the same number once the window has passed is a new call', async () => {
      const from = newNumber();
      const first = await droppedCall(short, from);
      await expectEverywhere(short, first, { status: 'ended', disposition: 'abandoned' });
      const second = newSid();
      await deliver(short, second, from, ['ringing']);
      await expectEverywhere(short, second, { status: 'ringing', from, legs: [second], resumeCount: 0 });
      expect(await short.redis.get(`leg:${second}`)).toBe(second);
      expect((await short.rows('SELECT legs, resume_count FROM calls WHERE call_id = $1', [first]))[0]).toEqual({
        legs: [first],
        resume_count: 0,
      });
    });
  });
});

describe('POST /webhooks/twilio: answers without waiting for the workflow', () => {
  describe('with no worker running', () => {
    let idle: Harness;
    beforeAll(async () => {
      idle = await createHarness({ noWorker: true });
    });
    afterAll(() => idle?.close());

    it('still answers 200: callbacks are signals, not updates or queries', async () => {
      const sid = newSid();
      await deliver(idle, sid, newNumber(), ['ringing', 'in-progress']);
      expect(await workflowExists(idle, sid)).toBe(true);
    });
  });
});
