// PostgreSQL stops mid-conversation: the recording local activity retries until it is back, the call's
// later events wait behind it in order, and nothing is lost or doubled.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrate } from '../db/migrate.js';
import { startPostgres, type PostgresServer } from '../scripts/services/postgres.js';
import { freePort } from '../scripts/services/process.js';
import { eventRows, expectEverywhere, turnRows } from './support/assertions.js';
import { createHarness, eventually, newCallId, type Harness } from './support/harness.js';

let h: Harness;
let postgres: PostgresServer;
const dataDir = mkdtempSync(join(tmpdir(), 'callwright-outage-pg-'));
let port: number;
let failedQueries = 0;

beforeAll(async () => {
  port = await freePort();
  postgres = await startPostgres({ dataDir, port, durable: false });
  await migrate(postgres.url);
  h = await createHarness({ databaseUrl: postgres.url });
  // Counts the store's failed queries, so the test knows the write was attempted (and retried) while down.
  const query = h.pool.query.bind(h.pool) as (...args: unknown[]) => Promise<unknown>;
  (h.pool as unknown as { query: typeof query }).query = (...args) =>
    query(...args).catch((err: unknown) => {
      failedQueries++;
      throw err;
    });
});
afterAll(async () => {
  await h?.close();
  await postgres?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

it('retries the write until PostgreSQL is back; later events wait behind it', async () => {
  const id = newCallId();
  await h.request('POST', '/calls', { callId: id, channel: 'chat', from: '+15550007101' });
  expect((await h.request('POST', `/calls/${id}/messages`, { text: 'my name is Ada', messageId: 'm1' })).status).toBe(200);

  await postgres.stop();
  const asked = h.request('POST', `/calls/${id}/messages`, { text: 'what is my name?', messageId: 'm2' });
  await eventually(() => expect(failedQueries).toBeGreaterThanOrEqual(2), 30_000);
  // A pipeline turn while the write is failing: accepted now, recorded after the message, in order.
  expect((await h.request('POST', `/calls/${id}/turns`, { role: 'user', text: 'late voice turn', eventId: 'v1' })).status).toBe(202);

  postgres = await startPostgres({ dataDir, port, durable: false });
  const answer = await asked;
  expect(answer.status).toBe(200);
  expect(answer.body.reply).toMatchObject({ seq: 4, text: 'Your name is Ada.' });

  await expectEverywhere(h, id, { status: 'active', turnCount: 5 });
  expect((await turnRows(h, id)).map((t) => t.text)).toEqual([
    'my name is Ada',
    'Nice to meet you, Ada. How can I help you today?',
    'what is my name?',
    'Your name is Ada.',
    'late voice turn',
  ]);
  const keys = (await eventRows(h, id)).map((e) => e.key);
  expect(new Set(keys).size).toBe(keys.length);
});
