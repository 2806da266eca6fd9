// Provider credentials per account: sealed at rest (AES-256-GCM, a random IV each, rotatable key), set and
// listed by admins without ever showing a secret, and used to verify each account's own webhooks only.
import { createHash, randomBytes, randomInt, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { pino } from 'pino';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../api/app.js';
import { ConfigError, loadConfig } from '../config/env.js';
import { credentialCipher, credentialsFor, DEV_CREDENTIALS_KEY, parseCredentialsKey, putCredentials } from '../store/credentials.js';
import { expectNoCall } from './support/assertions.js';
import { ADMIN_KEY, createHarness, eventually, PUBLIC_BASE_URL, TWILIO_TOKEN, VONAGE_SECRET, type Harness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h?.close());

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const newSid = () => `AC${hex(16)}`;
const newCallSid = () => `CA${hex(16)}`;
const newNumber = () => `+1778${randomInt(1_000_000, 9_999_999)}`;
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

async function newAccount() {
  const res = await h.request('POST', '/accounts', { accountId: `acc-${randomUUID().slice(0, 8)}`, name: 'Creds' });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.accountId as string;
}
async function newKey(accountId: string, role: string) {
  const res = await h.request('POST', `/accounts/${accountId}/keys`, { name: role, role });
  expect(res.status).toBe(201);
  return res.body.key as string;
}
/** An account with an agent on a number of its own. */
async function accountWithNumber(number = newNumber()) {
  const accountId = await newAccount();
  const agent = await h.request('POST', `/agents?accountId=${accountId}`, { name: 'Desk' });
  expect(agent.status).toBe(201);
  const put = await h.request('PUT', `/numbers/${encodeURIComponent(number)}?accountId=${accountId}`, { agentId: agent.body.agentId });
  expect(put.status, JSON.stringify(put.body)).toBe(201);
  return { accountId, number };
}
const putProvider = (accountId: string, provider: string, body: unknown, headers?: Record<string, string>) =>
  h.request('PUT', `/accounts/${accountId}/providers/${provider}`, body, headers);

/** A Twilio request to `path`, signed with `token` as Twilio signs it. */
async function twilio(app: Harness['app'], path: string, params: Record<string, string>, token: string) {
  const res = await app.request(path, {
    method: 'POST',
    body: new URLSearchParams(params).toString(),
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': getExpectedTwilioSignature(token, PUBLIC_BASE_URL + path, params),
    },
  });
  return { status: res.status, text: await res.text() };
}
const ringing = (accountSid: string, to: string, sid = newCallSid()) => ({
  AccountSid: accountSid,
  CallSid: sid,
  CallStatus: 'ringing',
  From: newNumber(),
  To: to,
  Direction: 'inbound',
  SequenceNumber: '0',
});
const accountOfCall = async (callId: string) => (await h.rows('SELECT account_id FROM calls WHERE call_id = $1', [callId]))[0]?.account_id;

