// Horizontal scale: two worker processes and two API processes on one task queue, load through both APIs
// over HTTP, and the busier worker SIGKILLed mid-load. Every call ends up whole: no turn lost or doubled.
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { signFeedBody } from '../common/feed-signature.js';
import type { MessageReply } from '../workflows/types.js';
import { startApiProcess, type ApiProcess } from './support/api-process.js';
import { cachedTurns, eventRows, expectEverywhere, turnRows } from './support/assertions.js';
import { ADMIN_KEY, createHarness, eventually, newCallId, WEBHOOK_SECRET, type Harness } from './support/harness.js';
import { killWorkerProcess, startWorkerProcess } from './support/worker-process-spawn.js';

const CHATS = 6;
const VOICES = 6;
const ROUNDS = 6; // per round: one chat message per chat, two feed turns per voice call
const KILL_ROUND = 2;
const NAMES = ['Ada', 'Grace', 'Alan', 'Barbara', 'Edsger', 'Frances'];
const chatText = (c: number, r: number) => [`my name is ${NAMES[c]}`, 'hello there', 'what is my name?'][r % 3];

let h: Harness;
let apis: ApiProcess[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  h = await createHarness({ noWorker: true });
  await Promise.all([startWorkerProcess(h.taskQueue, children), startWorkerProcess(h.taskQueue, children)]);
  apis = await Promise.all([startApiProcess(h.taskQueue), startApiProcess(h.taskQueue)]);
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await Promise.allSettled(apis.map((a) => a.stop()));
  await h?.close();
});

let inFlight = 0;
let turn = 0;
const nextApi = () => apis[turn++ % apis.length];
type Reply = { status: number; body: any };

/** What a client does: retries 5xx and connection errors with the same ids until an answer. */
async function send(api: ApiProcess, path: string, body: unknown, feed = false): Promise<Reply> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const text = JSON.stringify(body);
    const auth: Record<string, string> = feed
      ? { 'x-signature': signFeedBody(WEBHOOK_SECRET, text) }
      : { authorization: `Bearer ${ADMIN_KEY}` };
    inFlight++;
    try {
      const res = await fetch(`${api.url}/v1${path}`, {
        method: 'POST',
        body: text,
        headers: { 'content-type': 'application/json', ...auth },
      });
      const reply = { status: res.status, body: await res.json() };
      if (res.status < 500 || Date.now() > deadline) return reply;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    } finally {
      inFlight--;
    }
    await new Promise((r) => setTimeout(r, 250)); // client backoff, not a wait for state
  }
}
/** Sends the same request to both APIs at once: a duplicate delivery. */
const twice = (path: string, body: unknown, feed = false) => Promise.all(apis.map((api) => send(api, path, body, feed)));
const feed = (event: object, dup: boolean) =>
  dup ? twice('/webhooks/events', event, true) : send(nextApi(), '/webhooks/events', event, true).then((r) => [r]);

/** The pid of the worker that last took a workflow task of this call (Temporal's identity is pid@host). */
async function servingPid(callId: string): Promise<number | undefined> {
  const { events } = await h.handle(callId).fetchHistory();
  const identity = events?.filter((e) => e.workflowTaskStartedEventAttributes).at(-1)?.workflowTaskStartedEventAttributes?.identity;
  return identity ? Number(identity.split('@')[0]) : undefined;
}

