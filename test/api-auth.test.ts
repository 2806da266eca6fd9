// Who may do what: operators with the admin key, chat clients with a JWT for their own number only.
import { randomInt } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { WorkflowNotFoundError } from '@temporalio/common';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../api/auth.js';
import { clientAddress, parseTrustProxy } from '../api/client-ip.js';
import { expectEverywhere, turnRows } from './support/assertions.js';
import { ADMIN_KEY, auth, createHarness, eventually, newCallId, type Harness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ call: { resumeWindowMs: 60_000 } });
});
afterAll(() => h?.close());

const newNumber = () => `+1777${randomInt(1_000_000, 9_999_999)}`;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function mint(subject: string): Promise<string> {
  const res = await h.request('POST', '/auth/tokens', { subject });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.token;
}

describe('POST /v1/auth/tokens', () => {
  it('an operator mints an HS256 token for a caller number, expiring after the configured TTL', async () => {
    const number = newNumber();
    const res = await h.request('POST', '/auth/tokens', { subject: number });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(['expiresAt', 'token']);
    expect(decodeProtectedHeader(res.body.token)).toEqual({ alg: 'HS256' });
    const claims = decodeJwt(res.body.token);
    expect(claims).toMatchObject({ sub: number, iss: 'callwright' });
    expect(claims.exp! - claims.iat!).toBe(auth.tokenTtlSeconds);
    expect(res.body.expiresAt).toBe(new Date(claims.exp! * 1000).toISOString());
    expect(Math.abs(claims.exp! * 1000 - (Date.now() + auth.tokenTtlSeconds * 1000))).toBeLessThan(5_000);
  });
});

describe('callers reach only their own calls', () => {
  it("a caller's token reads and messages its own call and gets 403 on another caller's; the admin key sees both", async () => {
    const [alice, bob] = [newNumber(), newNumber()];
    const [aliceToken, bobToken] = [await mint(alice), await mint(bob)];
    const [mine, theirs] = [newCallId(), newCallId()];
    expect((await h.request('POST', '/calls', { callId: mine, channel: 'chat' }, bearer(aliceToken))).status).toBe(201);
    expect((await h.request('POST', '/calls', { callId: theirs, channel: 'chat' }, bearer(bobToken))).status).toBe(201);

    expect((await h.request('GET', `/calls/${mine}`, undefined, bearer(aliceToken))).body).toMatchObject({ callId: mine, from: alice });
    const reply = await h.request('POST', `/calls/${mine}/messages`, { text: 'hello' }, bearer(aliceToken));
    expect(reply.status).toBe(200);
    const turns = await h.request('GET', `/calls/${mine}/turns`, undefined, bearer(aliceToken));
    expect(turns.body.turns.map((t: { role: string }) => t.role)).toEqual(['user', 'assistant']);

    const attempts: [string, string, unknown?][] = [
      ['GET', `/calls/${theirs}`],
      ['GET', `/calls/${theirs}/turns`],
      ['POST', `/calls/${theirs}/messages`, { text: 'hi' }],
      ['POST', `/calls/${theirs}/turns`, { role: 'user', text: 'hi' }],
      ['POST', `/calls/${theirs}/drop`, {}],
      ['POST', `/calls/${theirs}/resume`, {}],
      ['POST', `/calls/${theirs}/end`, {}],
      ['POST', '/calls', { channel: 'chat', from: bob }],
      ['POST', '/calls', { callId: theirs, channel: 'chat' }],
    ];
    for (const [method, path, body] of attempts) {
      const res = await h.request(method, path, body, bearer(aliceToken));
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    }
    // Bob's call is untouched: still active, no turns.
    await expectEverywhere(h, theirs, { status: 'active', turnCount: 0, from: bob });

    for (const id of [mine, theirs]) expect((await h.request('GET', `/calls/${id}`)).status).toBe(200);
    const list = await h.request('GET', `/calls?from=${encodeURIComponent(bob)}`);
    expect(list.body.calls.map((c: { callId: string }) => c.callId)).toEqual([theirs]);
  });

  it('a caller token gets 403 on operator routes', async () => {
    const token = await mint(newNumber());
    for (const [method, path, body] of [
      ['GET', '/stats'],
      ['POST', '/auth/tokens', { subject: newNumber() }],
      ['GET', `/calls?from=${encodeURIComponent(newNumber())}`],
    ] as const) {
      const res = await h.request(method, path, body, bearer(token));
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    }
  });

  it("a caller token lists its own number's calls only", async () => {
    const [me, other] = [newNumber(), newNumber()];
    const mine = (await h.request('POST', '/calls', { channel: 'chat', from: me })).body.callId;
    await h.request('POST', '/calls', { channel: 'chat', from: other });
    await eventually(async () => {
      const { status, body } = await h.request('GET', '/calls', undefined, bearer(await mint(me)));
      expect(status).toBe(200);
      expect(body.calls.map((c: { callId: string }) => c.callId)).toEqual([mine]);
    });
  });
});

