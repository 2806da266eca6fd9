// A worker in its own process, so a test can SIGKILL it mid-conversation.
import { NativeConnection } from '@temporalio/worker';
import { Redis } from 'ioredis';
import pg from 'pg';
import { scriptedResponder } from '../../activities/responder/scripted.js';
import { createCallWorker } from '../../worker/create-worker.js';

const env = (name: string) => process.env[name] ?? (console.error(`missing ${name}`), process.exit(2));
const pool = new pg.Pool({ connectionString: env('DATABASE_URL') });
const redis = new Redis(env('REDIS_URL'));
const connection = await NativeConnection.connect({ address: env('TEMPORAL_ADDRESS') });
const worker = await createCallWorker({
  connection,
  namespace: 'default',
  taskQueue: env('TEMPORAL_TASK_QUEUE'),
  deps: { pool, redis, responder: scriptedResponder },
  workflowBundle: { codePath: env('WORKFLOW_BUNDLE') },
});
const running = worker.run();
console.log('worker ready');
await running;
await Promise.allSettled([connection.close(), pool.end(), redis.quit()]);
