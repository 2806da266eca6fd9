// The OpenAI-compatible responder against a local /chat/completions server: what it sends, what it returns,
// and how the activity's retry policy handles a failing model.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResponder } from '../activities/responder/index.js';
import { expectEverywhere, turnRows } from './support/assertions.js';
import { createHarness, newCallId, type Harness } from './support/harness.js';
import { startLocalServer } from './support/local-server.js';

interface Received {
  path: string;
  authorization?: string;
  body: { model: string; messages: { role: string; content: string }[] };
}
type Plan = { status: number } | 'hang';

/** A fake model: answers "model reply to: <last user message>", or what `plans` says for a given user message. */
class FakeModel {
  readonly received: Received[] = [];
  readonly plans = new Map<string, Plan[]>();
  private readonly hung: ServerResponse[] = [];
  private server?: Awaited<ReturnType<typeof startLocalServer>>;
  url = '';

  async start() {
    this.server = await startLocalServer((req, raw, res) => this.handle(req, raw, res), '/v1');
    this.url = this.server.url;
  }

  private handle(req: IncomingMessage, raw: string, res: ServerResponse) {
    const body = JSON.parse(raw) as Received['body'];
    this.received.push({ path: req.url ?? '', authorization: req.headers.authorization, body });
    const last = body.messages.at(-1)?.content ?? '';
    const plan = this.plans.get(last)?.shift();
    if (plan === 'hang') return void this.hung.push(res);
    if (plan)
      return void res
        .writeHead(plan.status, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { message: `planned ${plan.status}` } }));
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        id: 'cmpl-1',
        object: 'chat.completion',
        model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: `model reply to: ${last}` }, finish_reason: 'stop' }],
      }),
    );
  }

  requestsFor(text: string) {
    return this.received.filter((r) => r.body.messages.at(-1)?.content === text);
  }

  async stop() {
    for (const res of this.hung) res.destroy();
    this.server?.close();
  }
}

const model = new FakeModel();
let h: Harness;
beforeAll(async () => {
  await model.start();
  h = await createHarness({
    responder: await createResponder({ url: model.url, apiKey: 'sk-test-123', model: 'test-model-1', timeoutMs: 1_000 }),
  });
});
afterAll(async () => {
  await h?.close();
  await model.stop();
});

const startChat = async (from = '+15550008888') => {
  const id = newCallId();
  expect((await h.request('POST', '/calls', { callId: id, channel: 'chat', from })).status).toBe(201);
  return id;
};
const send = (id: string, text: string) => h.request('POST', `/calls/${id}/messages`, { text });

describe('OpenAI-compatible responder', () => {
  it("an agent's prompt is the system message and its model settings go with the request", async () => {
    const agentId = `agent-${newCallId()}`;
    await h.request('POST', '/agents', {
      agentId,
      name: 'Bob',
      prompt: 'You are Bob, a farming adviser.',
      responder: { kind: 'openai', model: 'agent-model-2', temperature: 0.3, maxTokens: 64 },
    });
    const id = newCallId();
    await h.request('POST', '/calls', { callId: id, channel: 'chat', from: '+15550008887', agentId });
    expect((await send(id, 'when do I plant beans?')).body.reply.text).toBe('model reply to: when do I plant beans?');
    const [request] = model.requestsFor('when do I plant beans?');
    expect(request!.body).toMatchObject({ model: 'agent-model-2', temperature: 0.3, max_tokens: 64 });
    expect(request!.body.messages[0]).toMatchObject({
      role: 'system',
      content: expect.stringMatching(/^You are Bob, a farming adviser\./),
    });
  });

  it("a chat message returns the model's reply; the request carries the model, the key and the recent turns", async () => {
    const id = await startChat();
    const first = await send(id, 'My name is Ada');
    expect(first.status).toBe(200);
    expect(first.body.reply).toMatchObject({ seq: 2, role: 'assistant', text: 'model reply to: My name is Ada' });

    const second = await send(id, 'What is my name?');
    expect(second.body.reply.text).toBe('model reply to: What is my name?');
    const [request] = model.requestsFor('What is my name?');
    expect(request).toMatchObject({ path: '/v1/chat/completions', authorization: 'Bearer sk-test-123', body: { model: 'test-model-1' } });
    const [system, ...turns] = request!.body.messages;
    expect(system!.role).toBe('system');
    // The scripted extractor still learns the name into the call's context, and the model is told.
    expect(system!.content).toContain('"name":"Ada"');
    expect(turns).toEqual([
      { role: 'user', content: 'My name is Ada' },
      { role: 'assistant', content: 'model reply to: My name is Ada' },
      { role: 'user', content: 'What is my name?' },
    ]);

    const view = await expectEverywhere(h, id, { turnCount: 4 });
    expect(view.context).toMatchObject({ name: 'Ada' });
    expect((await turnRows(h, id)).map((t) => t.text)).toEqual([
      'My name is Ada',
      'model reply to: My name is Ada',
      'What is my name?',
      'model reply to: What is my name?',
    ]);
  });

  it('a 500 then a success: the activity retries and the user gets the reply', async () => {
    const id = await startChat();
    model.plans.set('flaky once', [{ status: 500 }]);
    const res = await send(id, 'flaky once');
    expect(res.status).toBe(200);
    expect(res.body.reply.text).toBe('model reply to: flaky once');
    expect(model.requestsFor('flaky once')).toHaveLength(2);
    await expectEverywhere(h, id, { turnCount: 2 });
  });

  it('a model that does not answer in time is abandoned and retried', async () => {
    const id = await startChat();
    model.plans.set('slow once', ['hang']);
    const res = await send(id, 'slow once');
    expect(res.status).toBe(200);
    expect(res.body.reply.text).toBe('model reply to: slow once');
    expect(model.requestsFor('slow once')).toHaveLength(2);
  });

  it('a model down for every attempt: 503 after three requests; the turn is kept and the call goes on', async () => {
    const id = await startChat();
    model.plans.set('always 503', [{ status: 503 }, { status: 503 }, { status: 503 }, { status: 503 }]);
    const res = await send(id, 'always 503');
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('unavailable');
    expect(model.requestsFor('always 503')).toHaveLength(3);

    const next = await send(id, 'are you back?');
    expect(next.body.reply.text).toBe('model reply to: are you back?');
    expect(model.requestsFor('are you back?')[0]!.body.messages.slice(1)).toEqual([
      { role: 'user', content: 'always 503' },
      { role: 'user', content: 'are you back?' },
    ]);
    await expectEverywhere(h, id, { status: 'active', turnCount: 3 });
  });

  it('a 400 from the model is not retried', async () => {
    const id = await startChat();
    model.plans.set('rejected', [{ status: 400 }, { status: 400 }]);
    const res = await send(id, 'rejected');
    expect(res.status).toBe(503);
    expect(model.requestsFor('rejected')).toHaveLength(1);
  });
});