describe('sealed at rest', () => {
  it('round-trips, with a random IV per value, and the row holds no plaintext', async () => {
    const accountId = await newAccount();
    const authToken = hex(16);
    const accountSid = newSid();
    expect((await putProvider(accountId, 'twilio', { accountSid, authToken })).status).toBe(201);
    const [first] = await h.rows("SELECT * FROM provider_credentials WHERE account_id = $1 AND provider = 'twilio'", [accountId]);
    expect((await putProvider(accountId, 'twilio', { accountSid, authToken })).status).toBe(200);
    const [second] = await h.rows("SELECT * FROM provider_credentials WHERE account_id = $1 AND provider = 'twilio'", [accountId]);

    expect(first.iv).toHaveLength(12);
    expect(first.tag).toHaveLength(16);
    expect(first.key_id).toBe(credentialCipher(DEV_CREDENTIALS_KEY).keyId);
    expect(second.iv.equals(first.iv)).toBe(false);
    expect(second.secret.equals(first.secret)).toBe(false);
    expect(first).toMatchObject({ hint: authToken.slice(-4), lookup: accountSid });
    for (const row of [first, second]) {
      const dump = [JSON.stringify(row), row.secret.toString('utf8'), row.secret.toString('hex'), row.secret.toString('base64')].join();
      expect(dump).not.toContain(authToken);
    }
    expect(await credentialsFor(h.pool, credentialCipher(DEV_CREDENTIALS_KEY), accountId, 'twilio')).toEqual({ accountSid, authToken });
  });

  it('a value sealed under the previous key still opens after CREDENTIALS_KEY rotates, and a copied row does not open', async () => {
    // The harness's app seals with the development key: this account's value is sealed under `oldKey` instead.
    const { accountId, number } = await accountWithNumber();
    const [oldKey, newKey] = [hex(32), randomBytes(32).toString('base64')];
    const authToken = hex(16);
    const accountSid = newSid();
    await putCredentials(h.pool, credentialCipher(oldKey), accountId, { provider: 'twilio', accountSid, authToken });

    const rotated = credentialCipher(newKey, oldKey);
    expect(await credentialsFor(h.pool, rotated, accountId, 'twilio')).toEqual({ accountSid, authToken });
    await expect(credentialsFor(h.pool, credentialCipher(newKey), accountId, 'twilio')).rejects.toThrow(/neither CREDENTIALS_KEY/);
    // An API on the rotated keys verifies the account's webhooks with the value sealed under the old one.
    const api = createApp({ ...h.deps, credentials: rotated });
    const sid = newCallSid();
    expect((await twilio(api, '/v1/webhooks/twilio', ringing(accountSid, number, sid), authToken)).status).toBe(200);
    await eventually(async () => expect(await accountOfCall(sid)).toBe(accountId));
    // A new PUT seals under the new key.
    const put = await api.request(`/v1/accounts/${accountId}/providers/twilio`, {
      method: 'PUT',
      headers: { ...bearer(ADMIN_KEY), 'content-type': 'application/json' },
      body: JSON.stringify({ accountSid, authToken }),
    });
    expect(put.status).toBe(200);
    expect((await h.rows('SELECT key_id FROM provider_credentials WHERE account_id = $1', [accountId]))[0].key_id).toBe(rotated.keyId);

    // The sealed value is bound to its row: copied into another account's, it does not open.
    const other = await newAccount();
    await h.pool.query(
      `INSERT INTO provider_credentials (account_id, provider, secret, iv, tag, key_id, hint)
       SELECT $2, provider, secret, iv, tag, key_id, hint FROM provider_credentials WHERE account_id = $1`,
      [accountId, other],
    );
    await expect(credentialsFor(h.pool, rotated, other, 'twilio')).rejects.toThrow();
  });

  it('CREDENTIALS_KEY is 32 bytes in hex or base64, defaults outside production and is required in production', () => {
    expect(parseCredentialsKey(hex(32))).toHaveLength(32);
    expect(parseCredentialsKey(randomBytes(32).toString('base64'))).toHaveLength(32);
    expect(parseCredentialsKey(randomBytes(32).toString('base64url'))).toHaveLength(32);
    for (const bad of [hex(31), hex(33), 'not-a-key', randomBytes(24).toString('base64')]) expect(parseCredentialsKey(bad)).toBeNull();
    expect(loadConfig({}).CREDENTIALS_KEY).toBe(DEV_CREDENTIALS_KEY);
    expect(() => loadConfig({ CREDENTIALS_KEY: 'short' })).toThrow(/CREDENTIALS_KEY: must be 32 bytes/);
    expect(() => loadConfig({ CREDENTIALS_KEY_PREVIOUS: hex(8) })).toThrow(/CREDENTIALS_KEY_PREVIOUS/);
    const others = { ADMIN_API_KEY: 'k'.repeat(16), JWT_SECRET: 'j'.repeat(16), WEBHOOK_SECRET: 'w'.repeat(16), TWILIO_AUTH_TOKEN: 't' };
    expect(() => loadConfig({ NODE_ENV: 'production', ...others })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'production', ...others })).toThrow(/CREDENTIALS_KEY: required in production/);
    const key = hex(32);
    expect(loadConfig({ NODE_ENV: 'production', ...others, CREDENTIALS_KEY: key }).CREDENTIALS_KEY).toBe(key);
  });
});

