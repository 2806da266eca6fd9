// A resume window closes at the deadline the caller was told, even when recording the drop was slow:
// Temporal starts a timer only when the task completes, after the write, so the call must measure the
// timer's duration from after the write (the workflow's clock moves when the local activity resolves).
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { temporal } from '@temporalio/proto';
import { createHarness, eventually, newCallId, type Harness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h?.close());

const HELD_MS = 1_500;
const ms = (t: temporal.api.history.v1.IHistoryEvent['eventTime']) => Number(t!.seconds) * 1000 + Math.floor((t!.nanos ?? 0) / 1e6);

it('the window timer is due at the deadline the drop answered, however long the write took', async () => {
  const id = newCallId();
  expect((await h.request('POST', '/calls', { callId: id, channel: 'chat', from: '+15550007201' })).status).toBe(201);

  // A slow database: the call's row is locked, so the drop's write waits behind it.
  const blocker = await h.pool.connect();
  let answer;
  try {
    await blocker.query('BEGIN');
    await blocker.query('SELECT 1 FROM calls WHERE call_id = $1 FOR UPDATE', [id]);
    answer = h.request('POST', `/calls/${id}/drop`, { reason: 'network' });
    await eventually(async () => {
      const { rows } = await h.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'`);
      expect(rows[0].n).toBeGreaterThan(0);
    });
    // The injected slowness itself, not a wait for state: the write stays blocked this long.
    await new Promise((r) => setTimeout(r, HELD_MS));
  } finally {
    await blocker.query('COMMIT');
    blocker.release();
  }
  const dropped = await answer;
  expect(dropped.status).toBe(200);
  const deadline = Date.parse(dropped.body.resumeDeadline);

  const { events } = await h.handle(id).fetchHistory();
  const timer = events!.filter((e) => e.timerStartedEventAttributes).at(-1)!;
  const started = ms(timer.eventTime);
  const duration = ms(timer.timerStartedEventAttributes!.startToFireTimeout as never);
  // The write really was slow: the timer started well after the drop's task began (deadline - window).
  expect(started - (deadline - h.callConfig.resumeWindowMs)).toBeGreaterThanOrEqual(HELD_MS);
  // And it is due at the deadline, not a write's duration later.
  expect(Math.abs(started + duration - deadline)).toBeLessThan(250);
});
