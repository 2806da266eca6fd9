// Outbound calls: POST /calls with direction outbound dials through Twilio's REST API (a node:http
// stand-in plays it), and Twilio's status callbacks for the new leg drive the call.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, twilioCallSettings } from '../config/env.js';
import { eventRows, expectEverywhere, workflowExists } from './support/assertions.js';
import { createHarness, eventually, newCallId, PUBLIC_BASE_URL, TWILIO_TOKEN, type Harness } from './support/harness.js';
import { historyCounts } from './support/history.js';
import { accepted, newCallSid, startTwilioApi, type TwilioApi } from './support/twilio-api.js';

const ACCOUNT_SID = `AC${'0123456789abcdef'.repeat(2)}`;
const VOICE_URL = 'https://voice.example.com/twiml/outbound';
const COMPANY = '+15550100100';
const WEBHOOK = '/v1/webhooks/twilio';
const SEQUENCE = { initiated: 0, ringing: 1, 'in-progress': 2, completed: 3 } as const;

let numbers = 0;
const newNumber = () => `+1555${String(process.pid % 1000).padStart(3, '0')}${String(++numbers).padStart(4, '0')}`;

let twilio: TwilioApi;
let h: Harness;
beforeAll(async () => {
  twilio = await startTwilioApi();
  // The worker's settings as the configuration builds them, pointed at the stand-in, with a short timeout.
  const env = {
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
    TWILIO_VOICE_URL: VOICE_URL,
    PUBLIC_BASE_URL,
    TWILIO_API_URL: twilio.url,
  };
  h = await createHarness({ twilio: { ...twilioCallSettings(loadConfig(env))!, timeoutMs: 1000 } });
});
afterAll(async () => {
  await h?.close();
  await twilio?.close();
});

const dial = (callId: string, to: string, extra: Record<string, unknown> = {}) =>
  h.request('POST', '/calls', { callId, channel: 'voice', direction: 'outbound', from: COMPANY, to, ...extra });

/** A status callback for an outbound-api leg, signed as Twilio signs it (see test/webhooks-twilio.test.ts). */
async function callback(sid: string, status: keyof typeof SEQUENCE, to: string, { inbound = false } = {}) {
  // An inbound leg is the callee calling the company back: From and To swap.
  const params: Record<string, string> = {
    AccountSid: ACCOUNT_SID,
    ApiVersion: '2010-04-01',
    CallSid: sid,
    CallStatus: status,
    Direction: inbound ? 'inbound' : 'outbound-api',
    From: inbound ? to : COMPANY,
    To: inbound ? COMPANY : to,
    SequenceNumber: String(SEQUENCE[status]),
    Timestamp: new Date().toUTCString(),
  };
  const data = Object.keys(params)
    .sort()
    .reduce((acc, name) => acc + name + params[name], PUBLIC_BASE_URL + WEBHOOK);
  const signature = createHmac('sha1', TWILIO_TOKEN).update(data).digest('base64');
  const res = await h.app.request(WEBHOOK, {
    method: 'POST',
    body: new URLSearchParams(params).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
  });
  expect(res.status, status).toBe(200);
}

