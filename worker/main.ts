// Worker entry point: configuration, connections, then poll until SIGTERM/SIGINT drains it.
import { NativeConnection } from '@temporalio/worker';
import { createResponder } from '../activities/responder/index.js';
import { loadConfigOrExit } from '../config/env.js';
import { openStores } from '../config/stores.js';
import { createLogger } from '../observability/logger.js';
import { createCallWorker } from './create-worker.js';
import { installRuntime } from './telemetry.js';

const config = loadConfigOrExit();
const logger = createLogger(config.LOG_LEVEL, 'worker');
installRuntime(logger, config.WORKER_METRICS_PORT);
const { pool, redis } = openStores({ databaseUrl: config.DATABASE_URL, redisUrl: config.REDIS_URL }, logger);
const responder = await createResponder({
  url: config.RESPONDER_URL,
  apiKey: config.RESPONDER_API_KEY,
  model: config.RESPONDER_MODEL,
  timeoutMs: config.RESPONDER_TIMEOUT,
});
const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
const worker = await createCallWorker({
  connection,
  namespace: config.TEMPORAL_NAMESPACE,
  taskQueue: config.TEMPORAL_TASK_QUEUE,
  deps: { pool, redis, responder },
  maxCachedWorkflows: config.WORKER_CACHE_SIZE,
});
logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, temporal: config.TEMPORAL_ADDRESS, metrics: `:${config.WORKER_METRICS_PORT}/metrics` }, 'worker polling');
// Worker.create installs SIGINT/SIGTERM handlers: run() resolves once in-flight tasks have drained.
await worker.run();
await Promise.allSettled([connection.close(), pool.end(), redis.quit()]);
logger.info('worker stopped');
