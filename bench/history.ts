// History events per operation: what one chat turn costs the Temporal server in persisted events.
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';

// A CommonJS package: Node's ESM loader sees only its default export.
const { EventType } = proto.temporal.api.enums.v1;

export interface HistoryProfile {
  workflowId: string;
  /** Runs of the workflow (continue-as-new starts a new one). */
  runs: number;
  operations: number;
  events: number;
  eventsPerOp: number;
  /** Regular activities (ActivityTaskScheduled) and local ones (MarkerRecorded) per operation. */
  activityTasksPerOp: number;
  byTypePerOp: Record<string, number>;
}

export async function historyProfile(client: Client, workflowId: string, operations: number): Promise<HistoryProfile> {
  const events = await allRuns(client, workflowId);
  const counts: Record<string, number> = {};
  for (const e of events) {
    const name = (EventType[e.eventType ?? 0] ?? String(e.eventType)).replace(/^EVENT_TYPE_/, '');
    counts[name] = (counts[name] ?? 0) + 1;
  }
  const per = (n: number) => n / operations;
  const activityTasks = (counts.ACTIVITY_TASK_SCHEDULED ?? 0) + (counts.MARKER_RECORDED ?? 0);
  const byTypePerOp = Object.fromEntries(
    Object.entries(counts)
      .sort(([, a], [, b]) => b - a)
      .map(([name, n]) => [name, per(n)]),
  );
  const runs = counts.WORKFLOW_EXECUTION_STARTED ?? 0;
  return {
    workflowId,
    runs,
    operations,
    events: events.length,
    eventsPerOp: per(events.length),
    activityTasksPerOp: per(activityTasks),
    byTypePerOp,
  };
}

/**
 * How the calls' events were written: each local activity (a MarkerRecorded) is one write of a batch.
 * Fewer writes than events means events that arrived while their call was writing shared the next write.
 */
export async function writesOf(client: Client, workflowIds: string[]): Promise<{ calls: number; writes: number }> {
  let writes = 0;
  for (const id of workflowIds) {
    for (const e of await allRuns(client, id)) if (e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED) writes++;
  }
  return { calls: workflowIds.length, writes };
}

/** Events of every run: long calls continue-as-new, and each run's first event names the run before it. */
async function allRuns(client: Client, workflowId: string): Promise<proto.temporal.api.history.v1.IHistoryEvent[]> {
  const events: proto.temporal.api.history.v1.IHistoryEvent[] = [];
  let runId: string | undefined;
  do {
    const run = (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
    events.push(...run);
    runId = run[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
  } while (runId);
  return events;
}
