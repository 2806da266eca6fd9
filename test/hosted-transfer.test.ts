// Handing a hosted Twilio call to a person: the caller asks (or presses the agent's key), Twilio dials, and
// the Dial outcome ends the call `transferred` or returns to the assistant; operators transfer through the
// API (Twilio's call update API, a stand-in here). Real Temporal, PostgreSQL and Redis; Twilio signed.
import { workflowMetadataQuery } from '@temporalio/workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventRows, turnRows } from './support/assertions.js';
import { createHarness, eventually, newCallId, PUBLIC_BASE_URL, type Harness } from './support/harness.js';
import { resources, type TwilioApi } from './support/twilio-api.js';
import { ACCOUNT_SID, agentNumber, hostedHarness, newNumber } from './support/twilio-hosted.js';
import { readTwiml, TwilioCall } from './support/twilio-voice.js';

const PERSON = '+15550142000';
const CONNECTING = 'Connecting you to a person now. Please hold.';
const BUSY = 'Sorry, the line was busy and I could not connect you. Is there anything I can help you with meanwhile?';
const NO_ANSWER = 'Sorry, nobody answered and I could not connect you. Is there anything I can help you with meanwhile?';

let h: Harness;
let twilio: TwilioApi;
let desk: string;
beforeAll(async () => {
  ({ h, twilio } = await hostedHarness());
  desk = await agentNumber(h, { transfer: { to: PERSON, digit: '0' } });
});
afterAll(async () => {
  await h?.close();
  await twilio?.close();
});

const details = async (callId: string) => (await h.handle(callId).query(workflowMetadataQuery)).currentDetails ?? '';
const transfers = async (callId: string) =>
  (await eventRows(h, callId)).filter((e) => e.type === 'transfer').map((e) => `${e.payload.attempt} ${e.payload.outcome}`);
const dialAction = (call: TwilioCall, attempt: number, turn: number) =>
  `${PUBLIC_BASE_URL}/v1/voice/twilio/dial?callId=${call.sid}&leg=${call.sid}&attempt=${attempt}&turn=${turn}`;

describe('transfer to a person', () => {
  it('the caller asks for a person: <Dial> to the agent’s number; answered ends the call transferred', async () => {
    const call = new TwilioCall(h, newNumber(), desk);
    const greeting = await call.dial();
    // The agent's transfer key makes the gather listen for one key press too.
    expect(greeting.gather).toMatchObject({ input: 'speech dtmf', numDigits: '1' });

    const dialing = await call.say('I want to talk to a person');
    expect(dialing.says).toEqual([CONNECTING]);
    expect(dialing.dial).toEqual({ action: dialAction(call, 1, 1), method: 'POST', timeout: '20', to: PERSON });
    expect(dialing.gather).toBeUndefined();
    await eventually(async () => expect(await details(call.sid)).toContain(`- **Transfer:** ${PERSON} (dialing)`));
    expect((await h.query(call.sid)).status).toBe('active');

    const after = await call.post(dialing.dial!.action, { DialCallStatus: 'completed', DialCallDuration: '95' });
    expect(after.hangup).toBe(true);
    await eventually(async () => {
      expect(await h.rows('SELECT status, disposition FROM calls WHERE call_id = $1', [call.sid])).toEqual([
        { status: 'ended', disposition: 'transferred' },
      ]);
      expect(await transfers(call.sid)).toEqual(['1 dialing', '1 answered']);
      const now = await details(call.sid);
      expect(now).toContain('**Status:** ended (transferred)');
      expect(now).toContain(`- **Transfer:** ${PERSON} (answered)`);
    });
    const turns = (await turnRows(h, call.sid)).map((t) => `${t.role}: ${t.text}`);
    expect(turns.slice(1)).toEqual(['user: I want to talk to a person', `assistant: ${CONNECTING}`]);
  });

  it('busy returns to the assistant, which listens; the next attempt is numbered 2', async () => {
    const call = new TwilioCall(h, newNumber(), desk);
    await call.dial();
    const first = await call.say('can I speak to an agent please');
    const busy = await call.post(first.dial!.action, { DialCallStatus: 'busy' });
    expect(busy.says).toEqual([BUSY]);
    expect(busy.gather?.action).toBe(`${PUBLIC_BASE_URL}/v1/voice/twilio/gather?callId=${call.sid}&leg=${call.sid}&turn=2`);
    expect(busy.dial).toBeUndefined();
    expect((await h.query(call.sid)).status).toBe('active');
    await eventually(async () => expect(await details(call.sid)).toContain(`- **Transfer:** ${PERSON} (busy)`));

    const second = await call.say('operator');
    expect(second.dial?.action).toBe(dialAction(call, 2, 2));
    await eventually(async () => expect(await details(call.sid)).toContain(`- **Transfer:** ${PERSON} (dialing) · attempt 2`));
    const unanswered = await call.post(second.dial!.action, { DialCallStatus: 'no-answer' });
    expect(unanswered.says).toEqual([NO_ANSWER]);
    expect(unanswered.gather).toBeDefined();
    // Twilio retrying the Dial action gets the same answer, and nothing is recorded twice.
    expect((await call.post(second.dial!.action, { DialCallStatus: 'no-answer' })).says).toEqual([NO_ANSWER]);
    await eventually(async () => expect(await transfers(call.sid)).toEqual(['1 dialing', '1 busy', '2 dialing', '2 no-answer']));
    expect((await h.query(call.sid)).status).toBe('active');
    await call.hangUp();
  });
});

