import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities/index.js';
import { activityOutcomes } from './telemetry.js';

export interface CallWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** Built once (worker/workflow-bundle.ts; tests bundle once per run), never at each Worker.create. */
  workflowBundle: NonNullable<WorkerOptions['workflowBundle']>;
  identity?: string;
  /** Sticky cache size: bounds worker memory (each cached call holds a workflow context). */
  maxCachedWorkflows?: number;
  /** How long a cached call's next task waits for this worker before any worker may take it (WORKER_STICKY_TIMEOUT). */
  stickyTimeoutMs?: number;
}

/**
 * A SIGKILLed worker never says it is gone, so Temporal keeps its cached calls' next tasks on its sticky queue
 * for this long before a replacement or a second worker may take them: the SDK's 10 s was the worker-kill tail.
 */
export const DEFAULT_STICKY_TIMEOUT_MS = 1_000;

export function createCallWorker(opts: CallWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    ...(opts.identity ? { identity: opts.identity } : {}),
    ...(opts.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: opts.maxCachedWorkflows } : {}),
    activities: createActivities(opts.deps),
    interceptors: { activity: [activityOutcomes] },
    workflowBundle: opts.workflowBundle,
    stickyQueueScheduleToStartTimeout: opts.stickyTimeoutMs ?? DEFAULT_STICKY_TIMEOUT_MS,
  });
}
