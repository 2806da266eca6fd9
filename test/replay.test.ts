// Replays the committed histories of every released shape of the call workflow against today's code.
// After a shape change (a `patched()` or a new workflow type), record histories of the new shape with
// `npm run record-histories` (set SHAPE and RECORDED first) and keep the older shapes' files.
import { once } from 'node:events';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { callEventSignal, callEventUpdate } from '../workflows/messages.js';
import type { StartCall } from '../workflows/types.js';
import { createHarness, eventually, newCallId, PUBLIC_BASE_URL, TWILIO_TOKEN, type Harness } from './support/harness.js';
import { startTwilioApi, type TwilioApi } from './support/twilio-api.js';
import { TwilioCall } from './support/twilio-voice.js';

const dir = new URL('./histories/', import.meta.url);
/** The shape recorded now; each released shape keeps its files (`<shape>-<name>.json`). */
const SHAPE = '1.1';
/** What the recorders below save, by the shape they were recorded in: 1.0, the first release; 1.1, hosted voice. */
const SHAPES: Record<string, string[]> = {
  '1.1': ['voice-hosted-gather', 'voice-hosted-transfer'],
  '1.0': [
    'chat-agent-resume-active',
    'chat-continued-as-new',
    'chat-drop-resume-end',
    'chat-model-responder',
    'chat-opened-by-update',
    'chat-report-retried',
    'voice-batched-burst',
    'voice-ignored-abandoned',
    'voice-outbound-dialed',
    'voice-outbound-hung-up',
    'voice-outbound-refused',
  ],
};
const RECORDED = Object.entries(SHAPES).flatMap(([shape, names]) => names.map((name) => ({ shape, name })));

const readHistory = async (file: string) =>
  // Saved with the History message's own toJSON; fromObject reads that shape back.
  temporal.api.history.v1.History.fromObject(JSON.parse(await readFile(new URL(file, dir), 'utf8')));

const replay = (history: temporal.api.history.v1.IHistory, file: string) =>
  Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, file);

