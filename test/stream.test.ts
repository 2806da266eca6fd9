// GET /v1/calls/{callId}/stream as a client sees it: the store first, then live batches from Redis pub/sub,
// each turn once and in order, resumable with Last-Event-ID, from any API process, across a Redis flush
// and a lost subscriber connection. And the drop a closing page sends as a beacon (token in a form body).
import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveChannel } from '../store/call-cache.js';
import { createApp } from '../api/app.js';
import { CallFeed, type FeedSignal } from '../api/live/call-feed.js';
import { readEvents, type SseEvent } from '../web/chat/sse.js';
import type { CallView, Turn } from '../workflows/types.js';
import { startApiProcess } from './support/api-process.js';
import { eventRows, expectEverywhere, turnRows } from './support/assertions.js';
import {
  auth,
  createHarness,
  eventually,
  newCallId,
  PUBLIC_BASE_URL,
  TWILIO_TOKEN,
  WEBHOOK_SECRET,
  type Harness,
} from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h?.close());

/** Reads a stream in the background as a client would; `close` hangs up. */
function listen(res: Response) {
  expect(res.status).toBe(200);
  const events: SseEvent[] = [];
  const hangUp = new AbortController();
  const decoder = new TextDecoder();
  let raw = '';
  let ended = false;
  const record = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      raw += decoder.decode(chunk, { stream: true });
      controller.enqueue(chunk);
    },
  });
  const done = (async () => {
    try {
      for await (const event of readEvents(res.body!.pipeThrough(record, { signal: hangUp.signal }))) events.push(event);
      ended = true;
    } catch {
      // hung up
    }
  })();
  return {
    headers: res.headers,
    turns: () => events.filter((e) => e.event === 'turn').map((e) => ({ ...(JSON.parse(e.data) as Turn), id: e.id })),
    views: () => events.filter((e) => e.event === 'call').map((e) => JSON.parse(e.data) as CallView),
    seqs() {
      return this.turns().map((t) => t.seq);
    },
    raw: () => raw,
    ended: () => ended,
    done,
    async close() {
      hangUp.abort();
      await done;
    },
  };
}
type Listener = ReturnType<typeof listen>;

const seqs = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const number = () => `+1556${randomInt(1_000_000, 10_000_000)}`;

async function chat(from = number()) {
  const callId = newCallId();
  expect((await h.request('POST', '/calls', { callId, channel: 'chat', from })).status).toBe(201);
  return { callId, from, token: await h.tokenFor(from) };
}
const stream = (callId: string, authorization: string, headers: Record<string, string> = {}, app = h.app) =>
  Promise.resolve(app.request(`/v1/calls/${callId}/stream`, { headers: { authorization, ...headers } }));
async function say(callId: string, token: string, text: string) {
  const res = await h.request('POST', `/calls/${callId}/messages`, { text }, { authorization: token });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}
/** The stream has sent exactly these turns, each once, in order, and a view that counts them. */
async function received(s: Listener, expected: number[]) {
  await eventually(() => {
    expect(s.seqs()).toEqual(expected);
    expect(s.views().at(-1)?.turnCount).toBe(expected.at(-1));
  });
}

