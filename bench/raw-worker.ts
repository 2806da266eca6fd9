// The raw baselines' worker, in a process of its own as the product's worker runs: started by
// bench/raw-temporal.ts with the same preload, so both sides pay the same SDK costs and the bench can
// read each one's CPU apart. Arguments: the Temporal address and the task queue.
import { fileURLToPath } from 'node:url';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import * as activities from './raw-activities.js';

const [address, taskQueue] = process.argv.slice(2);
if (!address || !taskQueue) throw new Error('usage: raw-worker.ts <temporal address> <task queue>');
Runtime.install({ logger: new DefaultLogger('WARN') });
const connection = await NativeConnection.connect({ address });
const worker = await Worker.create({
  connection,
  taskQueue,
  workflowsPath: fileURLToPath(new URL('./raw-workflows.ts', import.meta.url)),
  activities,
});
await worker.run(); // until SIGTERM
await connection.close();
