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
}

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
  });
}