describe('digits', () => {
  it('the transfer key transfers; another key is a digits event the responder answers', async () => {
    const call = new TwilioCall(h, newNumber(), desk);
    await call.dial();
    const pressed = await call.say('', { Digits: '5' });
    expect(pressed.gather).toBeDefined();
    expect(pressed.says).toHaveLength(1);
    const dialing = await call.say('', { Digits: '0' });
    expect(dialing.says).toEqual([CONNECTING]);
    expect(dialing.dial?.to).toBe(PERSON);
    await eventually(async () => {
      const events = await eventRows(h, call.sid);
      expect(events.filter((e) => e.type === 'digits').map((e) => e.payload.digits)).toEqual(['5', '0']);
      expect(await transfers(call.sid)).toEqual(['1 dialing']);
    });
    // The key the responder heard is the caller's turn; the transfer key is not a turn.
    const turns = (await turnRows(h, call.sid)).map((t) => `${t.role}: ${t.text}`);
    expect(turns.slice(1)).toEqual(['user: 5', `assistant: ${pressed.says[0]}`, `assistant: ${CONNECTING}`]);
    await call.hangUp();
  });
});

describe('POST /calls/{callId}/transfer', () => {
  it("asks Twilio to replace the call's TwiML with the line and a <Dial>; its outcome comes back to the call", async () => {
    const call = new TwilioCall(h, newNumber(), desk);
    await call.dial();
    await call.say('my order is late');
    const to = '+15550142999';
    const res = await h.request('POST', `/calls/${call.sid}/transfer`, { to }, { 'idempotency-key': `op-${call.sid}` });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ callId: call.sid, status: 'active' });

    const update = await eventually(() => {
      const found = twilio.requests.find((r) => r.path === `/2010-04-01/Accounts/${ACCOUNT_SID}/Calls/${call.sid}.json`);
      expect(found).toBeDefined();
      return found!;
    });
    expect(update.method).toBe('POST');
    expect(update.authorization).toMatch(/^Basic /);
    const twiml = readTwiml(update.form.get('Twiml')!);
    expect(twiml.says).toEqual([CONNECTING]);
    expect(twiml.dial).toMatchObject({ to, timeout: '20' });
    // Numbered past the turns the leg has used (greeting, one exchange: 3 turns), so later gathers repeat none.
    expect(twiml.dial!.action).toBe(dialAction(call, 1, 3));
    // The same key again changes nothing: one update at Twilio.
    expect((await h.request('POST', `/calls/${call.sid}/transfer`, { to }, { 'idempotency-key': `op-${call.sid}` })).status).toBe(200);
    const events = await eventually(async () => {
      const rows = (await eventRows(h, call.sid)).filter((e) => e.type === 'transfer');
      expect(rows).toHaveLength(1);
      return rows;
    });
    expect(events[0]!.payload).toMatchObject({ to, attempt: 1, outcome: 'dialing', by: 'operator' });
    await eventually(async () => expect(await details(call.sid)).toContain(`- **Transfer:** ${to} (dialing)`));
    expect(twilio.requests.filter((r) => r.path.endsWith(`/Calls/${call.sid}.json`))).toHaveLength(1);

    // Twilio follows the new TwiML: the person is busy, and the assistant takes the call back.
    const busy = await call.post(twiml.dial!.action, { DialCallStatus: 'busy' });
    expect(busy.says).toEqual([BUSY]);
    expect(busy.gather?.action).toBe(`${PUBLIC_BASE_URL}/v1/voice/twilio/gather?callId=${call.sid}&leg=${call.sid}&turn=4`);
    expect((await call.say('what is my name?')).says).toHaveLength(1);
    await eventually(async () => expect(await transfers(call.sid)).toEqual(['1 dialing', '1 busy']));
    await call.hangUp();
  });

  it('Twilio refusing the update (the call is gone there) is a failed attempt; the call goes on', async () => {
    const call = new TwilioCall(h, newNumber(), desk);
    await call.dial();
    twilio.answer((r, n) =>
      r.path.endsWith(`/Calls/${call.sid}.json`) ? { status: 404, body: { code: 20404, message: 'not found' } } : resources()(r, n),
    );
    try {
      const res = await h.request('POST', `/calls/${call.sid}/transfer`, { to: PERSON });
      // The operator learns of it from the events and the Temporal UI, not from the answer (see the report).
      expect(res.status).toBe(200);
      await eventually(async () => expect(await transfers(call.sid)).toEqual(['1 dialing', '1 failed']));
      expect(await details(call.sid)).toContain(`- **Transfer:** ${PERSON} (failed)`);
      expect((await call.say('hello again')).gather).toBeDefined();
    } finally {
      twilio.answer(resources());
    }
    await call.hangUp();
  });

  it('409 for a chat call, 403 for a chat token, 400 for an invalid `to`, 404 for no call', async () => {
    const from = newNumber();
    const chat = newCallId();
    expect((await h.request('POST', '/calls', { callId: chat, channel: 'chat', from })).status).toBe(201);
    const asChat = await h.request('POST', `/calls/${chat}/transfer`, { to: PERSON });
    expect(asChat.status).toBe(409);
    expect(asChat.body.error.code).toBe('invalid_state');
    const token = { authorization: await h.tokenFor(from) };
    expect((await h.request('POST', `/calls/${chat}/transfer`, { to: PERSON }, token)).status).toBe(403);
    for (const to of ['12345', 'tel:+15550142000', 'sip:']) {
      const bad = await h.request('POST', `/calls/${chat}/transfer`, { to });
      expect(bad.status, to).toBe(400);
      expect(bad.body.error.details[0].path).toBe('to');
    }
    expect((await h.request('POST', `/calls/${newCallId()}/transfer`, { to: PERSON })).status).toBe(404);
    expect(await eventRows(h, chat).then((rows) => rows.filter((e) => e.type === 'transfer'))).toEqual([]);
  });

  it('400 when Twilio is not configured', async () => {
    const bare = await createHarness({ noWorker: true });
    try {
      const res = await bare.request('POST', `/calls/${newCallId()}/transfer`, { to: PERSON });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'invalid_request', message: 'transfers need TWILIO_ACCOUNT_SID' });
    } finally {
      await bare.close();
    }
  });
});
