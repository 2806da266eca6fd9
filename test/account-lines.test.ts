// An account's concurrency limit across two real API processes, and through a SIGKILLed worker: exactly
// `limit` starts win a burst, a dead worker's calls keep their lines and leak none, a drop frees one.
import type { ChildProcess } from 'node:child_process';
import { randomInt, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApiProcess, type ApiProcess } from './support/api-process.js';
import { createHarness, eventually, type Harness } from './support/harness.js';
import { killWorkerProcess, startWorkerProcess } from './support/worker-process-spawn.js';

let h: Harness;
const children: ChildProcess[] = [];
let apis: ApiProcess[] = [];
beforeAll(async () => {
  h = await createHarness({ noWorker: true });
  [apis] = await Promise.all([
    Promise.all([startApiProcess(h.taskQueue), startApiProcess(h.taskQueue)]),
    startWorkerProcess(h.taskQueue, children),
  ]);
}, 120_000);
afterAll(async () => {
  for (const child of children) await killWorkerProcess(child);
  await Promise.all(apis.map((a) => a.stop()));
  await h?.close();
});

const LIMIT = 5;
const openRows = async (accountId: string) =>
  (await h.rows("SELECT count(*)::int AS n FROM calls WHERE account_id = $1 AND status IN ('ringing', 'active')", [accountId]))[0].n;

it('50 concurrent starts on two API processes: exactly the limit start; a SIGKILLed worker holds its lines and leaks none', async () => {
  const accountId = `lines-${randomUUID().slice(0, 8)}`;
  expect((await h.request('POST', '/accounts', { accountId, name: 'Lines', limits: { concurrentCalls: LIMIT } })).status).toBe(201);
  const { key } = (await h.request('POST', `/accounts/${accountId}/keys`, { name: 'ops', role: 'operator' })).body;
  const start = async (api: ApiProcess) => {
    const res = await fetch(`${api.url}/v1/calls`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'chat', from: `+1999${randomInt(1_000_000, 9_999_999)}` }),
    });
    return { status: res.status, body: await res.json() };
  };

  const burst = await Promise.all(Array.from({ length: 50 }, (_, i) => start(apis[i % 2]!)));
  const started = burst.filter((r) => r.status === 201);
  expect(started).toHaveLength(LIMIT);
  expect(burst.filter((r) => r.status === 429)).toHaveLength(50 - LIMIT);
  await eventually(async () => expect(await openRows(accountId)).toBe(LIMIT));

  // The worker dies: its calls are still open (their rows say so), so they keep their lines, and nothing else leaks.
  await killWorkerProcess(children[0]!);
  for (const api of apis)
    expect((await start(api)).body.error).toMatchObject({ code: 'concurrency_limit', details: { limit: LIMIT, open: LIMIT } });
  expect(await openRows(accountId)).toBe(LIMIT);

  // Another worker picks the calls up; a drop frees exactly one line, whichever API process asks.
  await startWorkerProcess(h.taskQueue, children);
  const dropped = await fetch(`${apis[1]!.url}/v1/calls/${started[0]!.body.callId}/drop`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: '{}',
  });
  expect(dropped.status).toBe(200);
  const again = await Promise.all([start(apis[0]!), start(apis[1]!)]);
  expect(again.map((r) => r.status).sort()).toEqual([201, 429]);
  await eventually(async () => expect(await openRows(accountId)).toBe(LIMIT));
}, 120_000);
