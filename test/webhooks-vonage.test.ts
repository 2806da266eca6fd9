// Vonage voice event webhooks: the signed JWT, the status table, timestamp ordering, events without a call
// status and callback matching, end to end.
import { createHash, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventRows, expectEverywhere, expectNoCall, workflowExists } from './support/assertions.js';
import { createHarness, eventually, PUBLIC_BASE_URL, TWILIO_TOKEN, VONAGE_SECRET, type Harness } from './support/harness.js';

const PATH = '/v1/webhooks/vonage';
/** Milliseconds into a call at which Vonage stamps each status. */
const OFFSET = {
  started: 0,
  ringing: 150,
  answered: 4000,
  completed: 60_000,
  busy: 3000,
  cancelled: 3000,
  unanswered: 3000,
  rejected: 3000,
  failed: 3000,
  timeout: 3000,
} as const;
type Status = keyof typeof OFFSET;
const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);

let numbers = 0;
/** Vonage writes numbers in E.164 without the +. */
const newNumber = () => `4477${String(process.pid % 1000).padStart(3, '0')}${String(++numbers).padStart(5, '0')}`;

/** An event as Vonage posts it. */
function event(uuid: string, status: Status, from: string, extra: Record<string, unknown> = {}) {
  return {
    from,
    to: '447700900000',
    uuid,
    conversation_uuid: `CON-${randomUUID()}`,
    status,
    direction: 'inbound',
    timestamp: new Date(T0 + OFFSET[status]).toISOString(),
    ...extra,
  };
}

const sha256 = (body: string) => createHash('sha256').update(body).digest('hex');

