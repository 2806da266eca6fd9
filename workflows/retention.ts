// Retention: deletes calls that ended long enough ago, in batches, until none is left. Started by the
// `callwright-retention` Temporal Schedule (each run shows in the UI with its counts as its result).
import { proxyActivities } from '@temporalio/workflow';
import type { CallActivities } from '../activities/index.js';

export interface RetentionInput {
  /** Calls that ended more than this long ago are deleted. */
  retentionMs: number;
  /** Calls per batch: one short transaction each, so a large backlog never holds locks for long. */
  batch?: number;
}

export interface RetentionResult {
  calls: number;
  events: number;
  turns: number;
}

const { purgeEndedCalls } = proxyActivities<CallActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

export async function retentionWorkflow({ retentionMs, batch = 500 }: RetentionInput): Promise<RetentionResult> {
  // The cut-off is fixed when the run starts: calls ending meanwhile wait for the next run.
  const endedBefore = new Date(Date.now() - retentionMs).toISOString();
  const total: RetentionResult = { calls: 0, events: 0, turns: 0 };
  for (;;) {
    const deleted = await purgeEndedCalls.executeWithOptions({ summary: `delete up to ${batch} calls ended before ${endedBefore}` }, [
      { endedBefore, batch },
    ]);
    total.calls += deleted.calls;
    total.events += deleted.events;
    total.turns += deleted.turns;
    if (deleted.calls < batch) return total;
  }
}
