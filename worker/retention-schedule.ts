// The `callwright-retention` Schedule, created when a worker starts. Idempotent: a second worker (or a
// restart) finds it and brings its interval and retention in line with the configuration.
import { ScheduleAlreadyRunning, type Client } from '@temporalio/client';
import type { retentionWorkflow } from '../workflows/retention.js';

export const RETENTION_SCHEDULE_ID = 'callwright-retention';

export interface RetentionSchedule {
  taskQueue: string;
  retentionMs: number;
  everyMs: number;
}

export async function ensureRetentionSchedule(client: Client, s: RetentionSchedule): Promise<'created' | 'updated'> {
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'retentionWorkflow',
    taskQueue: s.taskQueue,
    args: [{ retentionMs: s.retentionMs }] as Parameters<typeof retentionWorkflow>,
    workflowId: 'callwright-retention-run',
    staticSummary: `delete calls ended more than ${Math.round(s.retentionMs / 86_400_000)} days ago`,
  };
  const spec = { intervals: [{ every: s.everyMs }] };
  try {
    await client.schedule.create({ scheduleId: RETENTION_SCHEDULE_ID, spec, action, policies: { overlap: 'SKIP' } });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(RETENTION_SCHEDULE_ID).update((prev) => ({ ...prev, spec, action }));
    return 'updated';
  }
}