/** The JWT Vonage puts in Authorization: HS256 with the signature secret, the body's hash in payload_hash. */
function vonageToken(body: string, opts: { secret?: string; iat?: number; claims?: Record<string, unknown> } = {}) {
  return new SignJWT({ payload_hash: sha256(body), api_key: 'aaaa1111', application_id: randomUUID(), ...opts.claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(opts.iat ?? Math.floor(Date.now() / 1000))
    .setJti(randomUUID())
    .setIssuer('Vonage')
    .sign(new TextEncoder().encode(opts.secret ?? VONAGE_SECRET));
}

/** Posts a JSON body; signs it unless an Authorization value (or null for none) is given. */
async function post(h: Harness, payload: unknown, authorization?: string | null) {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const auth = authorization === undefined ? `Bearer ${await vonageToken(body)}` : authorization;
  if (auth !== null) headers.authorization = auth;
  const res = await h.app.request(PATH, { method: 'POST', body, headers });
  return { status: res.status, text: await res.text() };
}

async function deliver(h: Harness, uuid: string, from: string, statuses: Status[]) {
  for (const status of statuses) expect((await post(h, event(uuid, status, from))).status, status).toBe(200);
}

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h?.close());

describe('POST /webhooks/vonage: signed webhooks', () => {
  it('accepts a JWT signed as Vonage signs it and answers 200 with an empty body; numbers gain their +', async () => {
    const uuid = randomUUID();
    const from = newNumber();
    const res = await post(h, event(uuid, 'started', from));
    expect(res).toEqual({ status: 200, text: '' });
    await expectEverywhere(h, uuid, { status: 'ringing', channel: 'voice', from: `+${from}`, legs: [uuid] });
    expect(await h.query(uuid)).toMatchObject({ provider: 'vonage', direction: 'inbound', to: '+447700900000' });
  });

  it('rejects a bad signature, a wrong hash or a stale token with 401 before parsing, and changes nothing', async () => {
    const uuid = randomUUID();
    const payload = event(uuid, 'started', newNumber());
    const body = JSON.stringify(payload);
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ payload_hash: sha256(body), iat: now })).toString('base64url')}.`;
    const attempts = [
      `Bearer ${await vonageToken(body, { secret: 'another-signature-secret-0123456789' })}`,
      `Bearer ${await vonageToken(JSON.stringify({ ...payload, status: 'answered' }))}`, // the hash of another body
      `Bearer ${await vonageToken(body, { claims: { payload_hash: undefined } })}`,
      `Bearer ${await vonageToken(body, { claims: { payload_hash: 'not-hex' } })}`,
      `Bearer ${await vonageToken(body, { iat: now - 10 * 60 })}`, // too old: a replay
      `Bearer ${await vonageToken(body, { iat: now + 10 * 60 })}`, // from the future
      `Bearer ${unsigned}`,
      'Bearer not-a-jwt',
      `Basic ${Buffer.from('user:pass').toString('base64')}`,
      null,
    ];
    for (const authorization of attempts) {
      const res = await post(h, body, authorization);
      expect(res.status, String(authorization)).toBe(401);
      expect(JSON.parse(res.text)).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    }
    // The signature covers the exact bytes: the same event re-serialized is another body.
    expect((await post(h, JSON.stringify(payload, null, 2), `Bearer ${await vonageToken(body)}`)).status).toBe(401);
    // Nothing parses an unsigned body: a malformed one gets 401 too, not 400.
    expect((await post(h, '{"uuid": ', 'Bearer x')).status).toBe(401);
    await expectNoCall(h, uuid);
  });

  it('answers 400 for a signed call event that lacks its leg or caller', async () => {
    const { uuid: _uuid, ...noLeg } = event(randomUUID(), 'answered', newNumber());
    const res = await post(h, noLeg);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error).toMatchObject({ code: 'invalid_request', details: [expect.objectContaining({ path: 'uuid' })] });
    const { from: _from, ...noCaller } = event(randomUUID(), 'started', newNumber());
    expect(JSON.parse((await post(h, noCaller)).text).error.details).toEqual([expect.objectContaining({ path: 'from' })]);
  });

  it('answers odd signed bodies with 4xx, never 5xx', async () => {
    const odd = [
      '[]',
      'null',
      '"started"',
      '{}x',
      JSON.stringify({ status: 5 }),
      JSON.stringify({ status: 'answered', uuid: '../../x', from: '1' }),
      JSON.stringify({ ...event(randomUUID(), 'answered', newNumber()), from: 'a\u0000b' }),
      JSON.stringify({ ...event(randomUUID(), 'answered', newNumber()), timestamp: 'yesterday' }),
    ];
    for (const body of odd) {
      const { status } = await post(h, body);
      expect(status, body).toBeLessThan(500);
    }
  });

  it('accepts events without a call status with 200 and changes nothing', async () => {
    const uuid = randomUUID();
    const conversation = `CON-${randomUUID()}`;
    const timestamp = new Date().toISOString();
    const informational = [
      { uuid, conversation_uuid: conversation, dtmf: '42', timed_out: false, timestamp }, // input
      {
        start_time: timestamp,
        recording_url: 'https://api.nexmo.com/v1/files/x',
        size: 12222,
        recording_uuid: randomUUID(),
        end_time: timestamp,
        conversation_uuid: conversation,
        timestamp,
      }, // record
      { conversation_uuid_from: conversation, conversation_uuid_to: `CON-${randomUUID()}`, uuid, timestamp }, // transfer
      { call_uuid: uuid, from: newNumber(), to: '447700900000', status: 'human', conversation_uuid: conversation, timestamp }, // machine detection
      { reason: 'Syntax error in NCCO. Invalid value type or action.', conversation_uuid: conversation, timestamp }, // error
    ];
    for (const payload of informational) expect(await post(h, payload), JSON.stringify(payload)).toEqual({ status: 200, text: '' });
    await expectNoCall(h, uuid);
  });

  it('is documented in /openapi.json as a JSON body', async () => {
    const doc = await (await h.app.request('/openapi.json')).json();
    const op = doc.paths['/v1/webhooks/vonage'].post;
    expect(Object.keys(op.requestBody.content)).toEqual(['application/json']);
    expect(op.responses['401']).toBeDefined();
  });

  describe('while VONAGE_SIGNATURE_SECRET is not set', () => {
    let bare: Harness;
    beforeAll(async () => {
      bare = await createHarness({ noWorker: true, webhooks: { vonageSignatureSecret: undefined } });
    });
    afterAll(() => bare?.close());

    it('answers every request 401, however it is signed', async () => {
      const uuid = randomUUID();
      const res = await post(bare, event(uuid, 'started', newNumber()));
      expect(res.status).toBe(401);
      expect(JSON.parse(res.text).error.code).toBe('unauthorized');
      await expectNoCall(bare, uuid);
    });
  });
});

describe('POST /webhooks/vonage: lifecycle', () => {
  it.each([
    [['started'], { status: 'ringing', disposition: null }],
    [['started', 'ringing'], { status: 'ringing', disposition: null }],
    [['started', 'ringing', 'answered'], { status: 'active', disposition: null }],
    [['started', 'ringing', 'answered', 'completed'], { status: 'dropped', disposition: null, dropCount: 1 }],
    [['started', 'ringing', 'busy'], { status: 'ended', disposition: 'busy' }],
    [['started', 'cancelled'], { status: 'ended', disposition: 'canceled' }],
    [['started', 'ringing', 'unanswered'], { status: 'ended', disposition: 'no_answer' }],
    [['started', 'ringing', 'timeout'], { status: 'ended', disposition: 'no_answer' }],
    [['started', 'rejected'], { status: 'ended', disposition: 'failed' }],
    [['started', 'failed'], { status: 'ended', disposition: 'failed' }],
  ] as [Status[], object][])('%j → %j', async (statuses, expected) => {
    const uuid = randomUUID();
    await deliver(h, uuid, newNumber(), statuses);
    await expectEverywhere(h, uuid, expected);
    const keys = [`vonage:${uuid}:start`, ...statuses.map((s) => `vonage:${uuid}:${s}`)];
    await eventually(async () => expect((await eventRows(h, uuid)).map((e) => [e.key, e.applied])).toEqual(keys.map((k) => [k, true])));
  });

  it('a repeated event is one event', async () => {
    const uuid = randomUUID();
    await deliver(h, uuid, newNumber(), ['started', 'answered', 'started', 'answered']);
    await expectEverywhere(h, uuid, { status: 'active', version: 3 });
    expect((await eventRows(h, uuid)).map((e) => e.key)).toEqual([
      `vonage:${uuid}:start`,
      `vonage:${uuid}:started`,
      `vonage:${uuid}:answered`,
    ]);
  });

  it('timestamp orders the events: completed before answered drops once; a late ringing is stale', async () => {
    const uuid = randomUUID();
    await deliver(h, uuid, newNumber(), ['completed', 'answered', 'ringing', 'started']);
    const events = await eventually(async () => {
      const rows = await eventRows(h, uuid);
      expect(rows).toHaveLength(5);
      return rows;
    });
    await expectEverywhere(h, uuid, { status: 'dropped', dropCount: 1 });
    expect(events.map((e) => [e.key.split(':').pop(), e.type, e.applied])).toEqual([
      ['start', 'started', true],
      ['completed', 'drop', true],
      ['answered', 'answered', false],
      ['ringing', 'leg', false],
      ['started', 'leg', false],
    ]);
    for (const e of events.filter((e) => !e.applied)) expect(e.payload.ignored).toMatch(/^stale/);
  });

  it('statuses with the same timestamp apply in lifecycle order', async () => {
    const uuid = randomUUID();
    const from = newNumber();
    const same = { timestamp: new Date(T0).toISOString() };
    for (const status of ['ringing', 'started', 'answered'] as const)
      expect((await post(h, event(uuid, status, from, same))).status).toBe(200);
    await eventually(async () =>
      expect((await eventRows(h, uuid)).map((e) => [e.key.split(':').pop(), e.applied])).toEqual([
        ['start', true],
        ['ringing', true],
        ['started', false],
        ['answered', true],
      ]),
    );
    await expectEverywhere(h, uuid, { status: 'active' });
  });
});

describe('POST /webhooks/vonage: callback matching', () => {
  it('a new call from the dropped caller within the window resumes that call as a new leg', async () => {
    const from = newNumber();
    const first = randomUUID();
    await deliver(h, first, from, ['started', 'ringing', 'answered', 'completed']);
    await expectEverywhere(h, first, { status: 'dropped', dropCount: 1 });

    const second = randomUUID();
    await deliver(h, second, from, ['started', 'ringing', 'answered']);
    await expectEverywhere(h, first, { status: 'active', resumeCount: 1, legs: [first, second] });
    expect(await h.redis.get(`leg:${second}`)).toBe(first);
    expect(await workflowExists(h, second)).toBe(false);

    await deliver(h, second, from, ['completed']);
    await expectEverywhere(h, first, { status: 'dropped', dropCount: 2, resumeCount: 1, legs: [first, second] });
  });

  it('a caller dropped on Twilio who calls back through Vonage resumes the same call', async () => {
    const from = newNumber();
    const sid = `CA${randomUUID().replace(/-/g, '')}`;
    for (const [status, n] of [
      ['ringing', 1],
      ['in-progress', 2],
      ['completed', 3],
    ] as const) {
      const params = {
        CallSid: sid,
        CallStatus: status,
        From: `+${from}`,
        To: '+15559990000',
        Direction: 'inbound',
        SequenceNumber: String(n),
      };
      const signature = getExpectedTwilioSignature(TWILIO_TOKEN, `${PUBLIC_BASE_URL}/v1/webhooks/twilio`, params);
      const res = await h.app.request('/v1/webhooks/twilio', {
        method: 'POST',
        body: new URLSearchParams(params).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
      });
      expect(res.status).toBe(200);
    }
    await expectEverywhere(h, sid, { status: 'dropped' });

    const uuid = randomUUID();
    await deliver(h, uuid, from, ['started']);
    await expectEverywhere(h, sid, { status: 'active', resumeCount: 1, legs: [sid, uuid] });
  });
});
