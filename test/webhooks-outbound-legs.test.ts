// The leg Callwright places for an outbound call (its CallSid mapped to the call in Redis and `legs` by the
// activity that places it, against a stand-in for Twilio's REST API): its status callbacks drive that call as
// its first leg, never a call of their own.
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventRows, expectEverywhere, expectNoCall } from './support/assertions.js';
import { loadConfig, twilioCallSettings } from '../config/env.js';
import { createHarness, eventually, PUBLIC_BASE_URL, TWILIO_TOKEN, type Harness } from './support/harness.js';
import { accepted, newCallSid, startTwilioApi, type TwilioApi } from './support/twilio-api.js';

const SEQUENCE = {
  queued: 0,
  initiated: 1,
  ringing: 2,
  'in-progress': 3,
  completed: 4,
  busy: 3,
  failed: 3,
  'no-answer': 3,
  canceled: 3,
} as const;
type Status = keyof typeof SEQUENCE;
const OUR_NUMBER = '+15550107000';

let numbers = 0;
const newNumber = () => `+1555${String(process.pid % 1000).padStart(3, '0')}${String(++numbers + 5000).padStart(4, '0')}`;

/** A status callback for a call placed through the REST API: From is our number, Direction outbound-api. */
async function post(h: Harness, sid: string, status: Status, to: string, direction = 'outbound-api', query = '') {
  const params = {
    CallSid: sid,
    CallStatus: status,
    From: OUR_NUMBER,
    To: to,
    Direction: direction,
    SequenceNumber: String(SEQUENCE[status]),
  };
  const signature = getExpectedTwilioSignature(TWILIO_TOKEN, `${PUBLIC_BASE_URL}/v1/webhooks/twilio${query}`, params);
  const res = await h.app.request(`/v1/webhooks/twilio${query}`, {
    method: 'POST',
    body: new URLSearchParams(params).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
  });
  expect(res.status, status).toBe(200);
}

/** A ringing outbound call placed through the API, and the CallSid the stand-in gave its leg. */
async function placed(h: Harness, { cache = true } = {}) {
  const to = newNumber();
  const sid = newCallSid();
  twilio.answer(() => accepted(sid));
  const res = await h.request('POST', '/calls', { channel: 'voice', direction: 'outbound', from: OUR_NUMBER, to });
  expect(res.status).toBe(201);
  const callId: string = res.body.callId;
  // The placing activity maps the leg in Redis and PostgreSQL before the workflow records it.
  await eventually(async () => expect((await h.query(callId)).legs).toEqual([sid]));
  if (!cache) await h.redis.del(`leg:${sid}`);
  return { callId, sid, to };
}

async function deliver(h: Harness, call: { sid: string; to: string }, statuses: Status[], direction?: string) {
  for (const status of statuses) await post(h, call.sid, status, call.to, direction);
}

let h: Harness;
let twilio: TwilioApi;
beforeAll(async () => {
  twilio = await startTwilioApi();
  const env = {
    TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
    TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
    TWILIO_VOICE_URL: 'https://voice.example.com/twiml',
    PUBLIC_BASE_URL,
    TWILIO_API_URL: twilio.url,
  };
  h = await createHarness({ twilio: { ...twilioCallSettings(loadConfig(env))!, timeoutMs: 1000 } });
});
afterAll(async () => {
  await h?.close();
  await twilio?.close();
});

