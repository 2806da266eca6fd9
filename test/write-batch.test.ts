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

it('each connection prepares the batch write once and reuses it for every batch', async () => {
  const callId = newCallId();
  const at = new Date().toISOString();
  const call: CallView = {
    callId,
    workflowId: `call-${callId}`,
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
  };
  const batch = (seq: number, turnCount: number, turns: RecordBatch['turns']): RecordBatch => ({
    call: { ...call, turnCount, version: seq },
    events: [{ seq, key: `${callId}:${seq}`, type: seq === 1 ? 'started' : 'turn', applied: true, occurredAt: at, payload: {} }],
    turns,
  });
  await writeBatch(pool, batch(1, 0, []));
  await writeBatch(pool, batch(2, 1, [{ seq: 1, role: 'user', text: 'first', at }]));
  await writeBatch(pool, batch(3, 2, [{ seq: 2, role: 'assistant', text: 'second', at }]));

  const prepared = await pool.query(`SELECT name FROM pg_prepared_statements WHERE name = 'write-batch'`);
  expect(prepared.rows).toEqual([{ name: 'write-batch' }]);
  const { rows } = await pool.query('SELECT version, turn_count FROM calls WHERE call_id = $1', [callId]);
  expect(rows).toEqual([{ version: 3, turn_count: 2 }]);
  const turns = await pool.query('SELECT seq, text FROM turns WHERE call_id = $1 ORDER BY seq', [callId]);
  expect(turns.rows).toEqual([
    { seq: 1, text: 'first' },
    { seq: 2, text: 'second' },
  ]);
});
