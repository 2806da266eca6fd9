// The demo's calls: each drives one story through the API and says what the call should end up as.
import { randomInt } from 'node:crypto';
import { DemoError, feedEvent, request, TwilioLeg, voiceTurn, waitFor, type CallView } from './client.js';
import { mask, short, time } from './report.js';

export interface Expected {
  status: CallView['status'];
  disposition: string | null;
  turns: number;
  drops: number;
  resumes: number;
  legs?: number;
}

export interface Scenario {
  callId: string;
  name: string;
  expected: Expected;
}

export const meets = (call: CallView, e: Expected) =>
  call.status === e.status &&
  call.disposition === e.disposition &&
  call.turnCount === e.turns &&
  call.dropCount === e.drops &&
  call.resumeCount === e.resumes &&
  (e.legs === undefined || call.legs.length === e.legs);

/** Problems the table cannot show, such as a reply that forgot the caller's name. */
export const problems: string[] = [];

const used = new Set<string>();
/** A fresh number per call and run: callback matching goes by number, so runs must not meet. */
export function phoneNumber(): string {
  let n: string;
  do n = `+1555${String(randomInt(0, 10_000_000)).padStart(7, '0')}`;
  while (used.has(n));
  used.add(n);
  return n;
}

const COMPANY = '+15550100200';
const log = (line: string) => console.log(line);

async function talk(callId: string, lines: [role: 'user' | 'assistant', text: string][]): Promise<void> {
  for (const [role, text] of lines) {
    await voiceTurn(callId, role, text);
    log(`    ${role === 'user' ? 'caller   ' : 'assistant'} │ ${text}`);
  }
}

async function until(callId: string, what: string, done: (c: CallView) => boolean): Promise<CallView> {
  const { call, reached } = await waitFor(callId, done);
  if (!reached)
    throw new DemoError(
      `call ${callId} did not become ${what} within 20s (now: ${call ? `${call.status}, ${call.turnCount} turns` : 'unknown'})`,
    );
  return call!;
}

/** An inbound voice call that drops, and the caller calls back from the same number within the window. */
export async function voiceCalledBack(): Promise<Scenario> {
  const from = phoneNumber();
  const first = new TwilioLeg(from, COMPANY);
  log(`\n▸ Voice call ${short(first.sid)} from ${mask(from)}: Twilio initiated → ringing → in-progress`);
  for (const s of ['initiated', 'ringing', 'in-progress'] as const) await first.status(s);
  await talk(first.sid, [
    ['user', "Hi, this is Grace. I'm calling about order 4411."],
    ['assistant', 'Thanks Grace, let me pull that order up.'],
    ['user', 'It was supposed to arrive yesterd—'],
  ]);
  await first.status('completed');
  const dropped = await until(first.sid, 'dropped', (c) => c.status === 'dropped');
  log(`  Twilio completed mid-sentence → dropped; the caller may call back until ${time(dropped.resumeDeadline)}`);

  const back = new TwilioLeg(from, COMPANY);
  log(`▸ Callback ${short(back.sid)} from the same number: Twilio ringing → in-progress`);
  await back.status('ringing');
  await back.status('in-progress');
  const resumed = await until(first.sid, 'resumed', (c) => c.resumeCount === 1);
  log(`  joined ${short(first.sid)} as leg ${resumed.legs.length} (legs: ${resumed.legs.map(short).join(', ')}): ${resumed.status}`);
  await talk(first.sid, [
    ['user', 'Sorry, we got cut off. Where is my order?'],
    ['assistant', 'No problem, Grace: order 4411 is out for delivery today.'],
  ]);
  // The pipeline concludes the conversation (an explicit end), then Twilio reports the hangup.
  await feedEvent({ eventId: `evt_${first.sid}_end`, type: 'call.ended', callId: first.sid, data: { disposition: 'completed' } });
  await back.status('completed');
  log('  pipeline call.ended (completed), then Twilio completed for the callback leg');
  return {
    callId: first.sid,
    name: 'voice: dropped, called back',
    expected: { status: 'ended', disposition: 'completed', turns: 5, drops: 1, resumes: 1, legs: 2 },
  };
}