describe('POST /calls, outbound', () => {
  it('asks Twilio to place the call, answers 201 ringing, and the CallSid joins legs everywhere', async () => {
    const sid = newCallSid();
    twilio.answer(() => accepted(sid));
    const callId = newCallId();
    const to = newNumber();
    const res = await dial(callId, to);
    expect(res.status).toBe(201);
    // Answered once the start is written, before the dial: the leg is not known yet.
    expect(res.body).toMatchObject({
      callId,
      status: 'ringing',
      channel: 'voice',
      direction: 'outbound',
      from: COMPANY,
      to,
      provider: 'twilio',
      legs: [],
    });

    const [request] = await eventually(() => {
      expect(twilio.requests).toHaveLength(1);
      return twilio.requests;
    });
    expect(request).toMatchObject({
      method: 'POST',
      path: `/2010-04-01/Accounts/${ACCOUNT_SID}/Calls.json`,
      authorization: `Basic ${Buffer.from(`${ACCOUNT_SID}:${TWILIO_TOKEN}`).toString('base64')}`,
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(Object.fromEntries(request.form)).toMatchObject({
      To: to,
      From: COMPANY,
      Url: `${VOICE_URL}?callId=${callId}`,
      StatusCallback: `${PUBLIC_BASE_URL}/v1/webhooks/twilio?callId=${callId}`,
      StatusCallbackMethod: 'POST',
    });
    expect(request.form.getAll('StatusCallbackEvent')).toEqual(['initiated', 'ringing', 'answered', 'completed']);

    await expectEverywhere(h, callId, { status: 'ringing', legs: [sid] });
    expect((await h.rows('SELECT legs, provider FROM calls WHERE call_id = $1', [callId]))[0]).toEqual({ legs: [sid], provider: 'twilio' });
    expect(await h.redis.get(`leg:${sid}`)).toBe(callId);
    expect((await eventRows(h, callId)).map((e) => [e.type, e.key])).toEqual([
      ['started', `start:${callId}`],
      ['leg', `dial:${callId}`],
    ]);
    expect((await historyCounts(h, callId)).activities).toEqual(['placeCall']);

    // A repeat is answered with the call and dials nothing again.
    const again = await dial(callId, to);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ callId, status: 'ringing', legs: [sid] });
    expect(twilio.requests).toHaveLength(1);
  });

  it("Twilio's callbacks for the leg move the call ringing → active → dropped, also when Redis lost the leg", async () => {
    const sid = newCallSid();
    twilio.answer(() => accepted(sid));
    const callId = newCallId();
    const to = newNumber();
    expect((await dial(callId, to)).status).toBe(201);
    await expectEverywhere(h, callId, { status: 'ringing', legs: [sid] });

    await callback(sid, 'initiated', to);
    await callback(sid, 'ringing', to);
    await expectEverywhere(h, callId, { status: 'ringing', legs: [sid] });
    await h.redis.del(`leg:${sid}`); // PostgreSQL still names the call that placed the leg
    await callback(sid, 'in-progress', to);
    await expectEverywhere(h, callId, { status: 'active', legs: [sid] });
    await callback(sid, 'completed', to);
    await expectEverywhere(h, callId, { status: 'dropped', dropCount: 1, legs: [sid] });

    expect(await workflowExists(h, sid)).toBe(false);
    expect(await h.redis.get(`leg:${sid}`)).toBe(callId);
    expect((await h.rows('SELECT count(*)::int AS n FROM calls WHERE call_id = $1 OR $1 = ANY(legs)', [sid]))[0].n).toBe(1);
  });

  it('a call Callwright ends first is hung up at Twilio: canceled while ringing, completed once answered', async () => {
    const hangUps = (sid: string) =>
      twilio.requests.filter((r) => r.path.endsWith(`/Calls/${sid}.json`)).map((r) => [r.authorization, r.form.get('Status')]);
    const auth = `Basic ${Buffer.from(`${ACCOUNT_SID}:${TWILIO_TOKEN}`).toString('base64')}`;
    const placed = async () => {
      const sid = newCallSid();
      twilio.answer(() => accepted(sid));
      const callId = newCallId();
      const to = newNumber();
      expect((await dial(callId, to)).status).toBe(201);
      await expectEverywhere(h, callId, { status: 'ringing', legs: [sid] });
      return { sid, callId, to };
    };

    const ringing = await placed();
    expect((await h.request('POST', `/calls/${ringing.callId}/end`, {})).body).toMatchObject({ status: 'ended', disposition: 'canceled' });
    await eventually(() => expect(hangUps(ringing.sid)).toEqual([[auth, 'canceled']]));

    const answered = await placed();
    await callback(answered.sid, 'in-progress', answered.to);
    await expectEverywhere(h, answered.callId, { status: 'active' });
    expect((await h.request('POST', `/calls/${answered.callId}/end`, {})).status).toBe(200);
    await eventually(() => expect(hangUps(answered.sid)).toEqual([[auth, 'completed']]));

    // The callee hung up first (Twilio said completed): nothing to hang up when the call ends later.
    const gone = await placed();
    await callback(gone.sid, 'in-progress', gone.to);
    await callback(gone.sid, 'completed', gone.to);
    await expectEverywhere(h, gone.callId, { status: 'dropped' });
    expect((await h.request('POST', `/calls/${gone.callId}/end`, {})).status).toBe(200);
    await eventually(async () => expect((await h.handle(gone.callId).describe()).status.name).toBe('COMPLETED'));
    expect(hangUps(gone.sid)).toEqual([]);
  });

  it('the callee is the party: their profile is in the call, and calling back after hanging up resumes it', async () => {
    const sid = newCallSid();
    twilio.answer(() => accepted(sid));
    const callId = newCallId();
    const to = newNumber();
    expect((await h.request('PUT', `/callers/${encodeURIComponent(to)}`, { name: 'Grace' })).status).toBe(201);
    expect((await dial(callId, to)).status).toBe(201);
    await expectEverywhere(h, callId, { status: 'ringing', legs: [sid] });
    expect((await h.query(callId)).context).toMatchObject({ name: 'Grace' });

    await callback(sid, 'in-progress', to);
    await callback(sid, 'completed', to);
    await expectEverywhere(h, callId, { status: 'dropped', dropCount: 1 });
    expect(await h.redis.get(`dropped:default:${to}`)).toBe(callId);
    expect(await h.redis.get(`dropped:default:${COMPANY}`)).not.toBe(callId);

    // The callee calls the company back within the window; PostgreSQL knows it too once Redis forgets.
    await h.redis.del(`dropped:default:${to}`);
    const back = newCallSid();
    await callback(back, 'ringing', to, { inbound: true });
    await expectEverywhere(h, callId, { status: 'active', resumeCount: 1, legs: [sid, back] });
    expect(await workflowExists(h, back)).toBe(false);
  });

  it("a refusal ends the call failed with Twilio's message and code in its events, without a retry", async () => {
    const refusal = {
      code: 21211,
      message: "The 'To' number +1555 is not a valid phone number.",
      more_info: 'https://www.twilio.com/docs/errors/21211',
      status: 400,
    };
    twilio.answer(() => ({ status: 400, body: refusal }));
    const callId = newCallId();
    const res = await dial(callId, '+1555');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'ringing' });

    await expectEverywhere(h, callId, { status: 'ended', disposition: 'failed', legs: [] });
    const expected = {
      type: 'end',
      key: `dial:${callId}`,
      applied: true,
      payload: { disposition: 'failed', reason: refusal.message, providerError: { code: 21211, status: 400, moreInfo: refusal.more_info } },
    };
    const events = await h.request('GET', `/calls/${callId}/events`);
    expect(events.status).toBe(200);
    expect(events.body.events.map((e: { type: string }) => e.type)).toEqual(['started', 'end']);
    expect(events.body.events[1]).toMatchObject(expected);
    expect((await eventRows(h, callId)).at(-1)).toMatchObject(expected);
    expect(twilio.requests).toHaveLength(1);
  });

  it('retries a request that timed out, a 503 and a 429, then takes the CallSid of the one Twilio accepted', async () => {
    const sid = newCallSid();
    const outcomes = [
      null,
      { status: 503, body: { code: 20500, message: 'Internal Server Error', status: 503 } },
      { status: 429, body: { code: 20429, message: 'Too Many Requests', status: 429 } },
    ];
    twilio.answer((_request, n) => (n < outcomes.length ? outcomes[n] : accepted(sid)));
    const callId = newCallId();
    const to = newNumber();
    expect((await dial(callId, to)).status).toBe(201);

    // Backoff 1 s, 2 s, 4 s between the attempts.
    await eventually(() => expect(twilio.requests).toHaveLength(4), 30_000);
    await expectEverywhere(h, callId, { status: 'ringing', legs: [sid] });
    for (const r of twilio.requests) expect(r.form.get('To')).toBe(to);
    expect(await h.redis.get(`leg:${sid}`)).toBe(callId);
  });

  it("an operator's end while the call is being dialed applies once the leg is known", async () => {
    const sid = newCallSid();
    twilio.answer((_request, n) => (n === 0 ? null : accepted(sid)));
    const callId = newCallId();
    expect((await dial(callId, newNumber())).status).toBe(201);
    await eventually(() => expect(twilio.requests).toHaveLength(1));

    const end = await h.request('POST', `/calls/${callId}/end`, { eventId: 'operator-end' });
    expect(end.status).toBe(200);
    expect(end.body).toMatchObject({ status: 'ended', disposition: 'canceled', legs: [sid] });
    expect((await eventRows(h, callId)).map((e) => e.type)).toEqual(['started', 'leg', 'end']);
  });

  it('refuses what cannot be dialed with 400 or 403, and starts nothing', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ channel: 'chat', to: newNumber() }, 'channel'],
      [{ to: undefined }, 'to'],
      [{ to: newNumber(), answered: true }, 'answered'],
    ];
    for (const [body, path] of cases) {
      const callId = newCallId();
      const res = await h.request('POST', '/calls', { callId, channel: 'voice', direction: 'outbound', from: COMPANY, ...body });
      expect(res.status, path).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'invalid_request', details: [expect.objectContaining({ path })] });
      expect(await workflowExists(h, callId)).toBe(false);
    }
    // A chat client's token may start its own chats, never dial.
    const callId = newCallId();
    const res = await h.request(
      'POST',
      '/calls',
      { callId, channel: 'voice', direction: 'outbound', from: COMPANY, to: newNumber() },
      { authorization: await h.tokenFor(COMPANY) },
    );
    expect(res.status).toBe(403);
    expect(await workflowExists(h, callId)).toBe(false);
  });
});