describe('replay', () => {
  it('every committed history replays without nondeterminism', async () => {
    const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
    // Exactly the released shapes' files: a history lost, or one no recorder writes, fails here.
    expect(files).toEqual(RECORDED.map(({ shape, name }) => `${shape}-${name}.json`).sort());
    for (const file of files) {
      // Throws DeterminismViolationError (or any workflow task failure) when the code no longer fits.
      await replay(await readHistory(file), file).catch((err: Error) => {
        throw new Error(`${file}: ${err.message}`, { cause: err });
      });
    }
  });

  it('fails on a history the code would not write: the check can fail', async () => {
    // The same chat told to use a model responder: the code schedules the respond activity where the
    // history recorded the scripted reply's local activity, as a changed workflow would.
    const history = await readHistory('1.0-chat-drop-resume-end.json');
    const started = history.events![0]!.workflowExecutionStartedEventAttributes!;
    const payload = started.input!.payloads![0]!;
    const input = JSON.parse(Buffer.from(payload.data!).toString('utf8'));
    expect(input.config.responder).toBe('scripted');
    payload.data = Buffer.from(JSON.stringify({ ...input, config: { ...input.config, responder: 'model' } }));
    await expect(replay(history, 'tampered')).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});

describe.runIf(process.env.RECORD_HISTORIES)('record histories', () => {
  let h: Harness;
  let model: Harness;
  let idle: Harness;
  let twilio: TwilioApi;
  let outbound: Harness;
  beforeAll(async () => {
    h = await createHarness({ call: { resumeWindowMs: 1_000, historyLimit: 100 } });
    model = await createHarness({ responder: async ({ text, context }) => ({ text: `model: ${text}`, context }) });
    idle = await createHarness({ noWorker: true });
    twilio = await startTwilioApi();
    outbound = await createHarness({
      twilio: {
        apiUrl: twilio.url,
        accountSid: `AC${'0'.repeat(32)}`,
        authToken: TWILIO_TOKEN,
        voiceUrl: 'https://voice.example.com/twiml',
        statusCallbackUrl: `${PUBLIC_BASE_URL}/v1/webhooks/twilio`,
      },
    });
  });
  afterAll(() => Promise.all([h?.close(), model?.close(), idle?.close(), outbound?.close().then(() => twilio?.close())]));

  const save = async (name: string, callId: string, runId?: string, from = h) => {
    const recorded = RECORDED.find((r) => r.name === name);
    expect(recorded, name).toBeDefined();
    // A released shape's history stays as it was recorded: today's code would write today's shape.
    if (recorded!.shape !== SHAPE) return;
    const history = await from.client.workflow.getHandle(`call-${callId}`, runId).fetchHistory();
    await writeFile(new URL(`${SHAPE}-${name}.json`, dir), JSON.stringify(history, null, 1));
  };

  it('chat: messages, drop, resume, end', async () => {
    const id = newCallId();
    await h.request('POST', '/calls', { callId: id, channel: 'chat', from: '+15550000001' });
    await h.request('POST', `/calls/${id}/messages`, { text: 'my name is Ada', messageId: 'a' });
    await h.request('POST', `/calls/${id}/messages`, { text: 'my name is Ada', messageId: 'a' });
    await h.request('POST', `/calls/${id}/drop`, {});
    await h.request('POST', `/calls/${id}/messages`, { text: 'what is my name?' });
    await h.request('POST', `/calls/${id}/end`, {});
    await h.handle(id).result();
    await save('chat-drop-resume-end', id);
  });

  it('voice: ignored events, turns, drop, abandoned', async () => {
    const id = newCallId();
    await h.request('POST', '/calls', { callId: id, channel: 'voice', from: '+15550000002' });
    await h.handle(id).signal(callEventSignal, { type: 'resume', key: 'r0' });
    await h.handle(id).signal(callEventSignal, { type: 'answered', key: 'a1', order: { leg: id, n: 2 } });
    await h.handle(id).signal(callEventSignal, { type: 'answered', key: 'a0', order: { leg: id, n: 1 } });
    await h.request('POST', `/calls/${id}/turns`, { role: 'user', text: 'hello', eventId: 't1' });
    await h.request('POST', `/calls/${id}/turns`, { role: 'assistant', text: 'hi', eventId: 't2' });
    await eventually(async () => expect((await h.query(id)).turnCount).toBe(2));
    await h.handle(id).executeUpdate(callEventUpdate, { args: [{ type: 'drop', key: 'd1' }] });
    await h.handle(id).result();
    await save('voice-ignored-abandoned', id);
  });

  it('a long call that continues as new', async () => {
    const id = newCallId();
    await h.request('POST', '/calls', { callId: id, channel: 'chat', from: '+15550000003' });
    const first = (await h.handle(id).describe()).runId;
    for (let i = 0; i < 20; i++) await h.request('POST', `/calls/${id}/messages`, { text: `message ${i}` });
    expect((await h.handle(id).describe()).runId).not.toBe(first);
    await save('chat-continued-as-new', id, first);
  });

  it('a model responder: the user turn recorded before the respond activity', async () => {
    const id = newCallId();
    await model.request('POST', '/calls', { callId: id, channel: 'chat', from: '+15550000004' });
    await model.request('POST', `/calls/${id}/messages`, { text: 'hello', messageId: 'm1' });
    await model.request('POST', `/calls/${id}/end`, {});
    await model.handle(id).result();
    await save('chat-model-responder', id, undefined, model);
  });

  it('chat opened by update-with-start, opened again, then ended', async () => {
    const id = newCallId();
    await h.request('POST', '/calls', { callId: id, channel: 'chat', from: '+15550000006' });
    await h.request('POST', '/calls', { callId: id, channel: 'chat', from: '+15550000006' });
    await h.request('POST', `/calls/${id}/messages`, { text: 'hello', messageId: 'm1' });
    await h.request('POST', `/calls/${id}/end`, {});
    await h.handle(id).result();
    await save('chat-opened-by-update', id);
  });

  it('chat with an agent: opening line, resume while active answered, drop, end', async () => {
    const id = newCallId();
    const start: StartCall = {
      callId: id,
      channel: 'chat',
      direction: 'inbound',
      from: '+15550000007',
      to: null,
      provider: null,
      answered: true,
      metadata: {},
      key: `start:${id}`,
      context: { name: 'Ada' },
      agent: { agentId: 'desk', version: 3, name: 'Desk', firstMessage: 'Hello, Ada!' },
    };
    await h.gateway.start(start, { resumeWindowMs: 60_000 });
    await h.request('POST', `/calls/${id}/resume`, { eventId: 'r1' });
    await h.request('POST', `/calls/${id}/messages`, { text: 'what is my name?', messageId: 'm1' });
    await h.request('POST', `/calls/${id}/drop`, {});
    await h.request('POST', `/calls/${id}/end`, {});
    await h.handle(id).result();
    await save('chat-agent-resume-active', id);
  });

  it('end-of-call report: refused once, an open answered while it retries, then delivered', async () => {
    let refused = 0;
    const receiver = createServer((req, res) => void req.resume().on('end', () => res.writeHead(refused++ === 0 ? 503 : 200).end()));
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    try {
      const id = newCallId();
      const start: StartCall = {
        callId: id,
        channel: 'chat',
        direction: 'inbound',
        from: '+15550000008',
        to: null,
        provider: null,
        answered: true,
        metadata: {},
        key: `start:${id}`,
      };
      await h.gateway.start(start, { reportUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/reports` });
      await h.request('POST', `/calls/${id}/messages`, { text: 'hello', messageId: 'm1' });
      await h.request('POST', `/calls/${id}/end`, {});
      await eventually(() => expect(refused).toBeGreaterThan(0));
      await h.gateway.start(start);
      await h.handle(id).result();
      await save('chat-report-retried', id);
    } finally {
      receiver.close();
    }
  });

  it('a burst of signals queued before a worker polls: one batch', async () => {
    const id = newCallId();
    const start: StartCall = {
      callId: id,
      channel: 'voice',
      direction: 'inbound',
      from: '+15550000005',
      to: null,
      provider: null,
      answered: false,
      metadata: {},
      key: `${id}:start`,
    };
    await idle.gateway.signalWithStart(start, { type: 'answered', key: 'a' });
    for (let n = 1; n <= 5; n++)
      await idle.handle(id).signal(callEventSignal, { type: 'turn', key: `t${n}`, role: 'user', text: `turn ${n}` });
    await idle.handle(id).signal(callEventSignal, { type: 'end', key: 'e' });
    await idle.startWorker();
    await idle.handle(id).result();
    await save('voice-batched-burst', id, undefined, idle);
  });

  /** Dials `to` through the Twilio stand-in and answers the CallSid once the call has it. */
  const placeCall = async (callId: string, to: string): Promise<string> => {
    await outbound.request('POST', '/calls', { callId, channel: 'voice', direction: 'outbound', from: '+15550000008', to });
    return eventually(async () => {
      const { legs } = await outbound.query(callId);
      expect(legs).toHaveLength(1);
      return legs[0]!;
    });
  };

  it('outbound: dialed through Twilio, answered, ended', async () => {
    const id = newCallId();
    const sid = await placeCall(id, '+15550000009');
    await outbound.handle(id).signal(callEventSignal, { type: 'answered', key: `twilio:${sid}:in-progress` });
    await outbound.request('POST', `/calls/${id}/end`, {});
    await outbound.handle(id).result();
    await save('voice-outbound-dialed', id, undefined, outbound);
  });

  it('outbound hang-up: ended by an operator while ringing, hung up at Twilio', async () => {
    const id = newCallId();
    await placeCall(id, '+15550000010');
    await outbound.request('POST', `/calls/${id}/end`, {});
    await outbound.handle(id).result();
    await save('voice-outbound-hung-up', id, undefined, outbound);
  });

  it('hosted voice: greeting, turns, silence, hang-up, redial welcomed back, goodbye', async () => {
    const call = new TwilioCall(outbound, '+15550000011');
    await call.dial();
    await call.say('my name is Ada');
    await call.say('my name is Ada', {});
    await call.silence();
    await call.hangUp();
    await eventually(async () => expect((await outbound.query(call.sid)).status).toBe('dropped'));
    const redial = new TwilioCall(outbound, call.from);
    await redial.dial();
    await redial.say('what is my name?');
    await redial.say('bye');
    await outbound.handle(call.sid).result();
    await save('voice-hosted-gather', call.sid, undefined, outbound);
  });

  it('hosted voice: a transfer busy, then answered', async () => {
    const agentId = `transfer-${newCallId()}`;
    await outbound.request('POST', '/agents', { agentId, name: 'Desk', transfer: { to: '+15550009999', digit: '0' } });
    await outbound.request('PUT', `/numbers/${encodeURIComponent('+15550000012')}`, { agentId });
    const call = new TwilioCall(outbound, '+15550000013', '+15550000012');
    await call.dial();
    await call.say('I want to talk to a person');
    await call.post(call.last.dial!.action, { DialCallStatus: 'busy' });
    await call.say('', { Digits: '0' });
    await call.post(call.last.dial!.action, { DialCallStatus: 'completed', DialCallDuration: '42' });
    await outbound.handle(call.sid).result();
    await save('voice-hosted-transfer', call.sid, undefined, outbound);
  });

  it('outbound: refused by the provider', async () => {
    twilio.answer(() => ({ status: 400, body: { code: 21211, message: "The 'To' number is not a valid phone number.", status: 400 } }));
    const id = newCallId();
    await outbound.request('POST', '/calls', { callId: id, channel: 'voice', direction: 'outbound', from: '+15550000008', to: '+1555' });
    await outbound.handle(id).result();
    await save('voice-outbound-refused', id, undefined, outbound);
  });
});
