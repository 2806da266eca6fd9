// PostgreSQL restarts under the real worker and API processes (worker/main.ts, api/main.ts): both stay
// up, readiness answers 503 while it is down and 200 again by itself, and nothing sent meanwhile is lost.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrate } from '../db/migrate.js';
import { startPostgres, type PostgresServer } from '../scripts/services/postgres.js';
import { freePort, spawnPrefixed, stopProcess, waitUntil, type Proc } from '../scripts/services/process.js';
import { entryArgs } from '../scripts/services/entry-points.js';
import { startApiProcess, type ApiProcess } from './support/api-process.js';
import { ADMIN_KEY, createHarness, eventually, newCallId, workerEnv, type Harness } from './support/harness.js';

let h: Harness;
let postgres: PostgresServer;
let worker: Proc;
let api: ApiProcess;
const dataDir = mkdtempSync(join(tmpdir(), 'callwright-pg-restart-'));
let port: number;

beforeAll(async () => {
  port = await freePort();
  postgres = await startPostgres({ dataDir, port, durable: false });
  await migrate(postgres.url);
  h = await createHarness({ databaseUrl: postgres.url, noWorker: true });
  const env = { DATABASE_URL: postgres.url, LOG_LEVEL: 'warn' };
  worker = spawnPrefixed('worker', process.execPath, entryArgs('worker'), {
    env: { ...workerEnv(h.taskQueue), ...env, WORKER_METRICS_PORT: String(await freePort()) },
    echo: process.env.CALLWRIGHT_SERVICE_LOGS === '1',
  });
  api = await startApiProcess(h.taskQueue, env);
  await waitUntil(
    'the worker to poll',
    async () => {
      const { pollers } = await h.client.connection.workflowService.describeTaskQueue({
        namespace: 'default',
        taskQueue: { name: h.taskQueue },
      });
      return pollers?.length ? true : undefined;
    },
    { proc: worker, timeoutMs: 120_000, intervalMs: 250 },
  );
}, 180_000);
afterAll(async () => {
  await Promise.allSettled([api?.stop(), worker && stopProcess(worker)]);
  await h?.close();
  await postgres?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const send = (path: string, body?: object, method = 'POST') =>
  fetch(`${api.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

it('both processes survive a PostgreSQL restart; readiness follows it; the message sent meanwhile is answered', async () => {
  const id = newCallId();
  expect((await send('/v1/calls', { callId: id, channel: 'chat', from: '+15550007201' })).status).toBe(201);
  expect((await send(`/v1/calls/${id}/messages`, { text: 'my name is Ada', messageId: 'm1' })).status).toBe(200);
  // Both pools now hold idle connections, which PostgreSQL ends when it stops: an unhandled 'error' would exit them.
  expect((await send('/readyz', undefined, 'GET')).status).toBe(200);

  await postgres.stop();
  await eventually(
    async () => {
      const ready = await send('/readyz', undefined, 'GET');
      expect(ready.status).toBe(503);
      expect((await ready.json()).error.details.checks.postgres).toMatch(/^down/);
    },
    30_000,
    200,
  );
  const asked = send(`/v1/calls/${id}/messages`, { text: 'what is my name?', messageId: 'm2' });
  expect((await send(`/v1/calls/${id}/turns`, { role: 'user', text: 'said while the database was down', eventId: 'v1' })).status).toBe(202);
  expect([alive(api.pid), alive(worker.child.pid!)]).toEqual([true, true]);

  postgres = await startPostgres({ dataDir, port, durable: false });
  await eventually(async () => expect((await send('/readyz', undefined, 'GET')).status).toBe(200), 30_000, 200);
  const answer = await asked;
  expect(answer.status).toBe(200);
  expect((await answer.json()).reply).toMatchObject({ seq: 4, text: 'Your name is Ada.' });
  await eventually(async () => {
    const rows = await h.rows('SELECT seq, text FROM turns WHERE call_id = $1 ORDER BY seq', [id]);
    expect(rows.map((r) => r.text)).toEqual([
      'my name is Ada',
      'Nice to meet you, Ada. How can I help you today?',
      'what is my name?',
      'Your name is Ada.',
      'said while the database was down',
    ]);
  }, 30_000);
  expect([alive(api.pid), alive(worker.child.pid!)]).toEqual([true, true]);
});