it('keeps every call whole across two workers and two APIs when one worker is killed mid-load', { timeout: 300_000 }, async () => {
  const chats = Array.from({ length: CHATS }, () => newCallId());
  const voices = Array.from({ length: VOICES }, () => newCallId());
  const base = String(Date.now() % 1e6).padStart(6, '0');
  const from = (i: number) => `+1555${base}${String(i).padStart(2, '0')}`;
  for (const [c, id] of chats.entries())
    expect((await send(nextApi(), '/calls', { callId: id, channel: 'chat', from: from(c) })).status).toBe(201);
  for (const [v, id] of voices.entries()) {
    const started = { eventId: `${id}-start`, type: 'call.started', callId: id, data: { channel: 'voice', from: from(CHATS + v) } };
    for (const r of await feed(started, true)) expect(r.status).toBe(202);
    for (const r of await feed({ eventId: `${id}-answered`, type: 'call.answered', callId: id }, v % 2 === 0)) expect(r.status).toBe(202);
  }

  const replies: MessageReply[][] = chats.map(() => []);
  let killed: { pid: number; inFlight: number } | undefined;
  let victim: ChildProcess | undefined;
  for (let r = 0; r < ROUNDS; r++) {
    if (r === KILL_ROUND) {
      // Kill the worker holding the most calls, the moment the round's first answer arrives.
      const pids = await Promise.all([...chats, ...voices].map(servingPid));
      const load = (w: ChildProcess) => pids.filter((p) => p === w.pid).length;
      victim = children[load(children[0]) >= load(children[1]) ? 0 : 1];
      // Scale-out: both workers took calls (12 calls on two pollers: all on one is a 1-in-2000 chance).
      expect(
        children.every((w) => load(w) > 0),
        `calls by worker pid: ${pids}`,
      ).toBe(true);
    }
    const onAnswer = () => {
      if (r !== KILL_ROUND || killed) return;
      killed = { pid: victim!.pid!, inFlight };
      void killWorkerProcess(victim!);
    };
    const chatRound = chats.map(async (id, c) => {
      const body = { text: chatText(c, r), messageId: `${id}-m${r}` };
      const answers = r % 2 === 1 ? await twice(`/calls/${id}/messages`, body) : [await send(nextApi(), `/calls/${id}/messages`, body)];
      onAnswer();
      for (const a of answers) expect(a.status, JSON.stringify(a.body)).toBe(200);
      for (const a of answers) expect(a.body.reply).toEqual(answers[0].body.reply);
      replies[c].push(answers[0].body);
    });
    const voiceRound = voices.map(async (id, v) => {
      for (const t of [2 * r + 1, 2 * r + 2]) {
        const event = {
          eventId: `${id}-t${t}`,
          type: 'call.turn',
          callId: id,
          data: { role: t % 2 ? 'user' : 'assistant', text: `voice ${v} turn ${t}` },
        };
        for (const a of await feed(event, t % 3 === 0)) expect(a.status).toBe(202);
        onAnswer();
      }
    });
    await Promise.all([...chatRound, ...voiceRound]);
  }
  expect(killed, 'a worker was killed mid-load').toBeDefined();
  expect(killed!.inFlight, 'requests in flight at the kill').toBeGreaterThan(0);

  // Each chat reply came back for its message, in order, and the context survived the kill.
  for (const [c, list] of replies.entries()) {
    expect(list.map((m) => m.reply.seq)).toEqual(Array.from({ length: ROUNDS }, (_, r) => 2 * r + 2));
    for (const [r, m] of list.entries()) if (chatText(c, r) === 'what is my name?') expect(m.reply.text).toBe(`Your name is ${NAMES[c]}.`);
  }

  for (const id of [...chats, ...voices]) {
    const n = 2 * ROUNDS; // chats: a user turn and a reply per round; voice: two feed turns
    await eventually(
      async () => {
        const turns = await turnRows(h, id);
        expect(turns.map((t) => t.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
        const c = chats.indexOf(id);
        if (c >= 0) {
          expect(turns.filter((t) => t.seq % 2).map((t) => t.text)).toEqual(Array.from({ length: ROUNDS }, (_, r) => chatText(c, r)));
          expect(turns.filter((t) => t.seq % 2 === 0).map((t) => t.text)).toEqual(replies[c].map((m) => m.reply.text));
        } else {
          expect(turns.map((t) => t.text)).toEqual(Array.from({ length: n }, (_, i) => `voice ${voices.indexOf(id)} turn ${i + 1}`));
        }
      },
      60_000,
      200,
    );
    await expectEverywhere(h, id, { status: 'active', turnCount: n });

    const keys = (await eventRows(h, id)).map((e) => e.key);
    expect(new Set(keys).size).toBe(keys.length);
    const sent = chats.includes(id)
      ? Array.from({ length: ROUNDS }, (_, r) => `${id}-m${r}`)
      : Array.from({ length: n }, (_, i) => `${id}-t${i + 1}`);
    for (const key of sent) expect(keys, key).toContain(key);

    // Both APIs show the same call and transcript; the surviving worker serves it now.
    const get = async (api: ApiProcess, path: string) =>
      (await fetch(`${api.url}/v1/calls/${id}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).json();
    for (const api of apis) {
      expect((await get(api, '')).turnCount).toBe(n);
      expect((await get(api, '/turns?limit=100')).turns.map((t: { seq: number }) => t.seq)).toEqual(
        Array.from({ length: n }, (_, i) => i + 1),
      );
    }
    // Redis holds the last turns once each (the API's reads fall back to PostgreSQL when it does not).
    const cached = await cachedTurns(h, id);
    expect(
      cached.map((t) => t.seq),
      `Redis turns ${JSON.stringify(cached)}`,
    ).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    const pid = await servingPid(id);
    expect(pid).not.toBe(killed!.pid);
    expect(children.map((w) => w.pid)).toContain(pid);
  }
});
