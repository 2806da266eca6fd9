// A Vonage number whose answer_url points at Callwright: whole NCCO conversations against real Temporal,
// PostgreSQL and Redis, with every request signed as Vonage signs it (a JWT whose payload_hash covers the body).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventRows, turnRows } from './support/assertions.js';
import { expectResumedConversation } from './support/hosted-conversation.js';
import { createHarness, eventually, PUBLIC_BASE_URL, type Harness } from './support/harness.js';
import { sendVonage, VonageCall, vonageJwt } from './support/vonage-voice.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h?.close());

let numbers = 0;
/** Vonage writes numbers in E.164 without the +. */
const newNumber = () => `1557${String(process.pid % 1000).padStart(3, '0')}${String(++numbers).padStart(4, '0')}`;
const VOICE = `${PUBLIC_BASE_URL}/v1/voice/vonage`;
const call = async (id: string) => (await h.rows('SELECT status, disposition FROM calls WHERE call_id = $1', [id]))[0];

/** A number of its own, routed to a new agent with `fields`. */
async function agentNumber(fields: object): Promise<string> {
  const agent = await h.request('POST', '/agents', { name: 'Desk', ...fields });
  expect(agent.status).toBe(201);
  const number = newNumber();
  expect((await h.request('PUT', `/numbers/%2B${number}`, { agentId: agent.body.agentId })).status).toBe(201);
  return number;
}

