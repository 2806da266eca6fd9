// Callwright's own paths, driven through its public HTTP API the way clients and pipelines call it.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import pg from 'pg';
import WebSocket from 'ws';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import { signFeedBody } from '../common/feed-signature.js';
import { httpClient } from './http-client.js';
import { secrets, type BenchStack } from './stack.js';
import { concurrentStreams, inFlight, rate, sequential, sleep, summarize, type Latency, type Throughput } from './stats.js';

export interface ProductPaths {
  chatTurns(n: number): Promise<{ latency: Latency; callId: string }>;
  concurrentChats(chats: number, turns: number): Promise<Throughput>;
  webhookAck(n: number): Promise<Latency>;
  /** The API's cheapest round trip (GET /healthz): the HTTP hop every product path pays on top of Temporal. */
  httpHop(n: number): Promise<Latency>;
  /** Also names the calls, so their histories can be read afterwards. */
  voiceTurnsPersisted(calls: number, turns: number, deadlineMs: number): Promise<Throughput & { ackedSeconds: number; callIds: string[] }>;
  /** Events PostgreSQL holds for these calls (call_events rows). */
  eventsOf(callIds: string[]): Promise<number>;
  startDrop(total: number, limit: number): Promise<Throughput>;
  /** A hosted Twilio call: each turn a signed Gather action answered with the next TwiML. */
  hostedTurns(n: number): Promise<Latency>;
  /** A ConversationRelay call: each turn a final `prompt` on the socket to the reply's `last` text token. */
  relayTurns(n: number): Promise<Latency>;
  /** Callers who hang up mid-conversation and call back: how long the redial's voice URL takes to answer "Welcome back". */
  redials(n: number): Promise<Latency>;
  close(): Promise<void>;
}