/** An inbound voice call that drops and is never called back: it waits out its window. */
export async function voiceDropped(): Promise<Scenario> {
  const leg = new TwilioLeg(phoneNumber(), COMPANY);
  log(`\n▸ Voice call ${short(leg.sid)} from ${mask(leg.from)}: Twilio initiated → ringing → in-progress`);
  for (const s of ['initiated', 'ringing', 'in-progress'] as const) await leg.status(s);
  await talk(leg.sid, [
    ['user', 'Hello, I need to change my delivery address.'],
    ['assistant', 'Sure, what is the new address?'],
  ]);
  await leg.status('completed');
  log('  Twilio completed → dropped; nobody calls back');
  return {
    callId: leg.sid,
    name: 'voice: dropped, no callback',
    expected: { status: 'dropped', disposition: null, turns: 2, drops: 1, resumes: 0, legs: 1 },
  };
}

/** A chat client (with its own JWT) tells its name, drops, comes back and is still known. */
export async function chat(run: string, name: string, explicitResume: boolean): Promise<Scenario> {
  const from = phoneNumber();
  const callId = `chat-${run}-${name.toLowerCase()}`;
  const { token } = await request<{ token: string }>('POST', '/v1/auth/tokens', { json: { subject: from }, expect: [201] });
  const path = `/v1/calls/${callId}`;
  await request('POST', '/v1/calls', { token, json: { callId, channel: 'chat', from }, expect: [201] });
  log(`\n▸ Chat ${callId} from ${mask(from)} (the client's own JWT)`);
  let n = 0;
  const say = async (text: string) => {
    const { reply } = await request<{ reply: { text: string } }>('POST', `${path}/messages`, {
      token,
      json: { text, messageId: `${callId}-m${++n}` },
    });
    log(`    caller    │ ${text}\n    assistant │ ${reply.text}`);
    return reply.text;
  };
  await say(`Hi, my name is ${name}`);
  await request('POST', `${path}/drop`, { json: { reason: 'app went to background' } }); // the chat gateway
  log('  the chat gateway reports a disconnect → dropped');
  if (explicitResume) {
    await request('POST', `${path}/resume`, { token, json: {} });
    log('  the client reconnects: POST /resume → active');
  } else {
    log('  the client just writes again: the message resumes the call');
  }
  const answer = await say('What is my name?');
  if (!answer.includes(name)) problems.push(`${callId}: after the resume the assistant answered "${answer}", not ${name}`);
  const turns = explicitResume ? 4 : 6;
  if (!explicitResume) await say('Thanks, bye!');
  await request('POST', `${path}/end`, { token, json: { disposition: 'completed' } });
  log('  the client ends the conversation');
  return {
    callId,
    name: explicitResume ? 'chat: drop, /resume' : 'chat: drop, message resumes',
    expected: { status: 'ended', disposition: 'completed', turns, drops: 1, resumes: 1 },
  };
}

/** An outbound call that never connects: Twilio reports busy or no-answer. */
export async function unanswered(outcome: 'busy' | 'no-answer'): Promise<Scenario> {
  const leg = new TwilioLeg(COMPANY, phoneNumber(), 'outbound-api');
  for (const s of ['initiated', 'ringing', outcome] as const) await leg.status(s);
  log(`\n▸ Outbound call ${short(leg.sid)} to ${mask(leg.to)}: Twilio initiated → ringing → ${outcome}`);
  const disposition = outcome === 'busy' ? 'busy' : 'no_answer';
  return {
    callId: leg.sid,
    name: `voice: outbound, ${outcome}`,
    expected: { status: 'ended', disposition, turns: 0, drops: 0, resumes: 0, legs: 1 },
  };
}