describe('call stream', () => {
  it('sends call and turn events for a chat turn and a drop, each view once, and ends after the ended view', async () => {
    const { callId, token } = await chat();
    const s = listen(await stream(callId, token));
    expect(s.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(s.headers.get('cache-control')).toBe('no-cache');
    await eventually(() => expect(s.views().at(-1)).toMatchObject({ callId, status: 'active', turnCount: 0 }));

    await say(callId, token, 'my name is Ada');
    await received(s, [1, 2]);
    expect(s.turns()).toMatchObject([
      { id: '1', seq: 1, role: 'user', text: 'my name is Ada' },
      { id: '2', seq: 2, role: 'assistant', text: 'Nice to meet you, Ada. How can I help you today?' },
    ]);

    expect((await h.request('POST', `/calls/${callId}/drop`, { reason: 'network' }, { authorization: token })).status).toBe(200);
    await eventually(() => expect(s.views().at(-1)).toMatchObject({ status: 'dropped', dropCount: 1, turnCount: 2 }));
    expect(s.ended()).toBe(false);

    expect((await h.request('POST', `/calls/${callId}/end`, {})).status).toBe(200);
    await s.done;
    expect(s.ended()).toBe(true);
    expect(s.views().at(-1)).toMatchObject({ status: 'ended', disposition: 'completed' });
    const versions = s.views().map((v) => v.version);
    expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b));
    expect(s.seqs()).toEqual([1, 2]);

    // A stream opened on an ended call sends its transcript and last view, and ends.
    const late = listen(await stream(callId, token));
    await late.done;
    expect(late.ended()).toBe(true);
    expect(late.seqs()).toEqual([1, 2]);
    expect(late.views()).toMatchObject([{ status: 'ended' }]);
  });

  it('resumes with Last-Event-ID: exactly the turns missed, then live ones', async () => {
    const { callId, token } = await chat();
    const first = listen(await stream(callId, token));
    await say(callId, token, 'hello');
    await received(first, [1, 2]);
    await first.close();

    await say(callId, token, 'my name is Ada');
    await say(callId, token, 'what is my name?');
    const again = listen(await stream(callId, token, { 'last-event-id': first.turns().at(-1)!.id }));
    await received(again, [3, 4, 5, 6]);
    expect(again.turns().at(-1)).toMatchObject({ role: 'assistant', text: 'Your name is Ada.' });

    await say(callId, token, 'thanks');
    await received(again, seqs(3, 8));
    const rows = await turnRows(h, callId);
    expect(again.turns().map(({ seq, role, text }) => ({ seq, role, text }))).toEqual(rows.slice(2));
    await again.close();
  });

  it('is served by any API process: a second process streams a call whose turns this one handled, and ends its streams when it stops', async () => {
    const { callId, token } = await chat();
    await say(callId, token, 'my name is Ada');
    const api = await startApiProcess(h.taskQueue, { JWT_SECRET: auth.jwtSecret });
    try {
      const s = listen(await fetch(`${api.url}/v1/calls/${callId}/stream`, { headers: { authorization: token } }));
      await received(s, [1, 2]);
      await say(callId, token, 'what is my name?');
      await received(s, [1, 2, 3, 4]);
      expect(s.turns().at(-1)).toMatchObject({ text: 'Your name is Ada.' });
      // SIGTERM: the process ends its open streams instead of waiting for them, and exits.
      await api.stop();
      await s.done;
      expect(s.ended()).toBe(true);
    } finally {
      await api.stop();
    }
  });

  it('loses no turn across a Redis FLUSHALL, open or reconnecting', async () => {
    const { callId, token } = await chat();
    const s = listen(await stream(callId, token));
    await say(callId, token, 'my name is Ada');
    await received(s, [1, 2]);
    await h.redis.flushall();
    await say(callId, token, 'hello');
    await received(s, [1, 2, 3, 4]);
    await s.close();

    await say(callId, token, 'what is my name?');
    await h.redis.flushall();
    const again = listen(await stream(callId, token, { 'last-event-id': '4' }));
    await received(again, [5, 6]);
    expect(again.turns()[1]).toMatchObject({ role: 'assistant', text: 'Your name is Ada.' });
    await say(callId, token, 'thanks');
    await received(again, [5, 6, 7, 8]);
    await again.close();
  });

  it("loses no turn when the API's subscriber loses its Redis connection: it resubscribes and its streams catch up from the store", async () => {
    // The feed on its own: after the connection comes back, listeners hear `resync`, and batches again.
    const feed = new CallFeed(h.redis);
    const heard: FeedSignal[] = [];
    const probe = `probe-${newCallId()}`;
    await feed.watch(probe, (signal) => heard.push(signal));
    const { callId, token } = await chat();
    const s = listen(await stream(callId, token));
    await say(callId, token, 'my name is Ada');
    await received(s, [1, 2]);

    // What a Redis restart does to the subscribers of this process (the app's and the probe's).
    const subscribers = String(await h.redis.call('CLIENT', 'LIST', 'TYPE', 'pubsub'))
      .split('\n')
      .filter((line) => line.includes(` name=callwright-live:${process.pid} `))
      .map((line) => /\bid=(\d+)/.exec(line)![1]!);
    expect(subscribers.length).toBe(2);
    for (const id of subscribers) await h.redis.call('CLIENT', 'KILL', 'ID', id);
    await say(callId, token, 'what is my name?');
    await received(s, [1, 2, 3, 4]);
    expect(s.turns().at(-1)).toMatchObject({ text: 'Your name is Ada.' });

    await eventually(() => expect(heard).toContainEqual({ kind: 'resync' }));
    const batch = { call: { callId: probe }, turns: [] };
    await eventually(async () => {
      await h.redis.publish(liveChannel(probe), JSON.stringify(batch));
      expect(heard).toContainEqual({ kind: 'batch', batch });
    });
    feed.close();
    expect(heard.at(-1)).toEqual({ kind: 'closed' });
    await s.close();
  });

  it('sends heartbeats, and ends when the call’s workflow closes without an ended view', async () => {
    const app = createApp({
      gateway: h.gateway,
      stores: { pool: h.pool, redis: h.redis },
      auth,
      webhooks: { twilioAuthToken: TWILIO_TOKEN, publicBaseUrl: PUBLIC_BASE_URL, secret: WEBHOOK_SECRET, toleranceSeconds: 300 },
      rateLimit: { perCaller: 0, perIp: 0, windowSeconds: 60 },
      checks: {},
      streamHeartbeatMs: 100,
    });
    const { callId, token } = await chat();
    const s = listen(await stream(callId, token, {}, app));
    await eventually(() => expect(s.raw()).toContain(': heartbeat\n\n'));
    await h.handle(callId).terminate('closed by an operator');
    await s.done;
    expect(s.ended()).toBe(true);
    expect(s.views().at(-1)?.status).toBe('active');
  });

  it('answers 401 without credentials, 403 for another caller, 404 for no call, 400 for a bad Last-Event-ID; HEAD opens nothing', async () => {
    const { callId, token } = await chat();
    const other = await h.tokenFor(number());
    const noAuth = await h.app.request(`/v1/calls/${callId}/stream`);
    expect(noAuth.status).toBe(401);
    expect((await noAuth.json()).error.code).toBe('unauthorized');
    const forbidden = await stream(callId, other);
    expect(forbidden.status).toBe(403);
    expect((await forbidden.json()).error.code).toBe('forbidden');
    const missing = await stream(newCallId(), token);
    expect(missing.status).toBe(404);
    const bad = await stream(callId, token, { 'last-event-id': 'latest' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatchObject({ code: 'invalid_request', details: [{ path: 'last-event-id' }] });
    const head = await h.app.request(`/v1/calls/${callId}/stream`, { method: 'HEAD', headers: { authorization: token } });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/event-stream');
  });
});

describe('drop from a closing page (sendBeacon)', () => {
  const beacon = (callId: string, fields: Record<string, string>, query = '') =>
    h.app.request(`/v1/calls/${callId}/drop${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' },
      body: new URLSearchParams(fields).toString(),
    });

  it('takes the token from the form body on the drop route only, and drops the call once', async () => {
    const { callId, from, token } = await chat();
    const jwt = token.replace(/^Bearer /, '');
    const fields = { access_token: jwt, reason: 'chat page closed', eventId: 'pagehide:1' };

    expect((await beacon(callId, { ...fields, access_token: (await h.tokenFor(number())).replace(/^Bearer /, '') })).status).toBe(403);
    expect((await beacon(callId, { reason: 'chat page closed' })).status).toBe(401);
    expect((await beacon(callId, { reason: 'chat page closed' }, `?access_token=${jwt}`)).status).toBe(401);
    const elsewhere = await h.app.request(`/v1/calls/${callId}/end`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ access_token: jwt }).toString(),
    });
    expect(elsewhere.status).toBe(401);
    const unknownField = await beacon(callId, { ...fields, disposition: 'completed' });
    expect(unknownField.status).toBe(400);
    await expectEverywhere(h, callId, { status: 'active', dropCount: 0 });

    for (let i = 0; i < 2; i++) {
      const res = await beacon(callId, fields);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ callId, from, status: 'dropped', dropCount: 1 });
    }
    await expectEverywhere(h, callId, { status: 'dropped', dropCount: 1 });
    const drops = (await eventRows(h, callId)).filter((e) => e.type === 'drop');
    expect(drops).toMatchObject([{ key: 'pagehide:1', applied: true, payload: { reason: 'chat page closed' } }]);
  });
});