export function productPaths(stack: BenchStack): ProductPaths {
  const pool = new pg.Pool({ connectionString: stack.databaseUrl, max: 2 });
  pool.on('error', () => undefined); // the server stops under an idle client at teardown
  const runId = randomUUID().slice(0, 8);
  let serial = 0;
  const newId = (kind: string) => `bench-${runId}-${kind}-${++serial}`;
  const caller = () => `+1555${String(1_000_000 + (serial % 9_000_000)).padStart(7, '0')}`;

  const http = httpClient(stack.apiUrl);
  async function request(method: string, path: string, headers?: Record<string, string>, body?: string): Promise<unknown> {
    const { status, text } = await http.request(method, path, headers, body);
    if (status < 200 || status > 299) throw new Error(`${method} ${path}: HTTP ${status} ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : null;
  }
  const admin = { 'content-type': 'application/json', authorization: `Bearer ${secrets.ADMIN_API_KEY}` };
  const post = (path: string, body?: object) => request('POST', path, admin, JSON.stringify(body ?? {}));
  const startChat = async () => ((await post('/v1/calls', { channel: 'chat', from: caller() })) as { callId: string }).callId;
  const message = (callId: string, i: number) =>
    post(`/v1/calls/${callId}/messages`, { text: i === 0 ? 'Hi, my name is Ada' : `turn ${i}` });
  const feed = (event: object) => {
    const body = JSON.stringify(event);
    const headers = { 'content-type': 'application/json', 'x-signature': signFeedBody(secrets.WEBHOOK_SECRET, body) };
    return request('POST', '/v1/webhooks/events', headers, body);
  };
  const turn = (callId: string, i: number) =>
    feed({ eventId: `${callId}-turn-${i}`, type: 'call.turn', callId, data: { role: 'user', text: `turn ${i}` } });
  async function startVoice(): Promise<string> {
    const callId = newId('voice');
    await feed({
      eventId: `${callId}-start`,
      type: 'call.started',
      callId,
      data: { channel: 'voice', from: caller(), to: '+15550000000' },
    });
    await feed({ eventId: `${callId}-answer`, type: 'call.answered', callId, data: {} });
    return callId;
  }

  /** POSTs a form signed as Twilio signs it (the URL as requested: the bench stack has no PUBLIC_BASE_URL). */
  async function twilio(url: string, params: Record<string, string>): Promise<string> {
    const signature = getExpectedTwilioSignature(secrets.TWILIO_AUTH_TOKEN, url, params);
    const headers = { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature };
    const { status, text } = await http.request('POST', url.slice(stack.apiUrl.length), headers, new URLSearchParams(params).toString());
    if (status !== 200) throw new Error(`POST ${url}: HTTP ${status} ${text.slice(0, 300)}`);
    return text;
  }
  const gatherAction = (twiml: string) => {
    const action = /<Gather\b[^>]*\baction="([^"]+)"/.exec(twiml)?.[1];
    if (!action) throw new Error(`no <Gather> in ${twiml.slice(0, 300)}`);
    return action.replaceAll('&amp;', '&');
  };

  return {
    async hostedTurns(n) {
      const sid = `CA${randomUUID().replace(/-/g, '')}`;
      const params = { CallSid: sid, AccountSid: `AC${'0'.repeat(32)}`, From: caller(), To: '+15550000000', Direction: 'inbound' };
      let twiml = await twilio(`${stack.apiUrl}/v1/voice/twilio`, { ...params, CallStatus: 'ringing' });
      return sequential(n, async (i) => {
        twiml = await twilio(gatherAction(twiml), {
          ...params,
          CallStatus: 'in-progress',
          SpeechResult: i === 0 ? 'my name is Ada' : `turn ${i}`,
        });
      });
    },
    async relayTurns(n) {
      const agentId = newId('relay-agent');
      const number = `+1557${String(1_000_000 + ++serial).padStart(7, '0')}`;
      await post('/v1/agents', { agentId, name: 'Relay bench', voice: { mode: 'relay' } });
      await request('PUT', `/v1/numbers/${encodeURIComponent(number)}`, admin, JSON.stringify({ agentId }));
      const sid = `CA${randomUUID().replace(/-/g, '')}`;
      const params = {
        CallSid: sid,
        AccountSid: `AC${'0'.repeat(32)}`,
        From: caller(),
        To: number,
        Direction: 'inbound',
        CallStatus: 'ringing',
      };
      const twiml = await twilio(`${stack.apiUrl}/v1/voice/twilio`, params);
      const socketUrl = /<ConversationRelay\b[^>]*\burl="([^"]+)"/.exec(twiml)?.[1];
      if (!socketUrl) throw new Error(`no <ConversationRelay> in ${twiml.slice(0, 300)}`);
      const ws = new WebSocket(socketUrl, {
        headers: { 'x-twilio-signature': getExpectedTwilioSignature(secrets.TWILIO_AUTH_TOKEN, socketUrl, {}) },
      });
      await once(ws, 'open');
      let answered: (() => void) | undefined;
      ws.on('message', (data) => (JSON.parse(data.toString()) as { type: string; last?: boolean }).last && answered?.());
      ws.send(
        JSON.stringify({ type: 'setup', sessionId: `VX${randomUUID().replace(/-/g, '')}`, callSid: sid, from: params.From, to: number }),
      );
      try {
        return await sequential(n, async (i) => {
          const reply = new Promise<void>((resolve) => (answered = resolve));
          ws.send(JSON.stringify({ type: 'prompt', voicePrompt: i === 0 ? 'my name is Ada' : `turn ${i}`, lang: 'en-US', last: true }));
          await reply;
        });
      } finally {
        ws.close();
      }
    },
    async redials(n) {
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        // A number of its own: the other paths' callers have dropped calls, and a redial would join one of them.
        const from = `+1556${String(1_000_000 + ++serial).padStart(7, '0')}`;
        const call = (sid: string) => ({
          CallSid: sid,
          AccountSid: `AC${'0'.repeat(32)}`,
          From: from,
          To: '+15550000000',
          Direction: 'inbound',
        });
        const first = call(`CA${randomUUID().replace(/-/g, '')}`);
        const twiml = await twilio(`${stack.apiUrl}/v1/voice/twilio`, { ...first, CallStatus: 'ringing' });
        await twilio(gatherAction(twiml), { ...first, CallStatus: 'in-progress', SpeechResult: 'my name is Ada' });
        await twilio(`${stack.apiUrl}/v1/webhooks/twilio`, { ...first, CallStatus: 'completed', SequenceNumber: '1' });
        // The drop is a signal: wait until the call says so, as a caller takes seconds to call back.
        for (let polls = 0; ; polls++) {
          const view = (await request('GET', `/v1/calls/${first.CallSid}`, admin)) as { status: string };
          if (view.status === 'dropped') break;
          if (polls > 500) throw new Error(`redial: ${first.CallSid} is ${view.status}, not dropped`);
          await sleep(10);
        }
        const t = performance.now();
        const welcome = await twilio(`${stack.apiUrl}/v1/voice/twilio`, {
          ...call(`CA${randomUUID().replace(/-/g, '')}`),
          CallStatus: 'ringing',
        });
        times.push(performance.now() - t);
        if (!welcome.includes('Welcome back, Ada')) throw new Error(`redial answered ${welcome.slice(0, 300)}`);
      }
      return summarize(times);
    },
    async chatTurns(n) {
      const callId = await startChat();
      return { latency: await sequential(n, (i) => message(callId, i)), callId };
    },
    async concurrentChats(chats, turns) {
      const ids = await Promise.all(Array.from({ length: chats }, startChat));
      return concurrentStreams(chats, turns, (s, i) => message(ids[s], i));
    },
    async webhookAck(n) {
      const callId = await startVoice();
      return sequential(n, (i) => turn(callId, i));
    },
    httpHop: (n) => sequential(n, () => request('GET', '/healthz')),
    async voiceTurnsPersisted(calls, turns, deadlineMs) {
      const ids = await Promise.all(Array.from({ length: calls }, startVoice));
      const expected = calls * turns;
      const t = performance.now();
      // Each call's turns in order, as a pipeline sends them; all calls at once.
      await Promise.all(
        ids.map(async (id) => {
          for (let i = 0; i < turns; i++) await turn(id, i);
        }),
      );
      const ackedSeconds = (performance.now() - t) / 1000;
      const deadline = t + deadlineMs;
      for (;;) {
        const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM turns WHERE call_id = ANY($1) AND role = 'user'", [
          ids,
        ]);
        if (rows[0].n >= expected) break;
        if (performance.now() > deadline) throw new Error(`voice turns: ${rows[0].n} of ${expected} persisted after ${deadlineMs} ms`);
        await sleep(20);
      }
      return { ...rate(expected, performance.now() - t), ackedSeconds, callIds: ids };
    },
    async eventsOf(callIds) {
      const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM call_events WHERE call_id = ANY($1)', [callIds]);
      return rows[0].n;
    },
    startDrop: (total, limit) =>
      inFlight(total, limit, async () => {
        const callId = await startChat();
        await post(`/v1/calls/${callId}/drop`);
      }),
    async close() {
      http.close();
      await pool.end();
    },
  };
}
