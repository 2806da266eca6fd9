// The isolation walk: every documented operation that takes an id, tried with another account's key (and,
// for calls, another account's chat token) on account A's ids. Each answers 404 and A's rows stay as they were.
import { randomInt, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, eventually, type Harness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h?.close());

const newNumber = () => `+1888${randomInt(1_000_000, 9_999_999)}`;
const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });

/** A valid body for each operation that takes one: a 404 must not hide behind a 400. */
const BODIES: Record<string, unknown> = {
  'PATCH /v1/agents/{agentId}': { name: 'taken over' },
  'PUT /v1/numbers/{number}': { agentId: 'AGENT' },
  'POST /v1/calls/{callId}/messages': { text: 'let me in' },
  'POST /v1/calls/{callId}/turns': { role: 'user', text: 'let me in' },
  'POST /v1/calls/{callId}/drop': {},
  'POST /v1/calls/{callId}/resume': {},
  'POST /v1/calls/{callId}/end': {},
  'POST /v1/calls/{callId}/transfer': { to: '+15551234567' },
  'PATCH /v1/accounts/{accountId}': { name: 'taken over' },
  'PUT /v1/callers/{number}': { name: 'Grace' },
  'PATCH /v1/callers/{number}': { name: 'Grace H.' },
  'POST /v1/accounts/{accountId}/keys': { name: 'mine now', role: 'admin' },
  'PUT /v1/accounts/{accountId}/providers/{provider}': { accountSid: `AC${'0'.repeat(31)}9`, authToken: 'taken-over-token-0123456789' },
};
/**
 * What another account's key may do on these, by design: a caller profile is per account, so B's
 * request names B's own profile of that number; A's number is B's 409 number_taken. A's rows still stay.
 */
const NOT_404: Record<string, number[]> = {
  // B's own profile of the number: created by the PUT, then read, changed and deleted as B's.
  'PUT /v1/callers/{number}': [201],
  'GET /v1/callers/{number}': [200, 404],
  'PATCH /v1/callers/{number}': [200, 404],
  'DELETE /v1/callers/{number}': [204, 404],
  'PUT /v1/numbers/{number}': [404, 409],
};
/** Operations only the platform key may use: another account's key is refused before any id is read. */
const PLATFORM_ONLY = new Set(['PATCH /v1/accounts/{accountId}', 'DELETE /v1/accounts/{accountId}']);
/** Operations a chat token may never use, whoever's call it names: refused before any id is read. */
const OPERATORS_ONLY = new Set(['POST /v1/calls/{callId}/transfer']);

async function account(name: string) {
  const accountId = (await h.request('POST', '/accounts', { accountId: `iso-${randomUUID().slice(0, 8)}`, name })).body.accountId;
  const { key } = (await h.request('POST', `/accounts/${accountId}/keys`, { name: 'admin', role: 'admin' })).body;
  return { accountId: accountId as string, key: key as string };
}

/** Everything account A owns, as rows: compared before and after the walk. */
async function rowsOf(accountId: string) {
  const q = async (sql: string) => (await h.rows(sql, [accountId])).map((r) => JSON.stringify(r));
  return {
    accounts: await q('SELECT * FROM accounts WHERE account_id = $1'),
    // Using a key marks it used: all but that.
    keys: await q('SELECT key_id, name, role, key_hash, created_at, revoked_at FROM api_keys WHERE account_id = $1 ORDER BY key_id'),
    credentials: await q('SELECT * FROM provider_credentials WHERE account_id = $1 ORDER BY provider'),
    agents: await q('SELECT * FROM agents WHERE account_id = $1 ORDER BY agent_id'),
    numbers: await q('SELECT * FROM numbers WHERE account_id = $1 ORDER BY number'),
    callers: await q('SELECT * FROM callers WHERE account_id = $1 ORDER BY number'),
    calls: await q('SELECT * FROM calls WHERE account_id = $1 ORDER BY call_id'),
    turns: await q('SELECT t.* FROM turns t JOIN calls c USING (call_id) WHERE c.account_id = $1 ORDER BY t.call_id, t.seq'),
    events: await q('SELECT e.* FROM call_events e JOIN calls c USING (call_id) WHERE c.account_id = $1 ORDER BY e.call_id, e.seq'),
  };
}

