// A ConversationRelay call against real Temporal, PostgreSQL and Redis: the Voice URL connects the relay,
// a signed WebSocket on the API's own server carries the conversation, and a streaming model's tokens
// reach the caller before its reply is whole.
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResponder } from '../activities/responder/index.js';
import { cachedTurns, eventRows, turnRows } from './support/assertions.js';
import { createHarness, eventually, PUBLIC_BASE_URL, type Harness } from './support/harness.js';
import { startLocalServer } from './support/local-server.js';
import { RELAY_URL, RelayClient, serveWithRelay, type Served } from './support/twilio-relay.js';
import { postTwilio, signTwilio, TwilioCall } from './support/twilio-voice.js';

/** A model that streams its reply in chunks: `slow` waits before its first one. */
class StreamingModel {
  private server?: Awaited<ReturnType<typeof startLocalServer>>;
  url = '';
  readonly chunks = ['Once ', 'upon a ', 'time.'];

  async start() {
    this.server = await startLocalServer((_req, raw, res) => this.handle(raw, res), '/v1');
    this.url = this.server.url;
  }

  private async handle(raw: string, res: ServerResponse) {
    const body = JSON.parse(raw) as { stream?: boolean; messages: { content: string }[] };
    const last = body.messages.at(-1)!.content;
    if (!body.stream) return void res.writeHead(500).end('this stand-in only streams');
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    if (last.includes('slow')) await pause(800);
    for (const content of this.chunks) {
      res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`);
      await pause(20);
    }
    res.end('data: [DONE]\n\n');
  }

  stop() {
    this.server?.close();
  }
}

const model = new StreamingModel();
let h: Harness;
const servers: Served[] = [];
const listen = async (options: { holdAfterMs?: number } = {}) => servers[servers.push(await serveWithRelay(h, options)) - 1]!.port;

let port: number;
beforeAll(async () => {
  await model.start();
  // Calls of the scripted agent never ask the model; the streaming agent's calls do.
  h = await createHarness({ responder: await createResponder({ url: model.url, model: 'stand-in', timeoutMs: 5_000 }) });
  port = await listen();
});
afterAll(async () => {
  for (const served of servers) served.close();
  await h?.close();
  model.stop();
});

let agents = 0;
async function relayNumber(responder: object, fields: object = {}): Promise<string> {
  const agentId = `relay-${process.pid}-${++agents}-${Date.now()}`;
  const agent = { agentId, name: 'Relay', voice: { mode: 'relay' }, responder, ...fields };
  expect((await h.request('POST', '/agents', agent)).status).toBe(201);
  const number = `+1558${String(process.pid % 1000).padStart(3, '0')}${String(Date.now() % 10_000).padStart(4, '0')}${agents}`;
  expect((await h.request('PUT', `/numbers/${encodeURIComponent(number)}`, { agentId })).status).toBe(201);
  return number;
}
const newCaller = () => `+1559${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;

describe('hosted voice through ConversationRelay', () => {
  it('converses over a signed socket, records an interruption, drops on a close without end, and ends on goodbye', async () => {
    const number = await relayNumber({ kind: 'scripted' });
    const call = new TwilioCall(h, newCaller(), number);
    const twiml = await call.dial();
    expect(twiml.connect).toEqual({
      action: `${PUBLIC_BASE_URL}/v1/voice/twilio/connect?callId=${call.sid}&leg=${call.sid}`,
      url: RELAY_URL,
      welcomeGreeting: 'Hello! How can I help you today?',
      language: 'en-US',
    });

    await expect(RelayClient.open(port, signTwilio(`${RELAY_URL}?x=1`, {}))).rejects.toThrow('handshake answered 401');
    await expect(RelayClient.open(port, null)).rejects.toThrow('handshake answered 401');

    const relay = await RelayClient.open(port);
    relay.setup(call.sid, call.from, number);
    relay.prompt('my name', false); // a partial transcript: nothing is answered
    relay.prompt('my name is Ada');
    expect(await relay.reply()).toEqual(['Nice to meet you, Ada. How can I help you today?']);

    relay.send({ type: 'interrupt', utteranceUntilInterrupt: 'Nice to meet you, Ada. How can', durationUntilInterruptMs: 1400 });
    await eventually(async () => expect((await turnRows(h, call.sid))[2]?.text).toBe('Nice to meet you, Ada. How can…'));
    expect((await cachedTurns(h, call.sid)).map((t) => t.text)).toContain('Nice to meet you, Ada. How can…');

    // Neither of these answers anything or closes the socket: the keypress after them is answered.
    relay.send({ type: 'mystery', value: 1 });
    relay.send('{"type": "prompt", "voicePrompt": ');
    relay.send({ type: 'dtmf', digit: '5' });
    expect((await relay.reply()).join('')).toMatch(/\S/);
    expect(relay.open).toBe(true);
    expect((await eventRows(h, call.sid)).filter((e) => e.type === 'digits').map((e) => e.payload.digits)).toEqual(['5']);

    await relay.close();
    await eventually(async () => expect((await h.query(call.sid)).status).toBe('dropped'));

    const redial = new TwilioCall(h, call.from, number);
    const welcome = await redial.dial();
    expect(welcome.connect?.welcomeGreeting).toMatch(/^Welcome back, Ada\./);
    const again = await RelayClient.open(port);
    again.setup(redial.sid, redial.from, number);
    again.prompt('thanks, bye');
    expect(await again.reply()).toEqual(['Goodbye, Ada! Thanks for calling.']);
    const end = await again.next();
    expect(end.type === 'end' && JSON.parse(end.handoffData)).toEqual({ reason: 'completed' });
    await again.close();

    await eventually(async () => {
      const [row] = await h.rows('SELECT status, disposition, legs, drop_count FROM calls WHERE call_id = $1', [call.sid]);
      expect(row).toEqual({ status: 'ended', disposition: 'completed', legs: [call.sid, redial.sid], drop_count: 1 });
    });
    const connect = await postTwilio(h, welcome.connect!.action, redial.params());
    expect(connect.twiml.hangup).toBe(true);
    const turns = (await turnRows(h, call.sid)).map((t) => `${t.role}: ${t.text}`);
    expect(turns).toEqual([
      'assistant: Hello! How can I help you today?',
      'user: my name is Ada',
      'assistant: Nice to meet you, Ada. How can…',
      'user: 5',
      expect.stringMatching(/^assistant: /),
      expect.stringMatching(/^assistant: Welcome back, Ada\./),
      'user: thanks, bye',
      'assistant: Goodbye, Ada! Thanks for calling.',
    ]);
  });

  it('a caller who asks for a person hears the transfer line, then `end` with the handoff; the Connect action dials', async () => {
    const number = await relayNumber({ kind: 'scripted' }, { transfer: { to: '+15550001111' } });
    const call = new TwilioCall(h, newCaller(), number);
    const twiml = await call.dial();
    const relay = await RelayClient.open(port);
    relay.setup(call.sid, call.from, number);
    relay.prompt('can I talk to a human please');
    expect(await relay.reply()).toEqual(['Connecting you to a person now. Please hold.']);
    const end = await relay.next();
    expect(end.type === 'end' && JSON.parse(end.handoffData)).toEqual({ reason: 'transfer', to: '+15550001111', attempt: 1 });
    await relay.close();
    const connect = await postTwilio(h, twiml.connect!.action, call.params());
    expect(connect.twiml.dial).toMatchObject({ to: '+15550001111', timeout: '20' });
    // The socket closed after `end`: not a drop.
    expect((await h.query(call.sid)).status).toBe('active');
  });

  it('closes a socket that never sends setup (policy violation)', async () => {
    const relay = await RelayClient.open(port);
    expect(await relay.closed).toBe(1008);
  });

  it("streams a model's tokens as they come, before the reply's last token", async () => {
    const number = await relayNumber({ kind: 'openai', model: 'stand-in' });
    const call = new TwilioCall(h, newCaller(), number);
    await call.dial();
    const relay = await RelayClient.open(port);
    relay.setup(call.sid, call.from, number);
    relay.prompt('tell me a story');
    expect(await relay.reply()).toEqual([...model.chunks, '']);
    await eventually(async () => expect((await turnRows(h, call.sid)).at(-1)?.text).toBe('Once upon a time.'));
    await relay.close();
  });

  it('a reply later than the hold says "One moment." first, and nothing is recorded twice', async () => {
    const holdingPort = await listen({ holdAfterMs: 200 });
    const number = await relayNumber({ kind: 'openai', model: 'stand-in' });
    const call = new TwilioCall(h, newCaller(), number);
    await call.dial();
    const relay = await RelayClient.open(holdingPort);
    relay.setup(call.sid, call.from, number);
    relay.prompt('a slow one, please');
    const tokens = await relay.reply();
    expect(tokens[0]).toBe('One moment.');
    expect(tokens.slice(1).join('')).toBe('Once upon a time.');
    const turns = await eventually(async () => {
      const rows = await turnRows(h, call.sid);
      expect(rows).toHaveLength(3);
      return rows;
    });
    expect(turns.map((t) => t.text)).toEqual(['Hello! How can I help you today?', 'a slow one, please', 'Once upon a time.']);
    await relay.close();
  });
});
