// Accounts: two customers side by side on one Callwright, their keys and roles, suspension, and nothing of
// one account reachable with the other's credentials.
import { createHash, randomInt, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../api/app.js';
import { createGrants } from '../api/grants.js';
import { AccountIdKey } from '../workflows/search-attributes.js';
import { ADMIN_KEY, auth, createHarness, eventually, type Harness } from './support/harness.js';
import { postTwilio } from './support/twilio-signed.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h?.close());

const suffix = () => randomUUID().slice(0, 8);
const newNumber = () => `+1777${randomInt(1_000_000, 9_999_999)}`;
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

async function newAccount(name = 'Acme') {
  const res = await h.request('POST', '/accounts', { accountId: `acc-${suffix()}`, name });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.accountId as string;
}
async function newKey(accountId: string, role = 'admin', as = ADMIN_KEY) {
  const res = await h.request('POST', `/accounts/${accountId}/keys`, { name: `${role} key`, role }, bearer(as));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { keyId: string; key: string };
}
async function chatToken(key: string, number: string) {
  const res = await h.request('POST', '/auth/tokens', { subject: number }, bearer(key));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.token as string;
}

describe('keys', () => {
  it('a key is shown once, stored only as its SHA-256, listed without its secret and with lastUsedAt', async () => {
    const accountId = await newAccount();
    const made = await newKey(accountId, 'operator');
    expect(made.key).toMatch(/^cwk_[A-Za-z0-9_-]{40,}$/);
    const [row] = await h.rows('SELECT * FROM api_keys WHERE key_id = $1', [made.keyId]);
    expect(row.key_hash).toBe(createHash('sha256').update(made.key).digest('hex'));
    expect(JSON.stringify(row)).not.toContain(made.key);

    expect((await h.request('GET', '/agents', undefined, bearer(made.key))).status).toBe(200);
    const listed = await h.request('GET', `/accounts/${accountId}/keys`);
    expect(listed.status).toBe(200);
    expect(JSON.stringify(listed.body)).not.toContain(made.key);
    await eventually(async () => {
      const { body } = await h.request('GET', `/accounts/${accountId}/keys`);
      expect(body.keys).toEqual([
        expect.objectContaining({ keyId: made.keyId, role: 'operator', revokedAt: null, lastUsedAt: expect.any(String) }),
      ]);
    });
  });

  it('a revoked key is refused within 1 s by another API process that had it cached', async () => {
    const accountId = await newAccount();
    const { key, keyId } = await newKey(accountId, 'operator');
    // A second API process: its own key cache, the same PostgreSQL.
    const other = createApp({ ...appDeps(), grants: createGrants(h.pool) });
    const get = async () => (await other.request('/v1/agents', { headers: bearer(key) })).status;
    expect(await get()).toBe(200);
    expect((await h.request('DELETE', `/accounts/${accountId}/keys/${keyId}`)).status).toBe(204);
    const revokedAt = Date.now();
    await eventually(async () => expect(await get()).toBe(401), 1_000, 20);
    expect(Date.now() - revokedAt).toBeLessThan(1_000);
    expect((await h.rows('SELECT revoked_at FROM api_keys WHERE key_id = $1', [keyId]))[0].revoked_at).not.toBeNull();
  });

  it('forged, truncated and unknown keys are 401 and change nothing', async () => {
    const accountId = await newAccount();
    const { key } = await newKey(accountId);
    for (const bad of [key.slice(0, -1), `${key}x`, `cwk_${'A'.repeat(43)}`, 'cwk_']) {
      const res = await h.request('POST', '/agents', { name: 'Nope' }, bearer(bad));
      expect(res.status, bad).toBe(401);
    }
    expect(await h.rows('SELECT 1 FROM agents WHERE account_id = $1', [accountId])).toEqual([]);
  });
});

describe('roles', () => {
  it('a viewer reads and writes nothing; an operator manages calls and agents but not keys; an admin manages keys', async () => {
    const accountId = await newAccount();
    const admin = await newKey(accountId, 'admin');
    const operator = await newKey(accountId, 'operator', admin.key);
    const viewer = await newKey(accountId, 'viewer', admin.key);

    const agent = await h.request('POST', '/agents', { name: 'Desk' }, bearer(operator.key));
    expect(agent.status).toBe(201);
    expect(agent.body.accountId).toBe(accountId);
    expect((await h.request('GET', `/agents/${agent.body.agentId}`, undefined, bearer(viewer.key))).status).toBe(200);
    for (const [method, path, body] of [
      ['POST', '/agents', { name: 'x' }],
      ['PATCH', `/agents/${agent.body.agentId}`, { name: 'y' }],
      ['POST', '/calls', { channel: 'chat', from: newNumber() }],
      ['POST', '/auth/tokens', { subject: newNumber() }],
      ['PUT', `/callers/${encodeURIComponent(newNumber())}`, { name: 'Ada' }],
    ] as const) {
      const res = await h.request(method, path, body, bearer(viewer.key));
      expect(res.status, `${method} ${path}`).toBe(403);
    }
    expect((await h.rows('SELECT name FROM agents WHERE account_id = $1', [accountId])).map((r) => r.name)).toEqual(['Desk']);
    expect(await h.rows('SELECT 1 FROM calls WHERE account_id = $1', [accountId])).toEqual([]);

    expect((await h.request('POST', `/accounts/${accountId}/keys`, { name: 'k', role: 'admin' }, bearer(operator.key))).status).toBe(403);
    expect((await h.request('GET', `/accounts/${accountId}/keys`, undefined, bearer(viewer.key))).status).toBe(403);
    // Managing accounts is the platform's.
    expect((await h.request('POST', '/accounts', { name: 'Mine' }, bearer(admin.key))).status).toBe(403);
    expect((await h.request('PATCH', `/accounts/${accountId}`, { limits: { concurrentCalls: 999 } }, bearer(admin.key))).status).toBe(403);
    expect((await h.request('GET', `/accounts/${accountId}`, undefined, bearer(viewer.key))).body.accountId).toBe(accountId);
  });
});

describe('two accounts side by side', () => {
  it("each sees only its own agents, numbers, callers, calls, turns, events, lists and stats; the other's ids are 404", async () => {
    const [a, b] = [await newAccount('A'), await newAccount('B')];
    const [keyA, keyB] = [(await newKey(a, 'operator')).key, (await newKey(b, 'operator')).key];
    const caller = newNumber();
    const [numberA, numberB] = [newNumber(), newNumber()];

    const agentA = (await h.request('POST', '/agents', { name: 'A desk', firstMessage: 'Hello from A.' }, bearer(keyA))).body;
    const agentB = (await h.request('POST', '/agents', { name: 'B desk', firstMessage: 'Hello from B.' }, bearer(keyB))).body;
    expect((await h.request('PUT', `/numbers/${encodeURIComponent(numberA)}`, { agentId: agentA.agentId }, bearer(keyA))).status).toBe(201);
    // B may not assign A's agent, nor take A's number.
    expect((await h.request('PUT', `/numbers/${encodeURIComponent(numberB)}`, { agentId: agentA.agentId }, bearer(keyB))).status).toBe(404);
    const taken = await h.request('PUT', `/numbers/${encodeURIComponent(numberA)}`, { agentId: agentB.agentId }, bearer(keyB));
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('number_taken');
    expect(await h.rows('SELECT account_id, agent_id FROM numbers WHERE number = $1', [numberA])).toEqual([
      { account_id: a, agent_id: agentA.agentId },
    ]);

    // The same caller number is a separate profile in each account.
    await h.request('PUT', `/callers/${encodeURIComponent(caller)}`, { name: 'Ada' }, bearer(keyA));
    await h.request('PUT', `/callers/${encodeURIComponent(caller)}`, { name: 'Grace' }, bearer(keyB));
    expect(await h.rows('SELECT account_id, name FROM callers WHERE number = $1 ORDER BY name', [caller])).toEqual([
      { account_id: a, name: 'Ada' },
      { account_id: b, name: 'Grace' },
    ]);

    const tokenA = await chatToken(keyA, caller);
    const tokenB = await chatToken(keyB, caller);
    const callA = (await h.request('POST', '/calls', { channel: 'chat', agentId: agentA.agentId }, bearer(tokenA))).body;
    const callB = (await h.request('POST', '/calls', { channel: 'chat', agentId: agentB.agentId }, bearer(tokenB))).body;
    expect([callA.accountId, callB.accountId]).toEqual([a, b]);
    // Operators filter by customer in the Temporal UI.
    expect((await h.handle(callB.callId).describe()).typedSearchAttributes.get(AccountIdKey)).toBe(b);
    expect(callA.context.name).toBe('Ada');
    expect(callB.context.name).toBe('Grace');
    expect((await h.request('POST', `/calls/${callA.callId}/messages`, { text: 'hi' }, bearer(tokenA))).status).toBe(200);
    await eventually(async () =>
      expect((await h.rows('SELECT account_id FROM calls WHERE call_id = $1', [callA.callId]))[0]).toEqual({ account_id: a }),
    );

    const before = await h.rows('SELECT turn_count, status, version FROM calls WHERE call_id = $1', [callA.callId]);
    // Everything of A's, asked with B's key or B's caller's token: 404, and nothing changes.
    for (const credential of [keyB, tokenB]) {
      for (const [method, path, body] of [
        ['GET', `/calls/${callA.callId}`],
        ['GET', `/calls/${callA.callId}/turns`],
        ['GET', `/calls/${callA.callId}/events`],
        ['GET', `/calls/${callA.callId}/stream`],
        ['POST', `/calls/${callA.callId}/messages`, { text: 'let me in' }],
        ['POST', `/calls/${callA.callId}/drop`, {}],
        ['POST', `/calls/${callA.callId}/end`, {}],
      ] as const) {
        const res = await h.request(method, path, body, bearer(credential));
        expect(res.status, `${method} ${path}`).toBe(404);
      }
    }
    for (const [method, path, body] of [
      ['GET', `/agents/${agentA.agentId}`],
      ['PATCH', `/agents/${agentA.agentId}`, { name: 'mine now' }],
      ['DELETE', `/agents/${agentA.agentId}`],
      ['GET', `/numbers/${encodeURIComponent(numberA)}`],
      ['DELETE', `/numbers/${encodeURIComponent(numberA)}`],
      ['GET', `/accounts/${a}`],
      ['GET', `/accounts/${a}/keys`],
    ] as const) {
      const res = await h.request(method, path, body, bearer(keyB));
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    expect((await h.rows('SELECT name FROM agents WHERE agent_id = $1', [agentA.agentId]))[0].name).toBe('A desk');
    expect(await h.rows('SELECT turn_count, status, version FROM calls WHERE call_id = $1', [callA.callId])).toEqual(before);
    expect(before[0].status).toBe('active');

    const list = async (credential: string) =>
      (await h.request('GET', '/calls', undefined, bearer(credential))).body.calls.map((c: { callId: string }) => c.callId);
    expect(await list(keyA)).toEqual([callA.callId]);
    expect(await list(tokenB)).toEqual([callB.callId]);
    expect((await h.request('GET', '/agents', undefined, bearer(keyB))).body.agents.map((x: { agentId: string }) => x.agentId)).toEqual([
      agentB.agentId,
    ]);
    expect((await h.request('GET', '/numbers', undefined, bearer(keyB))).body.numbers).toEqual([]);
    const stats = (await h.request('GET', '/stats', undefined, bearer(keyA))).body;
    expect(stats.active).toBe(1);
    expect(stats.callsPerDay.at(-1).chat).toBe(1);
    expect(stats.platform).toBeUndefined();
    // The platform sees its customers side by side, and how many are suspended.
    const { platform: perAccount } = (await h.request('GET', '/stats')).body;
    const row = (id: string) => perAccount.accounts.find((x: { accountId: string }) => x.accountId === id);
    expect(row(a)).toMatchObject({ name: 'A', status: 'active', active: 1, calls: 1 });
    expect(row(b)).toMatchObject({ name: 'B', status: 'active', active: 1, calls: 1 });
    expect(perAccount.accountsByStatus.active + perAccount.accountsByStatus.suspended).toBe(perAccount.accounts.length);
    // The platform key reads across accounts, or one account with ?accountId=.
    const platform = (await h.request('GET', `/calls?accountId=${b}`)).body.calls.map((c: { callId: string }) => c.callId);
    expect(platform).toEqual([callB.callId]);
    expect((await h.request('GET', `/calls/${callA.callId}`)).status).toBe(200);
  });

  it('a redial resumes only a call of the account that owns the number called', async () => {
    const [a, b] = [await newAccount('A'), await newAccount('B')];
    const [keyA, keyB] = [(await newKey(a, 'operator')).key, (await newKey(b, 'operator')).key];
    const [numberA, numberB, caller] = [newNumber(), newNumber(), newNumber()];
    for (const [key, number] of [
      [keyA, numberA],
      [keyB, numberB],
    ]) {
      const agent = (await h.request('POST', '/agents', { name: 'Desk' }, bearer(key))).body;
      expect((await h.request('PUT', `/numbers/${encodeURIComponent(number)}`, { agentId: agent.agentId }, bearer(key))).status).toBe(201);
    }
    const first = `CA${randomUUID().replaceAll('-', '')}`;
    await twilio(first, 'in-progress', caller, numberA, 2);
    await twilio(first, 'completed', caller, numberA, 3, { CallDuration: '5' });
    await eventually(async () => expect((await h.request('GET', `/calls/${first}`, undefined, bearer(keyA))).body.status).toBe('dropped'));

    // The same caller rings B's number within A's window: a new call of B's, A's call stays dropped.
    const other = `CA${randomUUID().replaceAll('-', '')}`;
    await twilio(other, 'in-progress', caller, numberB, 2);
    const ofB = await eventually(async () => {
      const res = await h.request('GET', `/calls/${other}`, undefined, bearer(keyB));
      expect(res.status).toBe(200);
      return res.body;
    });
    expect(ofB).toMatchObject({ accountId: b, status: 'active', resumeCount: 0 });
    expect((await h.request('GET', `/calls/${first}`, undefined, bearer(keyA))).body).toMatchObject({ status: 'dropped', resumeCount: 0 });

    // Ringing A's number again resumes A's call.
    const back = `CA${randomUUID().replaceAll('-', '')}`;
    await twilio(back, 'in-progress', caller, numberA, 2);
    await eventually(async () =>
      expect((await h.request('GET', `/calls/${first}`, undefined, bearer(keyA))).body).toMatchObject({ status: 'active', resumeCount: 1 }),
    );
  });
});

describe('suspension', () => {
  it("stops the account's keys and chat tokens at once and refuses its new calls 403 account_suspended; reactivation restores them", async () => {
    const accountId = await newAccount();
    const { key } = await newKey(accountId, 'operator');
    const token = await chatToken(key, newNumber());
    expect((await h.request('DELETE', `/accounts/${accountId}`)).body.status).toBe('suspended');
    await eventually(
      async () => {
        for (const credential of [key, token]) {
          const res = await h.request('GET', '/calls', undefined, bearer(credential));
          expect(res.status).toBe(403);
          expect(res.body.error.code).toBe('account_suspended');
        }
      },
      1_000,
      20,
    );
    const start = await h.request('POST', '/calls', { channel: 'chat', from: newNumber(), accountId });
    expect(start.status).toBe(403);
    expect(start.body.error.code).toBe('account_suspended');
    expect(await h.rows('SELECT 1 FROM calls WHERE account_id = $1', [accountId])).toEqual([]);

    expect((await h.request('PATCH', `/accounts/${accountId}`, { status: 'active' })).body.status).toBe('active');
    await eventually(async () => expect((await h.request('GET', '/calls', undefined, bearer(key))).status).toBe(200), 1_000, 20);
  });
});

describe('the default account', () => {
  it('holds what the platform key creates without naming an account, and rows from before accounts', async () => {
    const agent = (await h.request('POST', '/agents', { name: `Old ${suffix()}` })).body;
    expect(agent.accountId).toBe('default');
    const call = (await h.request('POST', '/calls', { channel: 'chat', from: newNumber() })).body;
    expect(call.accountId).toBe('default');
    // The migration gave every table an account, `default` unless a writer named another.
    const columns = await h.rows(
      `SELECT table_name, column_default, is_nullable FROM information_schema.columns
       WHERE column_name = 'account_id' AND table_name IN ('calls', 'agents', 'numbers', 'callers') ORDER BY table_name`,
    );
    expect(columns).toEqual(
      ['agents', 'callers', 'calls', 'numbers'].map((t) => ({ table_name: t, column_default: "'default'::text", is_nullable: 'NO' })),
    );
    expect((await h.request('POST', '/calls', { channel: 'chat', from: newNumber(), accountId: 'no-such-account' })).status).toBe(404);
  });
});

/** A Twilio status callback, signed as Twilio signs it. */
async function twilio(sid: string, status: string, from: string, to: string, seq: number, extra: Record<string, string> = {}) {
  const params = {
    AccountSid: `AC${'0'.repeat(32)}`,
    CallSid: sid,
    CallStatus: status,
    From: from,
    To: to,
    Direction: 'inbound',
    SequenceNumber: String(seq),
    ...extra,
  };
  const res = await postTwilio(h, '/v1/webhooks/twilio', params);
  expect(res.status, await res.text()).toBe(200);
}

/** What the harness built its app from, for a second app (another API process) on the same servers. */
const appDeps = () => ({ ...h.deps, auth });

describe('concurrency limits', () => {
  it('50 concurrent starts from two API processes: exactly `limit` start, the rest 429 concurrency_limit; a drop frees a line', async () => {
    const accountId = (
      await h.request('POST', '/accounts', { accountId: `acc-${suffix()}`, name: 'Small', limits: { concurrentCalls: 3 } })
    ).body.accountId as string;
    const { key } = await newKey(accountId, 'operator');
    const other = createApp({ ...appDeps(), grants: createGrants(h.pool) });
    const start = async (i: number) => {
      const init = {
        method: 'POST',
        headers: { ...bearer(key), 'content-type': 'application/json' },
        body: JSON.stringify({ channel: 'chat', from: newNumber() }),
      };
      const res = i % 2 ? await other.request('/v1/calls', init) : await h.app.request('/v1/calls', init);
      return { status: res.status, body: await res.json() };
    };
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => start(i)));
    const started = answers.filter((a) => a.status === 201);
    expect(started).toHaveLength(3);
    const refused = answers.filter((a) => a.status === 429);
    expect(refused).toHaveLength(47);
    for (const r of refused) expect(r.body.error).toMatchObject({ code: 'concurrency_limit', details: { limit: 3, open: 3 } });
    await eventually(async () =>
      expect(await h.rows("SELECT 1 FROM calls WHERE account_id = $1 AND status = 'active'", [accountId])).toHaveLength(3),
    );
    const metrics = await (await h.app.request('/metrics')).text();
    expect(metrics).toMatch(new RegExp(`callwright_concurrency_refusals_total\\{account="${accountId}"\\} \\d+`));

    // A dropped call holds no line; resuming it takes one again, so it is refused while the others are open.
    const dropped = started[0].body.callId;
    expect((await h.request('POST', `/calls/${dropped}/drop`, {}, bearer(key))).status).toBe(200);
    const next = await start(0);
    expect(next.status).toBe(201);
    const resume = await h.request('POST', `/calls/${dropped}/resume`, {}, bearer(key));
    expect(resume.status).toBe(429);
    expect((await h.request('POST', `/calls/${next.body.callId}/end`, {}, bearer(key))).status).toBe(200);
    expect((await h.request('POST', `/calls/${dropped}/resume`, {}, bearer(key))).status).toBe(200);
  });

  it('a line taken by an API that died before its start lapses after 30 s; an inbound hosted call over the limit hears busy and is rejected', async () => {
    const accountId = (
      await h.request('POST', '/accounts', { accountId: `acc-${suffix()}`, name: 'One line', limits: { concurrentCalls: 1 } })
    ).body.accountId as string;
    const { key } = await newKey(accountId, 'operator');
    // What a SIGKILLed API leaves: a line taken, no call ever started.
    await h.pool.query("INSERT INTO call_lines (call_id, account_id, taken_at) VALUES ($1, $2, now() - interval '5 seconds')", [
      `ghost-${suffix()}`,
      accountId,
    ]);
    expect((await h.request('POST', '/calls', { channel: 'chat', from: newNumber() }, bearer(key))).status).toBe(429);
    await h.pool.query("UPDATE call_lines SET taken_at = now() - interval '31 seconds' WHERE account_id = $1", [accountId]);
    const first = await h.request('POST', '/calls', { channel: 'chat', from: newNumber() }, bearer(key));
    expect(first.status).toBe(201);

    const agent = (await h.request('POST', '/agents', { name: 'Desk' }, bearer(key))).body;
    const number = newNumber();
    await h.request('PUT', `/numbers/${encodeURIComponent(number)}`, { agentId: agent.agentId }, bearer(key));
    const sid = `CA${randomUUID().replaceAll('-', '')}`;
    const params = {
      AccountSid: `AC${'0'.repeat(32)}`,
      CallSid: sid,
      From: newNumber(),
      To: number,
      Direction: 'inbound',
      CallStatus: 'ringing',
    };
    const res = await postTwilio(h, '/v1/voice/twilio', params);
    expect(res.status).toBe(200);
    const twiml = await res.text();
    expect(twiml).toContain('<Say>All our lines are busy right now. Please call again later.</Say><Reject reason="busy"/>');
    expect(await h.rows('SELECT 1 FROM calls WHERE call_id = $1', [sid])).toEqual([]);
  });
});