describe('hosted voice through NCCOs', () => {
  it('greets, converses, survives a retry, silence and a hang-up, welcomes the caller back by name, and ends on goodbye', async () => {
    const first = new VonageCall(h, newNumber());
    const greeting = await first.answer('GET');
    expect(greeting.ncco).toEqual([
      { action: 'talk', text: 'Hello! How can I help you today?', language: 'en-US' },
      {
        action: 'input',
        type: ['speech'],
        eventUrl: [`${VOICE}/input?callId=${first.uuid}&leg=${first.uuid}&turn=1&silent=1`],
        eventMethod: 'POST',
        speech: { language: 'en-US', endOnSilence: 1.5, uuid: [first.uuid] },
      },
    ]);

    const event = first.inputEvent('my name is Ada');
    expect((await first.input(event)).talks).toEqual(['Nice to meet you, Ada. How can I help you today?']);
    // Vonage retries an event it got no answer to: the same NCCO, nothing recorded twice.
    const retried = await sendVonage(h, 'POST', greeting.input!.eventUrl[0], event);
    expect(retried.ncco?.talks).toEqual(['Nice to meet you, Ada. How can I help you today?']);
    expect(retried.ncco?.input?.eventUrl[0]).toMatch(/turn=2&silent=1$/);
    expect((await first.say('I need help with my order')).talks[0]).toMatch(/^I understand/);

    // Silence (the input's start timeout) re-prompts twice; the caller hangs up before the third.
    expect((await first.silence()).talks).toEqual(["Sorry, I didn't catch that."]);
    expect(first.last.input?.eventUrl[0]).toMatch(/turn=3&silent=2$/);
    expect((await first.silence()).talks[0]).toMatch(/^Are you still there\?/);
    await first.status('completed');
    await eventually(async () => expect((await h.query(first.uuid)).status).toBe('dropped'));

    const redial = new VonageCall(h, first.from);
    expect((await redial.answer('POST')).talks[0]).toMatch(/^Welcome back, Ada\./);
    expect(redial.last.input?.eventUrl[0]).toBe(`${VOICE}/input?callId=${first.uuid}&leg=${redial.uuid}&turn=1&silent=1`);
    expect((await redial.say('what is my name?')).talks).toEqual(['Your name is Ada.']);
    const byeUrl = redial.last.input!.eventUrl[0];
    const bye = await redial.say('thanks, bye');
    expect(bye.ncco).toEqual([{ action: 'talk', text: 'Goodbye, Ada! Thanks for calling.', language: 'en-US' }]);

    await expectResumedConversation(h, first.uuid, [first.uuid, redial.uuid]);
    // A retry of the goodbye after the call closed answers the same last words; another turn's event hangs up.
    expect((await sendVonage(h, 'POST', byeUrl, redial.inputEvent('thanks, bye'))).ncco?.talks).toEqual([
      'Goodbye, Ada! Thanks for calling.',
    ]);
    const late = await sendVonage(h, 'POST', byeUrl.replace('turn=2', 'turn=7'), redial.inputEvent('hello?'));
    expect(late.text).toBe('[]');
    expect((await eventRows(h, first.uuid)).filter((e) => e.type === 'message')).toHaveLength(4);
  });

  it('three silent prompts in a row end the call as timeout with a goodbye', async () => {
    const silent = new VonageCall(h, newNumber());
    await silent.answer();
    await silent.silence();
    await silent.silence();
    expect((await silent.silence()).ncco).toEqual([
      { action: 'talk', text: "I haven't heard anything, so I'll end the call here. Goodbye!", language: 'en-US' },
    ]);
    await eventually(async () => expect(await call(silent.uuid)).toEqual({ status: 'ended', disposition: 'timeout' }));
  });

  it('asks again for what cannot be an utterance, and records words without their NUL bytes', async () => {
    const odd = new VonageCall(h, newNumber());
    await odd.answer();
    const long = await odd.say('a'.repeat(10_000));
    expect(long.talks).toEqual(["Sorry, I didn't catch that."]);
    expect(long.input?.eventUrl[0]).toMatch(/turn=2&silent=1$/);
    expect((await odd.say('my name\u0000 is Ada\u0000')).talks).toEqual(['Nice to meet you, Ada. How can I help you today?']);
    const said = (await turnRows(h, odd.uuid)).filter((t) => t.role === 'user').map((t) => t.text);
    expect(said).toEqual(['my name is Ada']);
  });

  it('transfers to a person: busy returns to the assistant, answered ends the call transferred', async () => {
    const number = await agentNumber({ transfer: { to: '+15550001111' } });
    const caller = new VonageCall(h, newNumber(), number);
    await caller.answer();
    const asked = await caller.say('I want a person');
    expect(asked.ncco).toEqual([
      { action: 'talk', text: 'Connecting you to a person now. Please hold.', language: 'en-US' },
      {
        action: 'connect',
        eventType: 'synchronous',
        eventUrl: [`${VOICE}/connect?callId=${caller.uuid}&leg=${caller.uuid}&attempt=1&turn=1`],
        eventMethod: 'POST',
        timeout: 20,
        from: number,
        endpoint: [{ type: 'phone', number: '15550001111' }],
      },
    ]);
    // The person's leg rings first: events that only inform change nothing.
    expect(await caller.connectEvent('started')).toBeNull();
    expect(await caller.connectEvent('ringing')).toBeNull();
    const busy = (await caller.connectEvent('busy'))!;
    expect(busy.talks).toEqual(['Sorry, the line was busy and I could not connect you. Is there anything I can help you with meanwhile?']);
    expect(busy.input?.eventUrl[0]).toMatch(/leg=[\w-]+&turn=2&silent=1$/);

    expect((await caller.say('an operator please')).connect?.eventUrl[0]).toMatch(/attempt=2&turn=2$/);
    expect(await caller.connectEvent('answered')).toBeNull();
    await eventually(async () => expect(await call(caller.uuid)).toEqual({ status: 'ended', disposition: 'transferred' }));
    // The person hangs up later: nothing more to record.
    expect(await caller.connectEvent('completed')).toBeNull();
    const transfers = (await eventRows(h, caller.uuid)).filter((e) => e.type === 'transfer').map((e) => e.payload.outcome);
    expect(transfers).toEqual(['dialing', 'busy', 'dialing', 'answered']);
  });

  it("listens for the agent's transfer digit too, and records the keys pressed", async () => {
    const number = await agentNumber({ transfer: { to: '+15550001112', digit: '0' } });
    const caller = new VonageCall(h, newNumber(), number);
    const greeting = await caller.answer();
    expect(greeting.input).toMatchObject({ type: ['speech', 'dtmf'], dtmf: { maxDigits: 1 } });
    expect((await caller.say('', '0')).connect?.endpoint).toEqual([{ type: 'phone', number: '15550001112' }]);
    await eventually(async () => {
      const digits = (await eventRows(h, caller.uuid)).filter((e) => e.type === 'digits').map((e) => e.payload.digits);
      expect(digits).toEqual(['0']);
    });
  });

  it("records an agent's calls with the record action; the recording joins the call view", async () => {
    const number = await agentNumber({ record: true });
    const caller = new VonageCall(h, newNumber(), number);
    const greeting = await caller.answer();
    expect(greeting.ncco[0]).toEqual({ action: 'record', eventUrl: [`${VOICE}/recording?callId=${caller.uuid}`], eventMethod: 'POST' });
    await caller.status('completed');
    const recording = {
      start_time: '2026-01-15T12:00:00Z',
      recording_url: 'https://api.nexmo.com/v1/files/aaaaaaaa-bbbb-cccc-dddd-0123456789ab',
      size: 12345,
      recording_uuid: 'bbbbbbbb-aaaa-cccc-dddd-0123456789ab',
      end_time: '2026-01-15T12:01:05Z',
      conversation_uuid: caller.conversation,
      timestamp: '2026-01-15T12:01:06.000Z',
    };
    const sent = await sendVonage(h, 'POST', greeting.record!.eventUrl[0], recording);
    expect(sent).toMatchObject({ status: 200, text: '' });
    await eventually(async () => {
      const view = await h.request('GET', `/calls/${caller.uuid}`);
      expect(view.body.recording).toEqual({ url: recording.recording_url, durationSeconds: 65 });
    });
  });

  it('refuses unsigned and wrongly signed requests with 401 and records nothing', async () => {
    const caller = new VonageCall(h, newNumber());
    const query = `/v1/voice/vonage/answer?${new URLSearchParams({ from: caller.from, uuid: caller.uuid })}`;
    expect((await sendVonage(h, 'GET', query, undefined, null)).status).toBe(401);
    expect((await sendVonage(h, 'GET', query, undefined, `Bearer ${await vonageJwt(null, 'another-secret')}`)).status).toBe(401);
    // A GET's payload_hash covers its query: a token for other parameters is refused.
    expect((await sendVonage(h, 'GET', query, undefined, `Bearer ${await vonageJwt('{"uuid":"x"}')}`)).status).toBe(401);
    const body = { from: caller.from, uuid: caller.uuid };
    expect((await sendVonage(h, 'POST', '/v1/voice/vonage/answer', body, `Bearer ${await vonageJwt('{}')}`)).status).toBe(401);
    const input = `/v1/voice/vonage/input?callId=${caller.uuid}&leg=${caller.uuid}&turn=1`;
    expect((await sendVonage(h, 'POST', input, caller.inputEvent('hello'), null)).status).toBe(401);
    expect(await h.rows('SELECT 1 FROM calls WHERE call_id = $1', [caller.uuid])).toEqual([]);
    // A GET token without payload_hash is still a signature Vonage made.
    expect((await sendVonage(h, 'GET', query, undefined, `Bearer ${await vonageJwt(null)}`)).ncco?.talks).toEqual([
      'Hello! How can I help you today?',
    ]);
  });
});

