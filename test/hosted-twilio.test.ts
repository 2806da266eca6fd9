// A phone number whose Voice URL points at Callwright: a whole <Gather> conversation against real
// Temporal, PostgreSQL and Redis, with Twilio's requests signed as Twilio signs them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventRows } from './support/assertions.js';
import { expectResumedConversation } from './support/hosted-conversation.js';
import { createHarness, eventually, PUBLIC_BASE_URL, type Harness } from './support/harness.js';
import { postTwilio, TwilioCall } from './support/twilio-voice.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h?.close());

let numbers = 0;
const newNumber = () => `+1556${String(process.pid % 1000).padStart(3, '0')}${String(++numbers).padStart(4, '0')}`;

describe('hosted voice through <Gather>', () => {
  it('greets, converses, survives a retry, silence and a hang-up, welcomes the caller back by name, and ends on goodbye', async () => {
    const call = new TwilioCall(h, newNumber());
    const greeting = await call.dial();
    expect(greeting.says).toEqual(['Hello! How can I help you today?']);
    expect(greeting.gather).toMatchObject({
      input: 'speech',
      method: 'POST',
      speechTimeout: 'auto',
      language: 'en-US',
      action: `${PUBLIC_BASE_URL}/v1/voice/twilio/gather?callId=${call.sid}&leg=${call.sid}&turn=1`,
    });
    expect(greeting.redirect).toBe(`${PUBLIC_BASE_URL}/v1/voice/twilio/gather?callId=${call.sid}&leg=${call.sid}&turn=1&silent=1`);

    const action = call.last.gather!.action;
    expect((await call.say('my name is Ada')).says).toEqual(['Nice to meet you, Ada. How can I help you today?']);
    // Twilio retries a request it got no answer to: the same TwiML, nothing recorded twice.
    const retried = await postTwilio(h, action, call.params({ SpeechResult: 'my name is Ada', Confidence: '0.92' }));
    expect(retried.twiml.says).toEqual(['Nice to meet you, Ada. How can I help you today?']);
    expect((await call.say('I need help with my order')).says[0]).toMatch(/^I understand/);

    // Silence re-prompts twice; the caller speaks before the third.
    expect((await call.silence()).says).toEqual(["Sorry, I didn't catch that."]);
    expect((await call.silence()).says[0]).toMatch(/^Are you still there\?/);

    await call.hangUp();
    await eventually(async () => expect((await h.query(call.sid)).status).toBe('dropped'));

    const redial = new TwilioCall(h, call.from);
    const welcome = await redial.dial();
    expect(welcome.says[0]).toMatch(/^Welcome back, Ada\./);
    expect((await redial.say('what is my name?')).says).toEqual(['Your name is Ada.']);
    const byeAction = redial.last.gather!.action;
    const bye = await redial.say('thanks, bye');
    expect(bye.says).toEqual(['Goodbye, Ada! Thanks for calling.']);
    expect(bye.hangup).toBe(true);
    expect(bye.gather).toBeUndefined();

    await expectResumedConversation(h, call.sid, [call.sid, redial.sid]);
    // A retry of the goodbye after the call closed answers the same last words.
    const late = await postTwilio(h, byeAction, redial.params({ SpeechResult: 'thanks, bye' }));
    expect(late.twiml.says).toEqual(['Goodbye, Ada! Thanks for calling.']);
    expect(late.twiml.hangup).toBe(true);
    const types = (await eventRows(h, call.sid)).map((e) => e.type);
    expect(types.filter((t) => t === 'message')).toHaveLength(4);
  });

  it('three silent prompts in a row end the call as timeout with a goodbye', async () => {
    const call = new TwilioCall(h, newNumber());
    await call.dial();
    await call.silence();
    await call.silence();
    const last = await call.silence();
    expect(last.says).toEqual(["I haven't heard anything, so I'll end the call here. Goodbye!"]);
    expect(last.hangup).toBe(true);
    await eventually(async () =>
      expect(await h.rows('SELECT disposition FROM calls WHERE call_id = $1', [call.sid])).toEqual([{ disposition: 'timeout' }]),
    );
  });

  it('refuses unsigned and wrongly signed requests with 401 and records nothing', async () => {
    const call = new TwilioCall(h, newNumber());
    expect((await postTwilio(h, '/v1/voice/twilio', call.params(), null)).status).toBe(401);
    expect((await postTwilio(h, '/v1/voice/twilio', call.params(), 'bm90IGEgc2lnbmF0dXJl')).status).toBe(401);
    expect(await h.rows('SELECT 1 FROM calls WHERE call_id = $1', [call.sid])).toEqual([]);
  });
});
