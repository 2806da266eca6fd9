// What a user would check after each step: the workflow's state, the rows, the Redis keys.
import { expect } from 'vitest';
import type { CallView } from '../../workflows/types.js';
import { eventually, type Harness } from './harness.js';

/** Waits until the workflow, PostgreSQL and Redis all agree with `expected`. */
export async function expectEverywhere(h: Harness, callId: string, expected: Partial<CallView>): Promise<CallView> {
  return eventually(async () => {
    const live = await h.query(callId);
    expect(live).toMatchObject(expected);
    const [row] = await h.rows('SELECT * FROM calls WHERE call_id = $1', [callId]);
    expect(row, 'calls row').toBeDefined();
    const columns: Record<string, string> = {
      status: 'status',
      disposition: 'disposition',
      turnCount: 'turn_count',
      dropCount: 'drop_count',
      resumeCount: 'resume_count',
      channel: 'channel',
      from: 'from_number',
    };
    for (const [field, column] of Object.entries(columns)) {
      if (field in expected) expect(row[column], `calls.${column}`).toEqual(expected[field as keyof CallView]);
    }
    expect(row.version).toBe(live.version);
    const cached = await h.redis.hget(`call:${callId}`, 'view');
    expect(cached, 'redis call view').not.toBeNull();
    expect(JSON.parse(cached!)).toMatchObject({ ...expected, version: live.version });
    return live;
  });
}

export async function eventRows(h: Harness, callId: string) {
  return h.rows('SELECT seq, idempotency_key AS key, type, applied, payload FROM call_events WHERE call_id = $1 ORDER BY seq', [callId]);
}

export async function turnRows(h: Harness, callId: string) {
  return h.rows('SELECT seq, role, text FROM turns WHERE call_id = $1 ORDER BY seq', [callId]);
}

export async function cachedTurns(h: Harness, callId: string) {
  return (await h.redis.zrange(`call:${callId}:turns`, '0', '-1')).map((t) => JSON.parse(t));
}

/** Whether Temporal has a workflow for the call (running or closed). */
export const workflowExists = (h: Harness, callId: string): Promise<boolean> =>
  h
    .handle(callId)
    .describe()
    .then(
      () => true,
      () => false,
    );

/** A provider leg that must not have become a call of its own: no workflow, no row, and (unless kept) no leg key. */
export async function expectNoCall(h: Harness, id: string, { legKey = false } = {}): Promise<void> {
  expect(await workflowExists(h, id), `workflow of ${id}`).toBe(false);
  expect(await h.rows('SELECT 1 FROM calls WHERE call_id = $1', [id])).toEqual([]);
  if (!legKey) expect(await h.redis.exists(`leg:${id}`)).toBe(0);
}