describe('PUT, GET and DELETE /accounts/{accountId}/providers', () => {
  it('sets each provider, lists which are set with a hint and never a secret, and removes them', async () => {
    const accountId = await newAccount();
    const secrets = { authToken: hex(16), signatureSecret: `vonage-${hex(12)}`, webhookPassword: `exo-${hex(10)}` };
    const twilioPut = await putProvider(accountId, 'twilio', { accountSid: newSid(), authToken: secrets.authToken });
    expect(twilioPut).toMatchObject({ status: 201, body: { provider: 'twilio', set: true, hint: secrets.authToken.slice(-4) } });
    expect(Object.keys(twilioPut.body).sort()).toEqual(['hint', 'provider', 'set', 'updatedAt']);
    expect((await putProvider(accountId, 'vonage', { signatureSecret: secrets.signatureSecret, apiKey: 'ab12cd34' })).status).toBe(201);
    expect((await putProvider(accountId, 'exotel', { webhookUser: 'acme', webhookPassword: secrets.webhookPassword })).status).toBe(201);

    const listed = await h.request('GET', `/accounts/${accountId}/providers`);
    expect(listed.status).toBe(200);
    expect(listed.body.providers).toEqual([
      { provider: 'exotel', set: true, hint: secrets.webhookPassword.slice(-4), updatedAt: expect.any(String) },
      { provider: 'twilio', set: true, hint: secrets.authToken.slice(-4), updatedAt: expect.any(String) },
      { provider: 'vonage', set: true, hint: secrets.signatureSecret.slice(-4), updatedAt: expect.any(String) },
    ]);
    for (const secret of Object.values(secrets)) expect(JSON.stringify(listed.body)).not.toContain(secret);

    expect((await h.request('DELETE', `/accounts/${accountId}/providers/vonage`)).status).toBe(204);
    expect((await h.request('DELETE', `/accounts/${accountId}/providers/vonage`)).status).toBe(404);
    expect((await h.request('GET', `/accounts/${accountId}/providers`)).body.providers.map((p: any) => p.provider)).toEqual([
      'exotel',
      'twilio',
    ]);
  });

  it('a bad body is 400 and stores nothing', async () => {
    const accountId = await newAccount();
    const bad: [string, unknown][] = [
      ['twilio', { accountSid: newSid() }],
      ['twilio', { accountSid: 'AC123', authToken: hex(16) }],
      ['twilio', { accountSid: newSid(), authToken: 'short' }],
      ['twilio', { accountSid: newSid(), authToken: hex(16), extra: 1 }],
      ['twilio', { signatureSecret: `vonage-${hex(12)}` }], // another provider's body
      ['vonage', { signatureSecret: `vonage-${hex(12)}`, apiKey: 'has spaces' }],
      ['exotel', { webhookUser: 'a:b', webhookPassword: hex(10) }],
      ['exotel', 'not json'],
      ['twilio', []],
    ];
    for (const [provider, body] of bad) {
      const res = await putProvider(accountId, provider, body);
      expect(res.status, `${provider} ${JSON.stringify(body)}`).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
    expect((await putProvider(accountId, 'plivo', { authToken: hex(16) })).status).toBe(400);
    expect(await h.rows('SELECT 1 FROM provider_credentials WHERE account_id = $1', [accountId])).toEqual([]);
  });

  it("the platform key or the account's admin key; viewers and operators 403, another account's key 404, a taken AccountSid 409", async () => {
    const accountId = await newAccount();
    const other = await newAccount();
    const body = { accountSid: newSid(), authToken: hex(16) };
    for (const role of ['viewer', 'operator']) {
      const key = await newKey(accountId, role);
      expect((await putProvider(accountId, 'twilio', body, bearer(key))).status, role).toBe(403);
      expect((await h.request('DELETE', `/accounts/${accountId}/providers/twilio`, undefined, bearer(key))).status, role).toBe(403);
    }
    const otherAdmin = await newKey(other, 'admin');
    expect((await putProvider(accountId, 'twilio', body, bearer(otherAdmin))).status).toBe(404);
    expect((await h.request('GET', `/accounts/${accountId}/providers`, undefined, bearer(otherAdmin))).status).toBe(404);
    expect(await h.rows('SELECT 1 FROM provider_credentials WHERE account_id = $1', [accountId])).toEqual([]);

    const admin = await newKey(accountId, 'admin');
    expect((await putProvider(accountId, 'twilio', body, bearer(admin))).status).toBe(201);
    expect((await h.request('GET', `/accounts/${accountId}/providers`, undefined, bearer(admin))).body.providers).toHaveLength(1);
    const taken = await putProvider(other, 'twilio', { accountSid: body.accountSid, authToken: hex(16) });
    expect(taken).toMatchObject({ status: 409, body: { error: { code: 'invalid_state' } } });
    expect((await putProvider('nobody', 'twilio', body)).status).toBe(404);
  });
});

describe("webhooks verified with the account's own credentials", () => {
  it("Twilio: an account's AccountSid with its token reaches its own numbers only; another's token is 401 and records nothing", async () => {
    const a = { ...(await accountWithNumber()), sid: newSid(), token: hex(16) };
    const b = { ...(await accountWithNumber()), sid: newSid(), token: hex(16) };
    for (const x of [a, b]) expect((await putProvider(x.accountId, 'twilio', { accountSid: x.sid, authToken: x.token })).status).toBe(201);

    const own = newCallSid();
    expect(await twilio(h.app, '/v1/webhooks/twilio', ringing(a.sid, a.number, own), a.token)).toMatchObject({ status: 200 });
    await eventually(async () => expect(await accountOfCall(own)).toBe(a.accountId));

    const refused = [
      ringing(a.sid, a.number), // signed below with B's token
      ringing(a.sid, a.number), // with the environment's
      ringing(b.sid, a.number), // B's own token, naming A's number
      ringing(b.sid, newNumber()), // B's own token, a number nobody owns
    ];
    const tokens = [b.token, TWILIO_TOKEN, b.token, b.token];
    for (const [i, params] of refused.entries()) {
      expect((await twilio(h.app, '/v1/webhooks/twilio', params, tokens[i]!)).status, String(i)).toBe(401);
      await expectNoCall(h, params.CallSid);
    }
    // Hosted voice is verified the same way.
    const hosted = ringing(a.sid, a.number);
    expect((await twilio(h.app, '/v1/voice/twilio', hosted, b.token)).status).toBe(401);
    await expectNoCall(h, hosted.CallSid);
    const answered = await twilio(h.app, '/v1/voice/twilio', hosted, a.token);
    expect(answered.status).toBe(200);
    expect(answered.text).toContain('<Response>');
    await eventually(async () => expect(await accountOfCall(hosted.CallSid)).toBe(a.accountId));

    // An AccountSid no account registered is the environment's, as before.
    const plain = newCallSid();
    expect((await twilio(h.app, '/v1/webhooks/twilio', ringing(newSid(), newNumber(), plain), TWILIO_TOKEN)).status).toBe(200);
    await eventually(async () => expect(await accountOfCall(plain)).toBe('default'));
  });

  it('Twilio: a replaced token is used within 1 s by another API process that had the old one', async () => {
    const { accountId, number } = await accountWithNumber();
    const sid = newSid();
    const [before, after] = [hex(16), hex(16)];
    expect((await putProvider(accountId, 'twilio', { accountSid: sid, authToken: before })).status).toBe(201);
    // A second API process: its own cache, the same PostgreSQL.
    const other = createApp(h.deps);
    const send = (token: string) => twilio(other, '/v1/webhooks/twilio', ringing(sid, number), token);
    expect((await send(before)).status).toBe(200);
    expect((await putProvider(accountId, 'twilio', { accountSid: sid, authToken: after })).status).toBe(200);
    const replacedAt = Date.now();
    await eventually(async () => expect((await send(after)).status).toBe(200), 1_000, 20);
    expect(Date.now() - replacedAt).toBeLessThan(1_000);
    expect((await send(before)).status).toBe(401);
    // This process forgets at once.
    expect((await twilio(h.app, '/v1/webhooks/twilio', ringing(sid, number), after)).status).toBe(200);
  });

  it("Vonage: the secret of the account owning the number called, or for a request naming none its API key's", async () => {
    const { accountId, number } = await accountWithNumber();
    const secret = `vonage-${hex(16)}`;
    const apiKey = hex(4);
    expect((await putProvider(accountId, 'vonage', { signatureSecret: secret, apiKey })).status).toBe(201);
    const post = async (event: object, key: string, claims: Record<string, unknown> = {}) => {
      const body = JSON.stringify(event);
      const jwt = await new SignJWT({ payload_hash: createHash('sha256').update(body).digest('hex'), api_key: 'aaaa1111', ...claims })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuedAt()
        .setJti(randomUUID())
        .sign(new TextEncoder().encode(key));
      const res = await h.app.request('/v1/webhooks/vonage', {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${jwt}` },
      });
      return res.status;
    };
    const started = (to: string) => ({
      uuid: randomUUID(),
      status: 'started',
      from: '447700900123',
      to: to.slice(1),
      direction: 'inbound',
    });

    const own = started(number);
    expect(await post(own, secret)).toBe(200);
    await eventually(async () => expect(await accountOfCall(own.uuid)).toBe(accountId));
    const elsewhere = started(newNumber());
    expect(await post(elsewhere, secret, { api_key: apiKey })).toBe(401);
    await expectNoCall(h, elsewhere.uuid);
    expect(await post(started(number), `vonage-${hex(16)}`)).toBe(401);
    // The platform's own application still serves every number.
    expect(await post(started(number), VONAGE_SECRET)).toBe(200);
    // An event naming no number (an input's, a recording's) is matched by the token's api_key.
    const informational = { uuid: randomUUID(), conversation_uuid: `CON-${randomUUID()}`, status: 'human' };
    expect(await post(informational, secret, { api_key: apiKey })).toBe(200);
    expect(await post(informational, secret)).toBe(401);
  });

  it('Exotel: the webhook credentials of the account owning the number called', async () => {
    const { accountId, number } = await accountWithNumber();
    const password = `exotel-${hex(12)}`;
    expect((await putProvider(accountId, 'exotel', { webhookUser: 'acme', webhookPassword: password })).status).toBe(201);
    const post = async (to: string, user: string, pass: string) => {
      const sid = hex(16);
      const res = await h.app.request('/v1/webhooks/exotel', {
        method: 'POST',
        body: new URLSearchParams({ CallSid: sid, Status: 'ringing', From: '09876543210', To: to, Direction: 'incoming' }).toString(),
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`,
        },
      });
      return { status: res.status, sid };
    };
    const own = await post(number, 'acme', password);
    expect(own.status).toBe(200);
    await eventually(async () => expect(await accountOfCall(own.sid)).toBe(accountId));
    const elsewhere = await post(newNumber(), 'acme', password);
    expect(elsewhere.status).toBe(401);
    await expectNoCall(h, elsewhere.sid);
    expect((await post(number, 'acme', `${password}x`)).status).toBe(401);
  });
});