describe('bad credentials get 401', () => {
  let number: string;
  let valid: string;
  const callId = newCallId();
  beforeAll(async () => {
    number = newNumber();
    valid = await mint(number);
    expect((await h.request('POST', '/calls', { callId, channel: 'chat', from: number })).status).toBe(201);
  });

  const expect401 = async (headers: Record<string, string>, what: string) => {
    for (const path of [`/calls/${callId}`, `/calls/${callId}/turns`, '/calls', '/stats', '/auth/tokens']) {
      const res = await h.app.request(`/v1${path}`, { headers });
      expect(res.status, `${what}: ${path}`).toBe(401);
      expect((await res.json()).error.code).toBe('unauthorized');
    }
  };

  it('a valid token works (the control)', async () => {
    expect((await h.request('GET', `/calls/${callId}`, undefined, bearer(valid))).status).toBe(200);
  });

  it('missing, malformed or wrong credentials', async () => {
    await expect401({}, 'no header');
    await expect401({ authorization: 'Bearer' }, 'empty bearer');
    await expect401({ authorization: `Basic ${Buffer.from(`admin:${ADMIN_KEY}`).toString('base64')}` }, 'basic auth');
    await expect401({ authorization: `Bearer ${ADMIN_KEY}x` }, 'wrong admin key');
    await expect401({ authorization: `Bearer ${ADMIN_KEY.toUpperCase()}` }, 'admin key in the wrong case');
    await expect401(bearer('not.a.jwt'), 'garbage');
  });

  it('a tampered signature or payload', async () => {
    const [header, payload, signature] = valid.split('.') as [string, string, string];
    // Flip the signature's first character: the last one may only carry padding bits.
    const flipped = (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1);
    await expect401(bearer(`${header}.${payload}.${flipped}`), 'tampered signature');
    const claims = decodeJwt(valid);
    await expect401(bearer(`${header}.${b64({ ...claims, sub: newNumber() })}.${signature}`), 'tampered subject');
    await expect401(bearer(`${header}.${payload}.`), 'signature removed');
  });

  it('an expired token', async () => {
    const { token, expiresAt } = await mintToken(auth, number, 'default', Date.now() - 2 * auth.tokenTtlSeconds * 1000);
    expect(Date.parse(expiresAt)).toBeLessThan(Date.now());
    await expect401(bearer(token), 'expired');
  });

  it('alg none, another algorithm, another secret, another issuer, no subject', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: number, iss: 'callwright', iat: now, exp: now + 600 };
    await expect401(bearer(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`), 'alg none');
    const secret = new TextEncoder().encode(auth.jwtSecret);
    const sign = (alg: string, c: Record<string, unknown>, key = secret) => new SignJWT(c).setProtectedHeader({ alg }).sign(key);
    await expect401(bearer(await sign('HS512', claims)), 'HS512 with the same secret');
    await expect401(bearer(await sign('HS256', claims, new TextEncoder().encode('another-secret-0123456789'))), 'another secret');
    await expect401(bearer(await sign('HS256', { ...claims, iss: 'someone-else' })), 'another issuer');
    await expect401(bearer(await sign('HS256', { iss: 'callwright', iat: now, exp: now + 600 })), 'no subject');
  });
});

describe('a chat client with a JWT', () => {
  it('start, several messages, drop, resume, "what is my name?" from context, end', async () => {
    const number = newNumber();
    const as = bearer(await mint(number));
    const say = async (id: string, text: string) => {
      const res = await h.request('POST', `/calls/${id}/messages`, { text }, as);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.reply.text as string;
    };

    const started = await h.request('POST', '/calls', { channel: 'chat' }, as);
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ from: number, channel: 'chat', status: 'active' });
    const id: string = started.body.callId;

    expect(await say(id, 'Hi there')).toBe('Hello! How can I help you today?');
    expect(await say(id, 'My name is Ada')).toBe('Nice to meet you, Ada. How can I help you today?');
    expect(await say(id, 'I would like to check my order')).toContain('check my order');

    expect((await h.request('POST', `/calls/${id}/drop`, { reason: 'app closed' }, as)).body).toMatchObject({
      status: 'dropped',
      dropCount: 1,
    });
    await expectEverywhere(h, id, { status: 'dropped' });
    expect((await h.request('POST', `/calls/${id}/resume`, {}, as)).body).toMatchObject({ status: 'active', resumeCount: 1 });

    expect(await say(id, 'what is my name?')).toBe('Your name is Ada.');
    const ended = await h.request('POST', `/calls/${id}/end`, {}, as);
    expect(ended.body).toMatchObject({ status: 'ended', disposition: 'completed' });

    const view = await expectEverywhere(h, id, { status: 'ended', disposition: 'completed', turnCount: 8, dropCount: 1, resumeCount: 1 });
    expect(view.context).toMatchObject({ name: 'Ada' });
    expect((await turnRows(h, id)).map((t) => t.role)).toEqual([
      'user',
      'assistant',
      'user',
      'assistant',
      'user',
      'assistant',
      'user',
      'assistant',
    ]);
    const transcript = await h.request('GET', `/calls/${id}/turns`, undefined, as);
    expect(transcript.body.turns).toHaveLength(8);
    const late = await h.request('POST', `/calls/${id}/messages`, { text: 'one more thing' }, as);
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('call_ended');
  });
});

describe('rate limits', () => {
  let limited: Harness;
  const settings = { perCaller: 3, perIp: 5, windowSeconds: 2 };
  beforeAll(async () => {
    // Clients reach the API through two proxies: the socket's peer and 10.0.0.1, which wrote the client's address.
    limited = await createHarness({ rateLimit: { ...settings, trustProxy: parseTrustProxy('2') } });
  });
  afterAll(() => limited?.close());

  let n = 0;
  const newIp = () => `203.0.113.${(n = (n + 1) % 250) + 1}`;
  const as = async (number: string, ip: string) => ({
    authorization: `Bearer ${(await mintToken(auth, number, 'default')).token}`,
    'x-forwarded-for': `${ip}, 10.0.0.1`,
  });
  const expect429 = (res: { status: number; body: any; headers: Headers }) => {
    expect(res.status).toBe(429);
    expect(res.body.error.code).toBe('rate_limited');
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(settings.windowSeconds);
  };
  // A burst must fall inside one window: if it straddled a boundary, try again with a fresh principal.
  const burst = (fn: () => Promise<void>) => eventually(fn, 20_000, 0);

  it('per caller: the 4th request in a window gets 429 with Retry-After and does nothing; others are unaffected', async () => {
    await burst(async () => {
      const number = newNumber();
      const ip = newIp();
      const headers = await as(number, ip);
      for (let i = 0; i < settings.perCaller; i++) {
        expect((await limited.request('GET', `/calls/${newCallId()}`, undefined, headers)).status).toBe(404);
      }
      const id = newCallId();
      expect429(await limited.request('POST', '/calls', { callId: id, channel: 'chat' }, headers));
      await expect(limited.handle(id).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
      // Another caller, and the operator, from the same address still get through.
      expect((await limited.request('POST', '/calls', { callId: id, channel: 'chat' }, await as(newNumber(), ip))).status).toBe(201);
      expect(
        (await limited.request('GET', `/calls/${id}`, undefined, { authorization: `Bearer ${ADMIN_KEY}`, 'x-forwarded-for': newIp() }))
          .status,
      ).toBe(200);
    });
  });

  it('per IP: many callers from one address share its limit; webhooks and health are not limited', async () => {
    await burst(async () => {
      const ip = newIp();
      for (let i = 0; i < settings.perIp; i++) {
        expect((await limited.request('GET', `/calls/${newCallId()}`, undefined, await as(newNumber(), ip))).status).toBe(404);
      }
      expect429(await limited.request('GET', `/calls/${newCallId()}`, undefined, await as(newNumber(), ip)));
      expect429(await limited.request('POST', '/auth/tokens', { subject: newNumber() }, await as(newNumber(), ip)));
      // The operators' key is not limited, wherever it comes from.
      for (let i = 0; i < 3; i++)
        expect(
          (await limited.request('GET', '/stats', undefined, { authorization: `Bearer ${ADMIN_KEY}`, 'x-forwarded-for': ip })).status,
        ).toBe(200);
      expect((await limited.request('GET', `/calls/${newCallId()}`, undefined, await as(newNumber(), newIp()))).status).toBe(404);
      expect((await limited.request('POST', '/webhooks/events', {}, { 'x-forwarded-for': ip })).status).not.toBe(429);
      expect((await limited.app.request('/healthz', { headers: { 'x-forwarded-for': ip } })).status).toBe(200);
    });
  });

  /** Over a real HTTP server (so there is a socket): one request more than the per-IP limit, each from a new caller. */
  async function burstFromOneSocket(
    app: Harness['app'],
    windowSeconds: number,
    extra: () => Record<string, string> = () => ({}),
  ): Promise<number[]> {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await once(server, 'listening');
    // Every burst from this socket shares one counter per fixed window: start at a window's beginning, so a
    // burst that failed (or straddled a boundary) does not leave the next attempt's window already counted.
    const windowMs = windowSeconds * 1000;
    await new Promise((resolve) => setTimeout(resolve, windowMs - (Date.now() % windowMs) + 10));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/calls`;
    try {
      const statuses: number[] = [];
      for (let i = 0; i <= settings.perIp; i++) {
        const headers = { authorization: `Bearer ${(await mintToken(auth, newNumber(), 'default')).token}`, ...extra() };
        statuses.push((await fetch(`${url}/${newCallId()}`, { headers })).status);
      }
      return statuses;
    } finally {
      server.close();
    }
  }

  it('without X-Forwarded-For, the socket address is the client (over a real HTTP server)', async () => {
    await burst(async () => {
      expect(await burstFromOneSocket(limited.app, settings.windowSeconds)).toEqual([...Array(settings.perIp).fill(404), 429]);
      expect(await limited.redis.keys('ratelimit:ip:127.0.0.1:*')).not.toEqual([]);
    });
  });

  it('X-Forwarded-For is not believed without TRUST_PROXY: a client that rotates it is still limited by its socket', async () => {
    // A longer window than the other tests': six requests fit in it however loaded the machine is.
    const windowSeconds = 10;
    const spoofed = await createHarness({ rateLimit: { perCaller: 0, perIp: settings.perIp, windowSeconds } });
    try {
      await burst(async () => {
        expect(await burstFromOneSocket(spoofed.app, windowSeconds, () => ({ 'x-forwarded-for': newIp() }))).toEqual([
          ...Array(settings.perIp).fill(404),
          429,
        ]);
      });
    } finally {
      await spoofed.close();
    }
  });

  it('TRUST_PROXY by address: hops from trusted proxies are skipped, a forged leftmost entry is not believed', () => {
    const trust = parseTrustProxy('10.0.0.0/8, ::1');
    expect(clientAddress('10.1.2.3', '198.51.100.7', trust)).toBe('198.51.100.7');
    // The client forged "1.2.3.4"; the first untrusted hop from the right is the one the proxy saw.
    expect(clientAddress('::ffff:10.1.2.3', '1.2.3.4, 198.51.100.7, 10.9.9.9', trust)).toBe('198.51.100.7');
    expect(clientAddress('::1', '10.0.0.5', trust)).toBe('10.0.0.5'); // every hop trusted: the farthest one
    expect(clientAddress('198.51.100.9', '1.2.3.4', trust)).toBe('198.51.100.9'); // not from a proxy: the header is ignored
    expect(clientAddress('10.1.2.3', '1.2.3.4', parseTrustProxy(''))).toBe('10.1.2.3');
    expect(clientAddress('10.1.2.3', '1.2.3.4, 5.6.7.8', parseTrustProxy('1'))).toBe('5.6.7.8');
    expect(() => parseTrustProxy('10.0.0.0/33')).toThrow(/CIDR/);
    expect(() => parseTrustProxy('proxy.example.com')).toThrow(/CIDR/);
  });

  it('the window passes and the caller gets through again', async () => {
    const number = newNumber();
    const headers = await as(number, newIp());
    let res;
    do res = await limited.request('GET', '/calls/nothing-here', undefined, headers);
    while (res.status !== 429);
    expect429(res);
    await eventually(
      async () => expect((await limited.request('GET', '/calls/nothing-here', undefined, headers)).status).toBe(404),
      10_000,
      200,
    );
  });
});