describe('outbound calling not configured', () => {
  let off: Harness;
  beforeAll(async () => {
    off = await createHarness({ noWorker: true });
  });
  afterAll(() => off?.close());

  it('answers 400 invalid_request and starts nothing', async () => {
    const callId = newCallId();
    const res = await off.request('POST', '/calls', { callId, channel: 'voice', direction: 'outbound', from: COMPANY, to: newNumber() });
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'invalid_request', message: 'outbound calling is not configured' } } });
    expect(
      await off
        .handle(callId)
        .describe()
        .then(
          () => true,
          () => false,
        ),
    ).toBe(false);
    expect(await off.rows('SELECT 1 FROM calls WHERE call_id = $1', [callId])).toEqual([]);
  });

  it('configuration: an account SID needs its token and the URLs Twilio calls; a bad SID is named', () => {
    const error = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      throw new Error('configuration accepted');
    };
    const missing = error({ TWILIO_ACCOUNT_SID: ACCOUNT_SID });
    for (const name of ['TWILIO_AUTH_TOKEN', 'PUBLIC_BASE_URL']) expect(missing).toContain(`${name}: required with TWILIO_ACCOUNT_SID`);
    // Without TWILIO_VOICE_URL a placed call converses through Callwright's own hosted voice.
    expect(missing).not.toContain('TWILIO_VOICE_URL');
    const hosted = { TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: 'token', PUBLIC_BASE_URL: 'https://cw.example.com' };
    expect(twilioCallSettings(loadConfig(hosted))?.voiceUrl).toBe('https://cw.example.com/v1/voice/twilio');
    expect(error({ TWILIO_ACCOUNT_SID: 'AC123' })).toMatch(/TWILIO_ACCOUNT_SID/);
    expect(error({ TWILIO_VOICE_URL: 'ftp://voice' })).toMatch(/TWILIO_VOICE_URL/);
    expect(loadConfig({}).TWILIO_API_URL).toBe('https://api.twilio.com');
    expect(twilioCallSettings(loadConfig({}))).toBeUndefined();
  });
});
