// Raw Temporal baselines on the bench's Temporal server: its own worker, task queue and client.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import * as activities from './raw-activities.js';
import { bumpSignal, countQuery, noopUpdate, writtenUpdate, type rawTimerWorkflow, type rawWorkflow } from './raw-workflows.js';
import { hasPoller } from './stack.js';
import { concurrentStreams, inFlight, rate, sequential, sleep, summarize, type Latency, type Throughput } from './stats.js';
import { waitUntil } from '../scripts/services/process.js';

const workflowsPath = fileURLToPath(new URL('./raw-workflows.ts', import.meta.url));

export interface RawTemporal {
  client: Client;
  taskQueue: string;
  updateLatency(n: number): Promise<{ latency: Latency; workflowId: string }>;
  /** Updates answered after a no-op local activity, sequential. */
  writtenUpdateLatency(n: number): Promise<Latency>;
  signalAck(n: number): Promise<Latency>;
  signalsProcessed(workflows: number, signals: number): Promise<Throughput>;
  updateThroughput(workflows: number, updates: number): Promise<Throughput>;
  startQueryUpdate(total: number, limit: number): Promise<Throughput>;
  /** `n` workflows started `perSecond`, each sleeping `ms`: how late each woke (its task's start past the due time). */
  timerLateness(n: number, perSecond: number, ms: number): Promise<Latency>;
  close(): Promise<void>;
}

export async function startRawTemporal(address: string): Promise<RawTemporal> {
  const taskQueue = `bench-raw-${randomUUID()}`;
  const nativeConnection = await NativeConnection.connect({ address });
  const worker = await Worker.create({ connection: nativeConnection, taskQueue, workflowsPath, activities });
  const running = worker.run();
  // The same kind of client connection as the product's API, so neither side is flattered by its transport.
  const connection = await NativeConnection.connect({ address });
  const client = new Client({ connection });
  await waitUntil('the raw worker to poll', () => hasPoller(connection, taskQueue), { timeoutMs: 60_000 });

  const start = (expected = 0) =>
    client.workflow.start<typeof rawWorkflow>('rawWorkflow', { taskQueue, workflowId: `raw-${randomUUID()}`, args: [expected] });

  return {
    client,
    taskQueue,
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
    async signalsProcessed(workflows, signals) {
      const handles = await Promise.all(Array.from({ length: workflows }, () => start(signals)));
      const t = performance.now();
      // Each workflow's signals in order, as one call's events; timed until every workflow has counted its own.
      await Promise.all(
        handles.map(async (h) => {
          for (let i = 0; i < signals; i++) await h.signal(bumpSignal);
          await h.result();
        }),
      );
      return rate(workflows * signals, performance.now() - t);
    },
    async updateThroughput(workflows, updates) {
      const handles = await Promise.all(Array.from({ length: workflows }, () => start()));
      await Promise.all(handles.map((h) => h.executeUpdate(noopUpdate)));
      return concurrentStreams(workflows, updates, (s) => handles[s].executeUpdate(noopUpdate));
    },
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
      worker.shutdown();
      await running;
      await Promise.allSettled([connection.close(), nativeConnection.close()]);
    },
  };
}