describe('outbound legs placed by Callwright', () => {
  it('drive their call as its first leg: ringing, answered, a hangup drops it', async () => {
    const call = await placed(h);
    await deliver(h, call, ['queued', 'initiated', 'ringing']);
    await expectEverywhere(h, call.callId, { status: 'ringing', direction: 'outbound', legs: [call.sid] });
    await deliver(h, call, ['in-progress']);
    await expectEverywhere(h, call.callId, { status: 'active' });
    await deliver(h, call, ['completed', 'completed']);
    await expectEverywhere(h, call.callId, { status: 'dropped', dropCount: 1, resumeCount: 0, legs: [call.sid] });
    const keys = (await eventRows(h, call.callId)).map((e) => [e.key, e.type, e.applied]);
    expect(keys).toEqual([
      [`start:${call.callId}`, 'started', true],
      [`dial:${call.callId}`, 'leg', true],
      ...(['queued', 'initiated', 'ringing'] as const).map((s) => [`twilio:${call.sid}:${s}`, 'leg', true]),
      [`twilio:${call.sid}:in-progress`, 'answered', true],
      [`twilio:${call.sid}:completed`, 'drop', true],
    ]);
    await expectNoCall(h, call.sid, { legKey: true });
  });

  it.each([
    ['busy', 'busy'],
    ['failed', 'failed'],
    ['no-answer', 'no_answer'],
    ['canceled', 'canceled'],
  ] as const)('%s ends the call with disposition %s; a late callback changes nothing', async (status, disposition) => {
    const call = await placed(h);
    await deliver(h, call, ['initiated', 'ringing', status], 'outbound-dial');
    await expectEverywhere(h, call.callId, { status: 'ended', disposition });
    await eventually(async () => expect((await h.handle(call.callId).describe()).status.name).toBe('COMPLETED'));
    // The call has ended: the leg is still its leg, not a call of its own.
    await deliver(h, call, ['completed', 'in-progress']);
    await expectEverywhere(h, call.callId, { status: 'ended', disposition });
    await expectNoCall(h, call.sid, { legKey: true });
  });

  it('are ordered by SequenceNumber: a hangup before the answer drops the call once', async () => {
    const call = await placed(h);
    // started and the dial's leg, then the callbacks: ringing, completed (a drop), and two stale ones.
    await deliver(h, call, ['ringing', 'completed', 'in-progress', 'initiated']);
    await expectEverywhere(h, call.callId, { status: 'dropped', dropCount: 1 });
    await eventually(async () =>
      expect((await eventRows(h, call.callId)).map((e) => e.applied)).toEqual([true, true, true, true, false, false]),
    );
    await expectNoCall(h, call.sid, { legKey: true });
  });

  it('are found through PostgreSQL when Redis does not know them', async () => {
    const call = await placed(h, { cache: false });
    await expectEverywhere(h, call.callId, { status: 'ringing' });
    // The activity appended the CallSid to `legs`; its Redis key was flushed or expired.
    await deliver(h, call, ['ringing', 'in-progress']);
    await expectEverywhere(h, call.callId, { status: 'active', legs: [call.sid] });
    expect(await h.redis.get(`leg:${call.sid}`)).toBe(call.callId);
    await expectNoCall(h, call.sid, { legKey: true });
  });

  it("a callback that beats the leg's mapping finds its call through the URL Callwright gave Twilio", async () => {
    const sid = newCallSid();
    let release = false;
    // Twilio has placed the call, but its answer to the activity is slow (the request times out and is retried).
    twilio.answer(() => (release ? accepted(sid) : null));
    const to = newNumber();
    const res = await h.request('POST', '/calls', { channel: 'voice', direction: 'outbound', from: OUR_NUMBER, to });
    const callId: string = res.body.callId;
    await eventually(() => expect(twilio.requests.length).toBeGreaterThan(0));
    expect(await h.redis.get(`leg:${sid}`)).toBeNull();
    await post(h, sid, 'initiated', to, 'outbound-api', `?callId=${callId}`);
    expect(await h.redis.get(`leg:${sid}`)).toBe(callId);
    release = true;
    await post(h, sid, 'in-progress', to, 'outbound-api', `?callId=${callId}`);
    await expectEverywhere(h, callId, { status: 'active', legs: [sid] });
    await expectNoCall(h, sid, { legKey: true });
  });

  it('a forged callId is refused: the signature covers the URL', async () => {
    const call = await placed(h);
    const params = {
      CallSid: call.sid,
      CallStatus: 'completed',
      From: OUR_NUMBER,
      To: call.to,
      Direction: 'outbound-api',
      SequenceNumber: '4',
    };
    const signature = getExpectedTwilioSignature(TWILIO_TOKEN, `${PUBLIC_BASE_URL}/v1/webhooks/twilio`, params);
    const res = await h.app.request('/v1/webhooks/twilio?callId=someone-else', {
      method: 'POST',
      body: new URLSearchParams(params).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
    });
    expect(res.status).toBe(401);
    await expectEverywhere(h, call.callId, { status: 'ringing' });
  });
});