describe('chat tokens', () => {
  it("a chat start resumes the caller's dropped chat call from another device, unless it asks for a new one", async () => {
    const accountId = await newAccount();
    const { key } = await newKey(accountId, 'operator');
    const number = newNumber();
    const first = await h.request('POST', '/calls', { channel: 'chat' }, bearer(await chatToken(key, number)));
    expect(first.status).toBe(201);
    expect(
      (await h.request('POST', `/calls/${first.body.callId}/messages`, { text: 'my name is Ada' }, bearer(await chatToken(key, number))))
        .status,
    ).toBe(200);
    expect((await h.request('POST', `/calls/${first.body.callId}/drop`, {}, bearer(await chatToken(key, number)))).status).toBe(200);

    // A second device: a token of its own, no saved call id.
    const again = await h.request('POST', '/calls', { channel: 'chat' }, bearer(await chatToken(key, number)));
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ callId: first.body.callId, status: 'active', resumeCount: 1, accountId });
    const fresh = await h.request('POST', '/calls', { channel: 'chat', new: true }, bearer(await chatToken(key, number)));
    expect(fresh.status).toBe(201);
    expect(fresh.body.callId).not.toBe(first.body.callId);
    // The same number in another account has nothing to resume.
    const elsewhere = await h.request('POST', '/calls', { channel: 'chat' }, { authorization: await h.tokenFor(number) });
    expect(elsewhere.status).toBe(201);
    expect(elsewhere.body.accountId).toBe('default');
  });
});
