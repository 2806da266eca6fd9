// `npm run phone` against the real stack (the harness's app on a real port, its worker, Temporal, PostgreSQL,
// Redis), driven through its standard input: a conversation, a drop, a redial that resumes it, a goodbye.
import { randomInt } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, eventually, PUBLIC_BASE_URL, TWILIO_TOKEN, type Harness } from './support/harness.js';
import { startPhone, type PhoneProcess } from './support/phone-process.js';

let h: Harness;
let server: ServerType;
let base: string;
const phones: PhoneProcess[] = [];

beforeAll(async () => {
  h = await createHarness();
  server = serve({ fetch: h.app.fetch, port: 0, hostname: '127.0.0.1' });
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  phones.forEach((p) => p.kill());
  if (server) await new Promise((done) => server.close(done));
  await h?.close();
});

// The harness's API verifies signatures over its PUBLIC_BASE_URL with its own token, as a deployment behind a proxy does.
function phone(from: string, token = TWILIO_TOKEN): PhoneProcess {
  const p = startPhone(['--url', base, '--from', from, '--to', '+15550100002'], { PUBLIC_BASE_URL, TWILIO_AUTH_TOKEN: token });
  phones.push(p);
  return p;
}
const callSid = (output: string, nth: number) => [...output.matchAll(/\((CA[0-9a-f]{32})\)/g)][nth]?.[1];

describe('npm run phone against Callwright', () => {
  it('talks, drops with /hangup, resumes with /redial ("Welcome back, Ada"), and ends with a goodbye', async () => {
    const from = `+1556${randomInt(1_000_000, 10_000_000)}`;
    const p = phone(from);
    let at = await p.waitFor(/assistant: .+\n(assistant: .+\n)*you: /);
    p.say('my name is Ada');
    at = await p.waitFor(/assistant: [^\n]*Ada[^\n]*\n(assistant: .+\n)*you: /, at);
    p.say('/hangup');
    at = await p.waitFor('you hung up: /redial calls again, /quit leaves\n', at);
    const first = callSid(p.output(), 0)!;
    // The status callback is answered before the workflow applies the drop; a redial within milliseconds may
    // find no dropped call yet and start a new one. A person never redials that fast.
    await eventually(async () => expect((await h.query(first)).status).toBe('dropped'));

    await p.waitFor('> ', at);
    p.say('/redial');
    at = await p.waitFor(/assistant: [^\n]*Welcome back, Ada[^\n]*\n(assistant: .+\n)*you: /, at);
    p.say('what is my name?');
    at = await p.waitFor(/assistant: [^\n]*Your name is Ada[^\n]*\n(assistant: .+\n)*you: /, at);
    p.say('bye');
    at = await p.waitFor(/assistant: [^\n]*Goodbye[^\n]*\ncall ended: /i, at);
    await p.waitFor('> ', at);
    p.say('/quit');
    expect(await p.exited()).toBe(0);

    const second = callSid(p.output(), 1)!;
    expect(second).not.toBe(first);
    await eventually(async () =>
      expect(await h.query(first)).toMatchObject({ status: 'ended', disposition: 'completed', from, legs: [first, second] }),
    );
    const { turns } = (await h.request('GET', `/calls/${first}/turns`)).body;
    const said = turns.filter((t: { role: string }) => t.role === 'user').map((t: { text: string }) => t.text);
    expect(said).toEqual(['my name is Ada', 'what is my name?', 'bye']);
  });

  it('exits 1 and says why when the API refuses its signature', async () => {
    const p = phone(`+1556${randomInt(1_000_000, 10_000_000)}`, 'not-the-token');
    expect(await p.exited()).toBe(1);
    expect(p.errors()).toContain('phone: POST /v1/voice/twilio answered 401');
  });
});
