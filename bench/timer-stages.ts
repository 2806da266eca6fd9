// Where a resume window's lateness goes, read from a sample of the calls' histories and rows: how late
// the timer was set (its due time past the deadline the caller was told), how late the server fired it,
// how long until a worker began the task (a cached call at once; an evicted one after its replay is
// fetched), and how long the end took to be written.
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import type pg from 'pg';
import { workflowIdFor } from '../workflows/messages.js';
import { summarize, type Latency } from './stats.js';

type Event = temporal.api.history.v1.IHistoryEvent;
export interface TimerStages {
  sampled: number;
  setLate: Latency;
  fireLate: Latency;
  pickup: Latency;
  write: Latency;
}

const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);

export async function timerStages(client: Client, db: pg.Pool, deadlines: Map<string, number>, sample = 300): Promise<TimerStages> {
  const ids = [...deadlines.keys()];
  const step = Math.max(1, Math.floor(ids.length / sample));
  const picked = ids.filter((_, i) => i % step === 0).slice(0, sample);
  const { rows } = await db.query(
    `SELECT call_id, extract(epoch FROM recorded_at) * 1000 AS recorded FROM call_events WHERE type = 'timeout' AND call_id = ANY($1)`,
    [picked],
  );
  const recorded = new Map(rows.map((r) => [r.call_id as string, Number(r.recorded)]));
  const stages = { setLate: [] as number[], fireLate: [] as number[], pickup: [] as number[], write: [] as number[] };
  for (const callId of picked) {
    const events: Event[] = (await client.workflow.getHandle(workflowIdFor(callId)).fetchHistory()).events ?? [];
    const lastIndex = (match: (e: Event, i: number) => unknown) => events.reduce((found, e, i) => (match(e, i) ? i : found), -1);
    const fired = lastIndex((e) => e.timerFiredEventAttributes);
    const started = lastIndex((e, i) => i < fired && e.timerStartedEventAttributes);
    const task = events.findIndex((e, i) => i > fired && e.workflowTaskStartedEventAttributes);
    if (fired < 0 || started < 0 || task < 0 || !recorded.has(callId)) continue;
    const due = ms(events[started].eventTime) + ms(events[started].timerStartedEventAttributes!.startToFireTimeout);
    stages.setLate.push(due - deadlines.get(callId)!);
    stages.fireLate.push(ms(events[fired].eventTime) - due);
    stages.pickup.push(ms(events[task].eventTime) - ms(events[fired].eventTime));
    stages.write.push(recorded.get(callId)! - ms(events[task].eventTime));
  }
  return {
    sampled: stages.setLate.length,
    setLate: summarize(stages.setLate),
    fireLate: summarize(stages.fireLate),
    pickup: summarize(stages.pickup),
    write: summarize(stages.write),
  };
}