describe('isolation walk over the OpenAPI document', () => {
  it("answers 404 to every id of another account's, on every operation that takes one, and changes nothing", async () => {
    const a = await account('A');
    const b = await account('B');
    const as = (key: string) => ({ ...bearer(key), 'content-type': 'application/json' });
    const agent = (await h.request('POST', '/agents', { name: 'A desk' }, as(a.key))).body.agentId as string;
    const number = newNumber();
    const caller = newNumber();
    expect((await h.request('PUT', `/numbers/${encodeURIComponent(number)}`, { agentId: agent }, as(a.key))).status).toBe(201);
    expect((await h.request('PUT', `/callers/${encodeURIComponent(caller)}`, { name: 'Ada' }, as(a.key))).status).toBe(201);
    const call = (await h.request('POST', '/calls', { channel: 'chat', from: caller }, as(a.key))).body.callId as string;
    expect((await h.request('POST', `/calls/${call}/messages`, { text: 'hello' }, as(a.key))).status).toBe(200);
    const keyId = (await h.request('GET', `/accounts/${a.accountId}/keys`)).body.keys[0].keyId as string;
    await eventually(async () => expect((await h.rows('SELECT turn_count FROM calls WHERE call_id = $1', [call]))[0].turn_count).toBe(2));
    const tokenB = (await h.request('POST', '/auth/tokens', { subject: caller }, as(b.key))).body.token as string;

    // A's own Twilio credentials: B may neither read, replace nor remove them.
    const provider = 'twilio';
    expect(
      (
        await h.request('PUT', `/accounts/${a.accountId}/providers/${provider}`, {
          accountSid: `AC${'a'.repeat(32)}`,
          authToken: 'a-own-token-0123456789abc',
        })
      ).status,
    ).toBe(201);
    const ids: Record<string, string> = { callId: call, agentId: agent, number, accountId: a.accountId, keyId, provider };
    const before = await rowsOf(a.accountId);
    const doc = await (await h.app.request('/openapi.json')).json();
    const tried = { operations: 0, requests: 0, leaks: [] as string[] };
    for (const [template, item] of Object.entries(doc.paths as Record<string, Record<string, { security?: unknown[] }>>)) {
      const names = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
      if (!names.length || !template.startsWith('/v1/') || template.startsWith('/v1/webhooks') || template.startsWith('/v1/voice'))
        continue;
      for (const [method, op] of Object.entries(item)) {
        if (!op.security) continue;
        const name = `${method.toUpperCase()} ${template}`;
        for (const n of names) expect(ids[n], `an id of A's for {${n}} in ${name}`).toBeDefined();
        const path = template.replace(/\{(\w+)\}/g, (_, n: string) => encodeURIComponent(ids[n]!));
        const body = JSON.stringify(BODIES[name] ?? {}).replace('"AGENT"', JSON.stringify(agent));
        const credentials = template.startsWith('/v1/calls/') ? [b.key, tokenB] : [b.key];
        tried.operations++;
        for (const credential of credentials) {
          tried.requests++;
          const init: RequestInit = { method: method.toUpperCase(), headers: as(credential) };
          if (!['GET', 'HEAD', 'DELETE'].includes(init.method!)) init.body = body;
          const res = await h.app.request(path, init);
          const text = await res.text();
          const refused = PLATFORM_ONLY.has(name) || (credential === tokenB && OPERATORS_ONLY.has(name));
          const allowed = refused ? [403] : (NOT_404[name] ?? [404]);
          if (!allowed.includes(res.status))
            tried.leaks.push(`${name} with ${credential === tokenB ? 'a chat token' : 'a key'}: ${res.status} ${text.slice(0, 200)}`);
          // No answer carries A's data, whatever its status.
          for (const secret of [call, keyId, 'A desk'])
            if (text.includes(secret) && res.status !== 404) tried.leaks.push(`${name}: carries ${secret}`);
        }
      }
    }
    console.log(
      `isolation walk: ${tried.operations} operations, ${tried.requests} requests with another account's credentials, leaks: ${tried.leaks.length}`,
    );
    expect(tried.leaks).toEqual([]);
    expect(tried.operations).toBeGreaterThanOrEqual(20);
    expect(await rowsOf(a.accountId)).toEqual(before);
  });
});

describe('viewer keys', () => {
  it('are refused 403 on every documented operation that writes, and change nothing', async () => {
    const a = await account('Viewers');
    const { key } = (await h.request('POST', `/accounts/${a.accountId}/keys`, { name: 'viewer', role: 'viewer' })).body;
    const before = await rowsOf(a.accountId);
    const doc = await (await h.app.request('/openapi.json')).json();
    const refused: string[] = [];
    const answered: string[] = [];
    for (const [template, item] of Object.entries(doc.paths as Record<string, Record<string, { security?: unknown[] }>>)) {
      for (const [method, op] of Object.entries(item)) {
        if (!op.security || method === 'get' || method === 'head') continue;
        const name = `${method.toUpperCase()} ${template}`;
        const path = template.replace(/\{(\w+)\}/g, (_, n: string) => (n === 'accountId' ? a.accountId : `x-${n}`));
        const res = await h.app.request(path, {
          method: method.toUpperCase(),
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify(BODIES[name] ?? {}),
        });
        (res.status === 403 ? refused : answered).push(`${name}: ${res.status}`);
      }
    }
    expect(answered).toEqual([]);
    expect(refused.length).toBeGreaterThanOrEqual(20);
    expect(await rowsOf(a.accountId)).toEqual(before);
  });
});
