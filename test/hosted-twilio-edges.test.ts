// Hosted voice at its edges: an outbound call that converses and is resumed when the callee calls
// back, and bad input (oversized or unstorable speech, a turn of an ended call).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, twilioCallSettings } from '../config/env.js';
import { turnRows } from './support/assertions.js';
import { createHarness, eventually, newCallId, PUBLIC_BASE_URL, TWILIO_TOKEN, type Harness } from './support/harness.js';
import { accepted, newCallSid, startTwilioApi, type TwilioApi } from './support/twilio-api.js';
import { postTwilio, TwilioCall } from './support/twilio-voice.js';

const COMPANY = '+15550100200';
let numbers = 0;
const newNumber = () => `+1557${String(process.pid % 1000).padStart(3, '0')}${String(++numbers).padStart(4, '0')}`;

let twilio: TwilioApi;
let h: Harness;
beforeAll(async () => {
  twilio = await startTwilioApi();
  // No TWILIO_VOICE_URL: placed calls converse through Callwright's own hosted voice.
  const env = { TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`, TWILIO_AUTH_TOKEN: TWILIO_TOKEN, PUBLIC_BASE_URL, TWILIO_API_URL: twilio.url };
  h = await createHarness({ twilio: { ...twilioCallSettings(loadConfig(env))!, timeoutMs: 1000 } });
});
afterAll(async () => {
  await h?.close();
  await twilio?.close();
});

describe('an outbound call through hosted voice', () => {
  it('greets the callee, drops on their hang-up, and welcomes them back when they call the number back', async () => {
    const sid = newCallSid();
    twilio.answer(() => accepted(sid));
    const callId = newCallId();
    const callee = newNumber();
    expect((await h.request('POST', '/calls', { callId, channel: 'voice', direction: 'outbound', from: COMPANY, to: callee })).status).toBe(
      201,
    );
    const [request] = await eventually(() => {
      expect(twilio.requests).toHaveLength(1);
      return twilio.requests;
    });
    expect(request!.form.get('Url')).toBe(`${PUBLIC_BASE_URL}/v1/voice/twilio?callId=${callId}`);

    // Twilio fetches the Url once the callee answers: From is the company, To the callee.
    const placed = new TwilioCall(h, COMPANY, callee, `?callId=${callId}`, { sid });
    expect((await placed.dial()).says).toEqual(['Hello! How can I help you today?']);
    expect(placed.last.gather!.action).toContain(`callId=${callId}&leg=${sid}&turn=1`);
    expect((await placed.say("I'm Bob")).says).toEqual(['Nice to meet you, Bob. How can I help you today?']);
    await placed.hangUp();
    await eventually(async () => expect((await h.query(callId)).status).toBe('dropped'));

    const back = new TwilioCall(h, callee, COMPANY);
    expect((await back.dial()).says[0]).toMatch(/^Welcome back, Bob\./);
    expect((await back.say('what is my name?')).says).toEqual(['Your name is Bob.']);
    const view = await h.query(callId);
    expect(view).toMatchObject({ status: 'active', direction: 'outbound', legs: [sid, back.sid], resumeCount: 1 });
  });
});

describe('bad input on a Gather action', () => {
  it('asks again for 10,000 characters, strips NUL bytes and invalid UTF-8, and records only storable text', async () => {
    const call = new TwilioCall(h, newNumber());
    await call.dial();
    const action = call.last.gather!.action;
    const long = await call.say('a'.repeat(10_000));
    expect(long.says[0]).toBe("Sorry, I didn't catch that.");
    expect(long.gather!.action).toBe(action);

    // Twilio's form decoding turns invalid UTF-8 into U+FFFD; NUL arrives as %00.
    const body = `${new URLSearchParams(call.params()).toString()}&SpeechResult=plan%00ting%FF%FE+beans`;
    const params = Object.fromEntries(new URLSearchParams(body));
    const res = await postTwilio(h, action, params);
    expect(res.status).toBe(200);
    expect(res.twiml.says[0]).toBe('I understand: "planting beans". Tell me more.');
    const users = (await turnRows(h, call.sid)).filter((t) => t.role === 'user').map((t) => t.text);
    expect(users).toEqual(['planting beans']);
  });

  it('answers <Hangup/> to a turn of a call that has ended', async () => {
    const call = new TwilioCall(h, newNumber());
    await call.dial();
    const action = call.last.gather!.action;
    expect((await h.request('POST', `/calls/${call.sid}/end`, {})).status).toBe(200);
    const late = await postTwilio(h, action, call.params({ SpeechResult: 'hello?' }));
    expect(late.status).toBe(200);
    expect(late.twiml).toMatchObject({ hangup: true, says: [] });
    expect((await turnRows(h, call.sid)).filter((t) => t.role === 'user')).toEqual([]);
  });
});
