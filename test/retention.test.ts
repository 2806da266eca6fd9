// Retention: calls that ended long enough ago go (rows and cache), in batches; open and recent ones stay.
// The `callwright-retention` Schedule is created once and brought in line with the configuration after.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureRetentionSchedule, RETENTION_SCHEDULE_ID } from '../worker/retention-schedule.js';
import type { retentionWorkflow } from '../workflows/retention.js';
import { expectEverywhere } from './support/assertions.js';
import { createHarness, eventually, newCallId, type Harness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h?.close());

const DAY = 86_400_000;

async function chat(ended: boolean): Promise<string> {
  const id = newCallId();
  await h.request('POST', '/calls', { callId: id, channel: 'chat', from: '+15550007501' });
  await h.request('POST', `/calls/${id}/messages`, { text: 'hello' });
  if (ended) {
    await h.request('POST', `/calls/${id}/end`, {});
    await expectEverywhere(h, id, { status: 'ended' });
  }
  return id;
}
const rowsOf = async (id: string) =>
  (
    await h.rows(
      `SELECT (SELECT count(*) FROM calls WHERE call_id = $1)::int AS calls, (SELECT count(*) FROM call_events WHERE call_id = $1)::int AS events,
            (SELECT count(*) FROM turns WHERE call_id = $1)::int AS turns`,
      [id],
    )
  )[0];

describe('retention', () => {
  it('deletes calls that ended before the cut-off, in batches, with their events, turns and cache; never an open one', async () => {
    const [old1, old2, recent, open] = [await chat(true), await chat(true), await chat(true), await chat(false)];
    // Aged by hand: the only way to have calls that ended 100 days ago now.
    await h.pool.query(`UPDATE calls SET ended_at = now() - interval '100 days' WHERE call_id = ANY($1)`, [[old1, old2]]);
    await h.pool.query(`UPDATE calls SET started_at = now() - interval '200 days' WHERE call_id = $1`, [open]);
    const before = await rowsOf(old1);
    expect(before).toEqual({ calls: 1, events: 4, turns: 2 });

    const result = await h.client.workflow.execute<typeof retentionWorkflow>('retentionWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: `retention-${newCallId()}`,
      args: [{ retentionMs: 90 * DAY, batch: 1 }],
    });
    // Other test files' calls never end 90 days ago, so exactly these two go.
    expect(result).toEqual({ calls: 2, events: 8, turns: 4 });
    for (const id of [old1, old2]) {
      expect(await rowsOf(id)).toEqual({ calls: 0, events: 0, turns: 0 });
      expect(await h.redis.exists(`call:${id}`, `call:${id}:turns`)).toBe(0);
    }
    for (const id of [recent, open]) expect((await rowsOf(id)).calls).toBe(1);
    // Gone for the API too, though Temporal still holds the closed workflow's history.
    expect((await h.request('GET', `/calls/${old1}`)).status).toBe(404);
  });

  it('the Schedule is created once; a later start updates its interval and retention; a triggered run deletes', async () => {
    await h.client.schedule
      .getHandle(RETENTION_SCHEDULE_ID)
      .delete()
      .catch(() => undefined);
    const settings = { taskQueue: h.taskQueue, retentionMs: 90 * DAY, everyMs: DAY };
    expect(await ensureRetentionSchedule(h.client, settings)).toBe('created');
    expect(await ensureRetentionSchedule(h.client, { ...settings, everyMs: 2 * DAY, retentionMs: 30 * DAY })).toBe('updated');
    const handle = h.client.schedule.getHandle(RETENTION_SCHEDULE_ID);
    const described = await handle.describe();
    expect(described.spec.intervals).toMatchObject([{ every: 2 * DAY }]);
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'retentionWorkflow', args: [{ retentionMs: 30 * DAY }] });

    const aged = await chat(true);
    await h.pool.query(`UPDATE calls SET ended_at = now() - interval '40 days' WHERE call_id = $1`, [aged]);
    await handle.trigger();
    const run = await eventually(
      async () => {
        const [action] = (await handle.describe()).info.recentActions;
        expect(action).toBeDefined();
        return action!.action.workflow;
      },
      30_000,
      200,
    );
    await h.client.workflow.getHandle(run.workflowId, run.firstExecutionRunId).result();
    expect(await rowsOf(aged)).toEqual({ calls: 0, events: 0, turns: 0 });
    await handle.delete();
  });
});
