// A private Callwright stack for the benchmark: its own servers on free ports in a temp dir, then the
// product's worker and API as child processes, so it never touches a running `npm start`.
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import { migrate } from '../db/migrate.js';
import { startPostgres } from '../scripts/services/postgres.js';
import { freePort, spawnPrefixed, startTogether, stopProcess, waitUntil, type Proc } from '../scripts/services/process.js';
import { startRedis } from '../scripts/services/redis.js';
import { startTemporal } from '../scripts/services/temporal.js';
import { childrenByName } from './cpu.js';

const root = fileURLToPath(new URL('..', import.meta.url));

// Explicit secrets, so the bench neither depends on the development defaults nor on the caller's environment.
export const secrets = {
  ADMIN_API_KEY: 'bench-admin-key-0123456789',
  JWT_SECRET: 'bench-jwt-secret-0123456789',
  WEBHOOK_SECRET: 'bench-webhook-secret-0123456789',
  TWILIO_AUTH_TOKEN: 'bench-twilio-auth-token',
};

export interface BenchStack {
  apiUrl: string;
  databaseUrl: string;
  temporalAddress: string;
  /** The product worker's task queue. */
  taskQueue: string;
  /** Process group ids by role, for CPU accounting. */
  groups: Record<string, number>;
  /** Rejects if the worker or the API exits while the bench runs. */
  crashed: Promise<never>;
  stop(): Promise<void>;
}

export interface StackOptions {
  sqlitePragmas?: string[];
  /** V8 CPU profiles of the worker and the API go here (a `.cpuprofile` per process and thread). */
  cpuProfileDir?: string;
  log?: (line: string) => void;
}

export async function startBenchStack(options: StackOptions = {}): Promise<BenchStack> {
  const log = options.log ?? (() => undefined);
  const dir = await mkdtemp(join(tmpdir(), 'callwright-bench-'));
  // PostgreSQL runs as an unprivileged user under root and must be able to enter this directory.
  await chmod(dir, 0o755);
  const stops: (() => Promise<void>)[] = [() => rm(dir, { recursive: true, force: true })];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const fn of stops.reverse()) await fn().catch((err: Error) => console.error(`bench teardown: ${err.message}`));
  };

  try {
    log(`starting Temporal, PostgreSQL and Redis in ${dir}`);
    const [temporal, postgres, redis] = await startTogether([
      startTemporal({ dataDir: join(dir, 'temporal'), port: await freePort(), sqlitePragmas: options.sqlitePragmas }),
      startPostgres({ dataDir: join(dir, 'postgres'), port: await freePort() }),
      startRedis({ dataDir: join(dir, 'redis'), port: await freePort(), appendOnly: true }),
    ] as const);
    stops.push(() => temporal.stop(), () => postgres.stop(), () => redis.stop());
    const servers = childrenByName();
    await migrate(postgres.url);

    const taskQueue = `bench-${randomUUID()}`;
    const apiPort = await freePort();
    const env = {
      ...process.env,
      ...secrets,
      NODE_ENV: 'development',
      DATABASE_URL: postgres.url,
      REDIS_URL: redis.url,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: taskQueue,
      PORT: String(apiPort),
      WORKER_METRICS_PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_CALLER: '0',
      RATE_LIMIT_PER_IP: '0',
      // The bench measures the scripted responder; a model endpoint would measure the model.
      RESPONDER_URL: '',
    };
    const profile = options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(options.cpuProfileDir)}`] : [];
    const children: Proc[] = ['worker', 'api'].map((name) =>
      spawnPrefixed(name, process.execPath, [...profile, '--import', 'tsx', `${name}/main.ts`], { cwd: root, env, echo: true, quietStop: true }),
    );
    stops.push(() => Promise.all(children.map((child) => stopProcess(child))).then(() => undefined));
    const crashed = Promise.race(
      children.map((child) =>
        child.exited.then((code) => {
          throw new Error(stopped ? 'stopped' : `${child.name} exited (${code}):\n${child.output()}`);
        }),
      ),
    );
    crashed.catch(() => undefined);

    const apiUrl = `http://127.0.0.1:${apiPort}`;
    log('waiting for the worker to poll and the API to answer');
    const connection = await Connection.connect({ address: temporal.address });
    try {
      await waitUntil('the product worker to poll its task queue', () => hasPoller(connection, taskQueue), { proc: children[0], timeoutMs: 120_000, intervalMs: 250 });
    } finally {
      await connection.close();
    }
    await waitUntil('the API to answer /readyz', async () => ((await fetch(`${apiUrl}/readyz`)).ok ? true : undefined), {
      proc: children[1],
      timeoutMs: 60_000,
      intervalMs: 250,
    });

    const group = (name: string) => servers.get(name) ?? -1;
    return {
      apiUrl,
      databaseUrl: postgres.url,
      temporalAddress: temporal.address,
      taskQueue,
      groups: {
        temporal: group('temporal'),
        postgres: group('postgres'),
        redis: group('redis-server'),
        worker: children[0].child.pid ?? -1,
        api: children[1].child.pid ?? -1,
      },
      crashed,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** True once a worker polls the task queue for workflow tasks. */
export async function hasPoller(connection: Connection, taskQueue: string): Promise<true | undefined> {
  const { pollers } = await connection.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue } });
  return pollers?.length ? true : undefined;
}