describe('logs', () => {
  it('never carry a secret, whether requests are signed right, wrongly, or bodies refused', async () => {
    let logged = '';
    const logger = pino({ level: 'trace' }, { write: (line: string) => void (logged += line) });
    const app = createApp({ ...h.deps, logger });
    const { accountId, number } = await accountWithNumber();
    const sid = newSid();
    const secrets = { authToken: hex(16), wrongToken: hex(16), signatureSecret: `vonage-${hex(16)}`, webhookPassword: `exo-${hex(12)}` };
    const put = (provider: string, body: unknown) =>
      app.request(`/v1/accounts/${accountId}/providers/${provider}`, {
        method: 'PUT',
        headers: { ...bearer(ADMIN_KEY), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const answers: string[] = [];
    for (const [provider, body] of [
      ['twilio', { accountSid: sid, authToken: secrets.authToken }],
      ['vonage', { signatureSecret: secrets.signatureSecret }],
      ['exotel', { webhookUser: 'acme', webhookPassword: secrets.webhookPassword }],
      ['twilio', { accountSid: sid, authToken: secrets.authToken, extra: secrets.wrongToken }],
      ['vonage', { signatureSecret: secrets.signatureSecret, apiKey: secrets.wrongToken.slice(0, 70) + '!' }],
    ] as const)
      answers.push(await (await put(provider, body)).text());
    answers.push((await twilio(app, '/v1/webhooks/twilio', ringing(sid, number), secrets.authToken)).text);
    answers.push((await twilio(app, '/v1/webhooks/twilio', ringing(sid, number), secrets.wrongToken)).text);
    answers.push((await twilio(app, '/v1/voice/twilio', ringing(sid, number), secrets.wrongToken)).text);
    answers.push(await (await app.request(`/v1/accounts/${accountId}/providers`, { headers: bearer(ADMIN_KEY) })).text());

    expect(logged).toContain('"msg":"request"');
    for (const secret of Object.values(secrets)) {
      expect(logged).not.toContain(secret);
      expect(answers.join()).not.toContain(secret);
    }
  });
});
