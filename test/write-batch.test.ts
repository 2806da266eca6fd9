// The batch write runs for every recorded event: each PostgreSQL connection prepares it once and reuses
// the plan, since planning it took as much of PostgreSQL's CPU as running it.
import pg from 'pg';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { writeBatch } from '../store/calls-table.js';
import type { CallView, RecordBatch } from '../workflows/types.js';
import { newCallId } from './support/harness.js';

let pool: pg.Pool;
beforeAll(() => {
  // One connection, so the statements it has prepared can be read from the same session.
  pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 1 });
});
afterAll(() => pool?.end());

const at = new Date().toISOString();
const callView = (callId: string): CallView => ({
  callId,
  workflowId: `call-${callId}`,
  accountId: 'default',
  status: 'active',
  disposition: null,
  channel: 'voice',
  direction: 'inbound',
  from: '+15550007601',
  to: null,
  provider: null,
  startedAt: at,
  answeredAt: at,
  droppedAt: null,
  resumeDeadline: null,
  endedAt: null,
  durationSeconds: null,
  turnCount: 0,
  dropCount: 0,
  resumeCount: 0,
  context: {},
  metadata: {},
  legs: [],
  agent: null,
  version: 1,
});
/** The batch at `seq`: the start at 1, then one turn per seq. */
const batch = (callId: string, seq: number, text?: string): RecordBatch => ({
  call: { ...callView(callId), turnCount: seq - 1, version: seq },
  events: [{ seq, key: `${callId}:${seq}`, type: seq === 1 ? 'started' : 'turn', applied: true, occurredAt: at, payload: {} }],
  turns: text ? [{ seq: seq - 1, role: 'user', text, at }] : [],
});
const turnTexts = async (callId: string) =>
  (await pool.query('SELECT text FROM turns WHERE call_id = $1 ORDER BY seq', [callId])).rows.map((r) => r.text);

it('each connection prepares the batch write once and reuses it for every batch', async () => {
  const callId = newCallId();
  await writeBatch(pool, batch(callId, 1));
  await writeBatch(pool, batch(callId, 2, 'first'));
  await writeBatch(pool, batch(callId, 3, 'second'));

  const prepared = await pool.query(`SELECT name FROM pg_prepared_statements WHERE name = 'write-batch'`);
  expect(prepared.rows).toEqual([{ name: 'write-batch' }]);
  const { rows } = await pool.query('SELECT version, turn_count FROM calls WHERE call_id = $1', [callId]);
  expect(rows).toEqual([{ version: 3, turn_count: 2 }]);
  expect(await turnTexts(callId)).toEqual(['first', 'second']);
});

it('a prepared statement lost behind its back (a pooler in transaction mode) does not stop the writes', async () => {
  const callId = newCallId();
  await writeBatch(pool, batch(callId, 1));
  // What PgBouncer in transaction mode does to a client: the next server connection lacks the statement.
  await pool.query('DEALLOCATE ALL');
  await writeBatch(pool, batch(callId, 2, 'after the loss'));
  await writeBatch(pool, batch(callId, 3, 'and on'));
  expect(await turnTexts(callId)).toEqual(['after the loss', 'and on']);
});

it('no index of calls covers what a turn changes, so a turn updates its call heap-only (HOT)', async () => {
  // A turn changes these columns of its call; an index over any of them makes every turn's update add an
  // entry to each of the table's indexes (calls_stats_idx did, with turn_count).
  const { rows } = await pool.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE tablename = 'calls'`);
  expect(rows.length).toBeGreaterThanOrEqual(5);
  for (const { indexdef } of rows) expect(indexdef).not.toMatch(/\b(turn_count|version|context|updated_at)\b/);
});
