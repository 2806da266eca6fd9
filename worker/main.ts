// Worker entry point: configuration, connections, then poll until SIGTERM/SIGINT drains it.
import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createResponder } from '../activities/responder/index.js';
import { loadConfigOrExit, twilioCallSettings } from '../config/env.js';
import { openStores } from '../config/stores.js';
import { createLogger } from '../observability/logger.js';
import { createCallWorker } from './create-worker.js';
import { ensureRetentionSchedule, RETENTION_SCHEDULE_ID } from './retention-schedule.js';
import { workflowBundle } from './workflow-bundle.js';
import { installRuntime } from '../observability/temporal-runtime.js';
import { credentialCipher } from '../store/credentials.js';

const config = loadConfigOrExit();
const logger = createLogger(config.LOG_LEVEL, 'worker', config.LOG_FORMAT);
installRuntime(logger, config.WORKER_METRICS_PORT);
const { pool, redis } = openStores({ databaseUrl: config.DATABASE_URL, redisUrl: config.REDIS_URL }, logger);
const responder = await createResponder({
  url: config.RESPONDER_URL,
  apiKey: config.RESPONDER_API_KEY,
  model: config.RESPONDER_MODEL,
  timeoutMs: config.RESPONDER_TIMEOUT,
});
const [connection, bundle] = await Promise.all([NativeConnection.connect({ address: config.TEMPORAL_ADDRESS }), workflowBundle(logger)]);
const worker = await createCallWorker({
  connection,
  namespace: config.TEMPORAL_NAMESPACE,
  taskQueue: config.TEMPORAL_TASK_QUEUE,
  deps: {
    pool,
    redis,
    responder,
    twilio: twilioCallSettings(config),
    webhookSecret: config.WEBHOOK_SECRET,
    credentials: credentialCipher(config.CREDENTIALS_KEY!, config.CREDENTIALS_KEY_PREVIOUS),
  },
  maxCachedWorkflows: config.WORKER_CACHE_SIZE,
  stickyTimeoutMs: config.WORKER_STICKY_TIMEOUT,
  workflowBundle: bundle,
});
// worker/stack-traces.cjs marks the process when it ran; without it the SDK's default (on) holds.
const stackTraces = (globalThis as Record<symbol, unknown>)[Symbol.for('callwright.workflowStackTraces')] ?? 'on';
if (stackTraces !== config.WORKFLOW_STACK_TRACES)
  logger.warn(
    { wanted: config.WORKFLOW_STACK_TRACES, running: stackTraces },
    'workflow stack traces: start the worker with `node --require ./worker/stack-traces.cjs` (npm run worker does) ' +
      'to apply WORKFLOW_STACK_TRACES',
  );
logger.info(
  {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    temporal: config.TEMPORAL_ADDRESS,
    metrics: `:${config.WORKER_METRICS_PORT}/metrics`,
    workflowStackTraces: stackTraces,
  },
  'worker polling',
);
// Best effort: without the Schedule nothing is lost, calls are only kept longer; the next start tries again.
if (config.RETENTION !== null)
  void scheduleRetention(config.RETENTION).catch((err: Error) =>
    logger.warn({ err: err.message }, 'retention schedule not set; retrying at the next start'),
  );
// Worker.create installs SIGINT/SIGTERM handlers: run() resolves once in-flight tasks have drained.
await worker.run();

/** Through the worker's own connection: a client needs no second one. */
async function scheduleRetention(retentionMs: number): Promise<void> {
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  const outcome = await ensureRetentionSchedule(client, {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    retentionMs,
    everyMs: config.RETENTION_EVERY,
  });
  logger.info(
    { scheduleId: RETENTION_SCHEDULE_ID, retention: config.RETENTION, every: config.RETENTION_EVERY },
    `retention schedule ${outcome}`,
  );
}
await Promise.allSettled([connection.close(), pool.end(), redis.quit()]);
logger.info('worker stopped');