describe('no dead air', () => {
  let cold: Harness;
  beforeAll(async () => {
    cold = await createHarness({ noWorker: true });
  });
  afterAll(() => cold?.close());

  it('answers "One moment." and a notify while no worker answers, then the held greeting once one does', async () => {
    const caller = new VonageCall(cold, newNumber());
    const started = Date.now();
    const held = await caller.answer();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(held.talks).toEqual(['One moment.']);
    expect(held.notify).toEqual({
      action: 'notify',
      payload: { uuid: caller.uuid, from: caller.from, to: caller.to },
      eventUrl: [`${VOICE}/answer?wait=1`],
      eventMethod: 'POST',
    });
    await cold.startWorker();
    let answer = held;
    for (let holds = 1; answer.notify; holds++) {
      expect(holds).toBeLessThan(8);
      answer = await caller.notify();
    }
    expect(answer.talks).toEqual(['Hello! How can I help you today?']);
    expect((await caller.say('my name is Ada')).talks).toEqual(['Nice to meet you, Ada. How can I help you today?']);
    expect((await turnRows(cold, caller.uuid)).map((t) => t.text)).toEqual([
      'Hello! How can I help you today?',
      'my name is Ada',
      'Nice to meet you, Ada. How can I help you today?',
    ]);
  }, 60_000);
});
