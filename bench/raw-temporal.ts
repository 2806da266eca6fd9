// Raw Temporal baselines on the bench's Temporal server: its own worker, task queue and client.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import {
  bumpSignal,
  countQuery,
  noopUpdate,
  writtenUpdate,
  type rawBatchWorkflow,
  type rawTimerWorkflow,
  type rawWorkflow,
} from './raw-workflows.js';
import { hasPoller } from './stack.js';
import { concurrentStreams, inFlight, rate, sequential, sleep, summarize, type Latency, type Throughput } from './stats.js';
import { workerPreload } from '../scripts/services/entry-points.js';
import { spawnPrefixed, stopProcess, waitUntil } from '../scripts/services/process.js';

const root = fileURLToPath(new URL('..', import.meta.url));

export interface RawTemporal {
  client: Client;
  taskQueue: string;
  /** The raw worker's process (and group), for CPU accounting. */
  workerPid: number;
  updateLatency(n: number): Promise<{ latency: Latency; workflowId: string }>;
  /** Updates answered after a no-op local activity, sequential. */
  writtenUpdateLatency(n: number): Promise<Latency>;
  signalAck(n: number): Promise<Latency>;
  signalsProcessed(workflows: number, signals: number): Promise<Throughput>;
  updateThroughput(workflows: number, updates: number): Promise<Throughput>;
  /** Not a goal: Updates that each await one no-op local activity, the floor of concurrent chats. */
  writtenUpdateThroughput(workflows: number, updates: number): Promise<Throughput>;
  /** Not a goal: signals written by one no-op local activity per batch, the floor of voice turns persisted. */
  signalsWritten(workflows: number, signals: number): Promise<Throughput>;
  startQueryUpdate(total: number, limit: number): Promise<Throughput>;
  /** `n` workflows started `perSecond`, each sleeping `ms`: how late each woke (its task's start past the due time). */
  timerLateness(n: number, perSecond: number, ms: number): Promise<Latency>;
  close(): Promise<void>;
}

export async function startRawTemporal(address: string): Promise<RawTemporal> {
  const taskQueue = `bench-raw-${randomUUID()}`;
  const worker = spawnPrefixed(
    'raw worker',
    process.execPath,
    [...workerPreload, '--import', 'tsx', 'bench/raw-worker.ts', address, taskQueue],
    // Its shutdown is only noise; its warnings and errors are worth seeing.
    { cwd: root, echo: true, quietStop: true },
  );
  // The same kind of client connection as the product's API, so neither side is flattered by its transport.
  const connection = await NativeConnection.connect({ address });
  const client = new Client({ connection });
  await waitUntil('the raw worker to poll', () => hasPoller(connection, taskQueue), { timeoutMs: 60_000, proc: worker });

  const start = (expected = 0) =>
    client.workflow.start<typeof rawWorkflow>('rawWorkflow', { taskQueue, workflowId: `raw-${randomUUID()}`, args: [expected] });
  const updates = async (workflows: number, updates: number, update: typeof noopUpdate) => {
    const handles = await Promise.all(Array.from({ length: workflows }, () => start()));
    await Promise.all(handles.map((h) => h.executeUpdate(update)));
    return concurrentStreams(workflows, updates, (s) => handles[s].executeUpdate(update));
  };
  // Each workflow's signals in order, as one call's events; timed until every workflow has counted (or written) its own.
  const signalStreams = async (handles: { signal(s: typeof bumpSignal): Promise<void>; result(): Promise<number> }[], signals: number) => {
    const t = performance.now();
    await Promise.all(
      handles.map(async (h) => {
        for (let i = 0; i < signals; i++) await h.signal(bumpSignal);
        await h.result();
      }),
    );
    return rate(handles.length * signals, performance.now() - t);
  };

  return {
    client,
    taskQueue,
    workerPid: worker.child.pid ?? -1,
    // One long-running workflow per sequential latency, as one call carries a whole conversation.
    async updateLatency(n) {
      const h = await start();
      return { latency: await sequential(n, () => h.executeUpdate(noopUpdate)), workflowId: h.workflowId };
    },
    async writtenUpdateLatency(n) {
      const h = await start();
      return sequential(n, () => h.executeUpdate(writtenUpdate));
    },
    async signalAck(n) {
      const h = await start();
      return sequential(n, () => h.signal(bumpSignal));
    },
    signalsProcessed: async (workflows, signals) =>
      signalStreams(await Promise.all(Array.from({ length: workflows }, () => start(signals))), signals),
    async signalsWritten(workflows, signals) {
      const handles = await Promise.all(
        Array.from({ length: workflows }, () =>
          client.workflow.start<typeof rawBatchWorkflow>('rawBatchWorkflow', {
            taskQueue,
            workflowId: `raw-batch-${randomUUID()}`,
            args: [signals],
          }),
        ),
      );
      return signalStreams(handles, signals);
    },
    updateThroughput: (workflows, n) => updates(workflows, n, noopUpdate),
    writtenUpdateThroughput: (workflows, n) => updates(workflows, n, writtenUpdate),
    startQueryUpdate: (total, limit) =>
      inFlight(total, limit, async () => {
        const h = await start();
        await h.query(countQuery);
        await h.executeUpdate(noopUpdate);
      }),
    async timerLateness(n, perSecond, ms) {
      const from = Date.now();
      const late = await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          await sleep(from + (i * 1000) / perSecond - Date.now());
          const h = await client.workflow.start<typeof rawTimerWorkflow>('rawTimerWorkflow', {
            taskQueue,
            workflowId: `raw-timer-${randomUUID()}`,
            args: [ms],
          });
          return h.result();
        }),
      );
      return summarize(late);
    },
    async close() {
      await Promise.allSettled([stopProcess(worker), connection.close()]);
    },
  };
}
